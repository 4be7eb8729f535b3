"""The outcome of an import: the problems found, or what was stored, and any repairs made."""

from __future__ import annotations

from dataclasses import dataclass, field

from grid_layers.repair import Repair
from grid_layers.validation import Problem


def row_problem(kind: str, label: str, message: str) -> Problem:
    """A problem with one row of an input file (no geometry, no area)."""
    return Problem(kind, (label,), 0.0, None, message)


def _where(location: tuple[float, float] | None) -> str:
    return f" at {location[0]:.6f},{location[1]:.6f}" if location else ""


@dataclass
class ImportReport:
    """Problems (the file was rejected whole) or counts of what was stored."""

    kind: str
    source: str
    rows: int
    problems: list[Problem] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    checked_only: bool = False
    repairs: list[Repair] = field(default_factory=list)  # made before validation (--repair)
    repairable: list[bool] | None = None  # without --repair: which problems it would clear

    @property
    def accepted(self) -> bool:
        return not self.problems

    def lines(self) -> list[str]:
        """Human-readable lines: repairs made, then one per problem or a summary of what
        was stored."""
        out = [f"{self.source}: {len(self.repairs)} repair(s) within the tolerance"
               if self.repairs else ""]
        for r in self.repairs:
            out.append(f"  {r.kind}  [{', '.join(r.grids)}]  {r.area_m2:.1f} m²  "
                       f"shift {r.shift_m:.2f} m{_where(r.location)}  {r.message}")
        out = [line for line in out if line]
        if self.problems:
            out.append(f"{self.source}: rejected, {len(self.problems)} problem(s); "
                       "nothing stored")
            marks = self.repairable or [False] * len(self.problems)
            for p, mark in zip(self.problems, marks, strict=True):
                # an area only where the problem has one (a gap, an overlap), not a bad row
                area = f"  {p.area_m2:.1f} m²" if p.area_m2 else ""
                out.append(f"  {p.type}  [{', '.join(p.grids)}]{area}"
                           f"{_where(p.location)}  {p.message}"
                           + ("  (repairable)" if mark else ""))
            if any(marks):
                out.append(f"repairable with --repair: {sum(marks)} of {len(self.problems)}")
            return out
        verb = "valid, nothing stored (--check)" if self.checked_only else "imported"
        counts = ", ".join(f"{n} {what}" for what, n in self.counts.items())
        out.append(f"{self.source}: {self.rows} {self.kind} row(s) {verb}"
                   + (f": {counts}" if counts and not self.checked_only else ""))
        return out
