"""REST routes of the risk service's impact domain."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/v1")
