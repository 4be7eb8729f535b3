"""Three network namespaces on a bridge, so a cluster's members sit at three addresses as on
three machines, and one can be cut off the network (its link set down) and healed.

    bridge gisbr0 169.254.77.1/24 (the host: HAProxy, the service)
    gis-m1 169.254.77.11, gis-m2 .12, gis-m3 .13 (one member's etcd, Patroni, PostgreSQL each)

Link-local addresses: nothing outside this machine is ever addressed. Needs root."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

BRIDGE, NETWORK, HOST_ADDRESS = "gisbr0", "169.254.77.0/24", "169.254.77.1"


def _ip(*args: str, check: bool = True) -> None:
    subprocess.run(["ip", *args], check=check, capture_output=True)


def host_link(index: int) -> str:
    """The host side of member `index`'s cable (1-based)."""
    return f"gis-m{index}-h"


@contextmanager
def namespaces(count: int = 3) -> Iterator[list[tuple[str, str]]]:
    """(address, namespace) per member; everything removed afterwards."""
    teardown(count)  # leftovers of an interrupted run
    _ip("link", "add", BRIDGE, "type", "bridge")
    _ip("addr", "add", f"{HOST_ADDRESS}/24", "dev", BRIDGE)
    _ip("link", "set", BRIDGE, "up")
    places = []
    for index in range(1, count + 1):
        name, address = f"gis-m{index}", f"169.254.77.{10 + index}"
        _ip("netns", "add", name)
        _ip("link", "add", host_link(index), "type", "veth", "peer", "name", "eth0",
            "netns", name)
        _ip("link", "set", host_link(index), "master", BRIDGE, "up")
        _ip("-n", name, "addr", "add", f"{address}/24", "dev", "eth0")
        _ip("-n", name, "link", "set", "eth0", "up")
        _ip("-n", name, "link", "set", "lo", "up")
        places.append((address, name))
    try:
        yield places
    finally:
        teardown(count)


def cut(index: int) -> None:
    """Member `index` loses the network: etcd peers, the other members, HAProxy, clients."""
    _ip("link", "set", host_link(index), "down")


def heal(index: int) -> None:
    _ip("link", "set", host_link(index), "up")


def teardown(count: int = 3) -> None:
    for index in range(1, count + 1):
        name = f"gis-m{index}"
        pids = subprocess.run(["ip", "netns", "pids", name], capture_output=True, text=True)
        for pid in pids.stdout.split():
            subprocess.run(["kill", "-9", pid], check=False)
        _ip("netns", "del", name, check=False)
        _ip("link", "del", host_link(index), check=False)
    _ip("link", "del", BRIDGE, check=False)
