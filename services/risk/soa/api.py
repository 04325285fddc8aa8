"""REST routes of the risk service's soa domain."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/v1")
