"""REST routes of the evidence service's documented domain (`/v1`)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/v1")
