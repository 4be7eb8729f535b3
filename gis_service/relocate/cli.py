"""`gis-service relocate`: the command's options read into a run (the command in cli.py only
hands them over). Exit 0 = done, 1 = stopped by a boundary change during the run, 2 = bad
input (a time, a file, options), 3 = no dask scheduler answers."""

from __future__ import annotations

import sys
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.orm import Session

from gis_service.errors import ConflictError, DomainError
from gis_service.relocate import service
from gis_service.relocate.runner import (
    InProcess,
    OnDask,
    Runner,
    SchedulerUnreachableError,
    dask_client,
)
from gis_service.relocate.sources import PointFile
from gis_service.timeutil import aware

EXIT_CODES: tuple[tuple[type[DomainError], int], ...] = (
    (SchedulerUnreachableError, 3), (ConflictError, 1), (DomainError, 2))


class CommandError(Exception):
    """A refusal with the command's exit code."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def parse_at(value: str | None) -> datetime:
    """`--at` as an aware moment (ISO 8601; without a zone, China time); now when absent."""
    if value is None:
        return datetime.now(UTC)
    try:
        moment = aware(datetime.fromisoformat(value))
    except ValueError as exc:
        raise CommandError(f"--at {value!r} is not an ISO time (e.g. 2026-11-01T08:00+08:00)",
                           2) from exc
    assert moment is not None
    return moment


def run(session: Session, *, at: str | None, input_path: Path | None, output: Path | None,
        scheduler: str | None, workers: int | None, dry_run: bool,
        batch_size: int) -> service.Relocated:
    """Check the options, then re-attribute; a refusal raises CommandError."""
    moment = parse_at(at)
    if scheduler is not None and workers is not None:
        raise CommandError("--scheduler and --workers go apart: a scheduler has its workers", 2)
    if (workers is not None and workers < 1) or batch_size < 1:
        raise CommandError("--workers and --batch-size must be at least 1", 2)
    if output is not None and dry_run:
        raise CommandError("--dry-run writes nothing: leave out --output", 2)
    if output is not None and not output.parent.is_dir():
        raise CommandError(f"cannot write {output}: no folder {output.parent}", 2)
    try:
        points_file = PointFile.open(input_path) if input_path is not None else None
        boundaries = service.boundaries_at(session, moment)
        with ExitStack() as stack:
            runner: Runner = InProcess()
            if scheduler is not None or workers is not None:
                runner = OnDask(stack.enter_context(
                    dask_client(scheduler=scheduler, workers=workers)))
            return service.relocate(session, runner=runner, boundaries=boundaries,
                                    points_file=points_file, output=output, dry_run=dry_run,
                                    now=datetime.now(UTC), batch_size=batch_size,
                                    progress=sys.stderr.isatty())
    except DomainError as exc:
        code = next(code for kind, code in EXIT_CODES if isinstance(exc, kind))
        raise CommandError(exc.detail, code) from exc
