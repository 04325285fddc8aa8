"""REST routes of the inventory's components domain."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/v1")
