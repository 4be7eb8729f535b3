"""What every benchmark does the same way: a throw-away database and a JSON result file."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from gis_service.embedded_pg import temporary_cluster


@contextmanager
def throwaway_database(durable: bool = False) -> Iterator[str]:
    """DATABASE_URL when set, else a private embedded PostGIS removed afterwards."""
    url = os.environ.get("DATABASE_URL")
    if url:
        yield url
        return
    with temporary_cluster("gis-bench-", durable=durable) as url:
        yield url


def write_json(results: dict[str, Any], path: Path | None) -> None:
    """Write the results where --json says (nothing when it was not given)."""
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(results, indent=2, ensure_ascii=False))
