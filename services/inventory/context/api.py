"""REST routes of the inventory's context domain."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/v1")
