"""The plan editor at `/plans/{id}/edit`: a thin page route (HTML from a pure builder)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
