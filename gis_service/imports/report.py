"""The outcome of an import: the problems found, or what was stored."""

from __future__ import annotations

from dataclasses import dataclass, field

from grid_layers.validation import Problem


def row_problem(kind: str, label: str, message: str) -> Problem:
    """A problem with one row of an input file (no geometry, no area)."""
    return Problem(kind, (label,), 0.0, None, message)


@dataclass
class ImportReport:
    """Problems (the file was rejected whole) or counts of what was stored."""

    kind: str
    source: str
    rows: int
    problems: list[Problem] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    checked_only: bool = False

    @property
    def accepted(self) -> bool:
        return not self.problems

    def lines(self) -> list[str]:
        """Human-readable lines: one per problem, or a summary of what was stored."""
        if self.problems:
            out = [f"{self.source}: rejected, {len(self.problems)} problem(s); nothing stored"]
            for p in self.problems:
                where = f" at {p.location[0]:.6f},{p.location[1]:.6f}" if p.location else ""
                out.append(f"  {p.type}  [{', '.join(p.grids)}]  {p.area_m2:.1f} m²{where}  "
                           f"{p.message}")
            return out
        verb = "valid, nothing stored (--check)" if self.checked_only else "imported"
        counts = ", ".join(f"{n} {what}" for what, n in self.counts.items())
        return [f"{self.source}: {self.rows} {self.kind} row(s) {verb}"
                + (f": {counts}" if counts and not self.checked_only else "")]
