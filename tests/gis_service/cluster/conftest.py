"""A real three-member cluster (etcd, Patroni, HAProxy, pgBackRest from Debian), brought up
once for these tests by `gis-service cluster up`'s own code and purged afterwards."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from gis_service.cluster import control
from gis_service.cluster.layout import Layout


def cluster_processes(root: Path) -> list[psutil.Process]:
    """Processes whose command line names the cluster's folder (etcd, Patroni, PostgreSQL,
    HAProxy, pgBackRest)."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        if any(str(root) in part for part in process.info["cmdline"] or []):
            found.append(process)
    return found


@pytest.fixture(scope="package")
def cluster() -> Iterator[tuple[Path, Layout]]:
    """(the service home, the cluster's layout)."""
    home = Path(tempfile.mkdtemp(prefix="gis-cluster-"))
    home.chmod(0o755)  # the daemons run as postgres
    layout = None
    try:
        layout = control.up(home, print)
        yield home, layout
    finally:
        control.down(home, print, purge=True)
        shutil.rmtree(home, ignore_errors=True)
        if layout is not None:
            left = cluster_processes(layout.root)
            assert not left, f"still running after `cluster down`: {left}"
