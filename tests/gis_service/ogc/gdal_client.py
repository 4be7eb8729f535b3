"""GDAL's OAPIF driver (through pyogrio) as a separate process: `python -m
tests.gis_service.ogc.gdal_client URL HEADER_FILE [OPTION=VALUE ...]` prints every layer.

A separate process because pyogrio holds the interpreter lock while GDAL pages through the
features, and the service under test answers from a thread of the test's own process.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio
import pyogrio.raw
import shapely


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    return value if value is None or isinstance(value, int | float | str) else str(value)


def read_all(url: str, header_file: str, options: dict[str, str]) -> dict[str, Any]:
    """Every layer of the OGC API at `url`: its CRS, feature ids, attributes and WKT."""
    pyogrio.set_gdal_config_options({"GDAL_HTTP_HEADER_FILE": header_file})
    source = f"OAPIF:{url}"
    layers = {}
    for name, _ in pyogrio.list_layers(source):
        meta, fids, wkb, columns = pyogrio.raw.read(source, layer=name, return_fids=True,
                                                    **options)
        rows = [dict(zip(meta["fields"], (_plain(c[i]) for c in columns), strict=True))
                for i in range(len(fids))]
        layers[str(name)] = {
            "crs": meta["crs"], "fids": [int(f) for f in fids], "rows": rows,
            "wkt": [None if g is None else shapely.to_wkt(g)
                    for g in shapely.from_wkb(wkb)]}
    return layers


def run(url: str, header_file: Path, **options: str) -> dict[str, Any]:
    """Run `read_all` in a child process and return what it read."""
    args = [f"{k}={v}" for k, v in options.items()]
    done = subprocess.run([sys.executable, "-m", __name__, url, str(header_file), *args],
                          capture_output=True, text=True, timeout=120, check=False,
                          cwd=Path(__file__).parents[3])  # where `tests` imports from
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


if __name__ == "__main__":
    url, header, *pairs = sys.argv[1:]
    print(json.dumps(read_all(url, header, dict(p.split("=", 1) for p in pairs))))
