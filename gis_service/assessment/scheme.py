"""The scoring scheme as data: weights and targets per item, weights per event category
(Guanlin's differentiated assessment: environmental and safety matters found weigh more)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

DEFAULT_SCHEME = Path(__file__).resolve().parent / "scheme.json"


class SchemeError(ValueError):
    """The scheme file cannot be read or does not fit the format."""


class Item(BaseModel):
    """A scored item: `weight` points at or above `target`, pro rata below it. An item with
    nothing to measure (no tracks, no closed events, no spot checks) earns nothing: missing
    data is never full marks."""

    model_config = ConfigDict(extra="forbid")

    label: str
    weight: float = Field(ge=0)
    target: float = Field(gt=0)

    @model_validator(mode="before")
    @classmethod
    def _no_points_for_nothing(cls, data: Any) -> Any:
        if isinstance(data, dict) and "when_none" in data:
            raise ValueError("`when_none` is no more: an item with nothing to measure earns "
                             "nothing; remove it from the scheme")
        return data


class Penalty(BaseModel):
    """A deduction: `per_return` points for each return, at most `cap` in a month."""

    model_config = ConfigDict(extra="forbid")

    label: str
    per_return: float = Field(ge=0)
    cap: float = Field(ge=0)


class Scheme(BaseModel):
    """The whole scheme; the best total is the sum of the items' weights."""

    model_config = ConfigDict(extra="forbid")

    name: str
    coverage: Item
    days_active: Item
    events_found: Item
    closure_on_time: Item
    spot_checks: Item
    returns: Penalty
    category_weights: dict[str, float] = Field(default_factory=dict)
    default_category_weight: float = Field(default=1.0, ge=0)

    def category_weight(self, category: str | None) -> float:
        """How much one event of `category` found on patrol counts."""
        return self.category_weights.get(category or "", self.default_category_weight)

    def best_total(self) -> float:
        """The most points a worker can earn."""
        return (self.coverage.weight + self.days_active.weight + self.events_found.weight
                + self.closure_on_time.weight + self.spot_checks.weight)


def load_scheme(path: Path | None) -> Scheme:
    """The scheme in `path` (the packaged default when None), re-read when the file changes."""
    chosen = path or DEFAULT_SCHEME
    try:
        stamp = chosen.stat().st_mtime_ns
    except OSError as exc:
        raise SchemeError(f"assessment scheme {chosen}: {exc.strerror}") from exc
    return _parse(str(chosen), stamp)


@lru_cache(maxsize=8)
def _parse(path: str, _stamp: int) -> Scheme:
    try:
        return Scheme.model_validate(json.loads(Path(path).read_text(encoding="utf-8")))
    except (ValueError, ValidationError) as exc:
        raise SchemeError(f"assessment scheme {path} is not valid: {exc}") from exc
