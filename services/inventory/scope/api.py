"""REST routes of the inventory's scope domain."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/v1")
