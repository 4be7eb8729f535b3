"""Where the cluster's members live. Chosen at the first `cluster up` and kept in
`cluster.json`, so later commands (and a restart) find the same ports and folders.

Every member runs its etcd, its Patroni and its PostgreSQL at one address: loopback on one
machine (members told apart by port), or a network namespace's address when a test cuts a
member off the network (the same layout as three machines). HAProxy and the service stay on
the host and reach the members at those addresses."""

from __future__ import annotations

import json
import os
import pwd
import secrets
import socket
from dataclasses import asdict, dataclass, field
from pathlib import Path

from gis_service.embedded_pg import EmbeddedCluster

SCOPE = "gis"  # Patroni's cluster name, the key prefix in etcd, pgBackRest's stanza
DATABASE = "gis"


@dataclass(frozen=True)
class Member:
    """One machine's share: an etcd member, a Patroni, a PostgreSQL."""

    name: str  # also the replication slot's name: [a-z0-9_]
    host: str  # the address its daemons listen on and advertise
    pg_port: int
    rest_port: int  # Patroni's REST API
    etcd_client_port: int
    etcd_peer_port: int
    netns: str | None = None  # the network namespace it runs in (tests that cut the network)


@dataclass(frozen=True)
class Layout:
    """The whole cluster: its members, HAProxy's ports, the folder it all lives in."""

    root: Path
    members: tuple[Member, ...]
    write_port: int
    read_port: int
    stats_port: int
    token: str  # etcd's initial-cluster token: two clusters on one machine never mix
    passwords: dict[str, str] = field(default_factory=dict)  # superuser, replication, rewind
    # where HAProxy and the service connect from, besides loopback (a bridge's network when
    # the members sit in network namespaces)
    client_net: str = "127.0.0.1/32"

    @property
    def file(self) -> Path:
        return self.root / "cluster.json"

    def member_dir(self, member: Member) -> Path:
        return self.root / member.name

    def data_dir(self, member: Member) -> Path:
        return self.member_dir(member) / "data"

    def socket_dir(self, member: Member) -> Path:
        return self.member_dir(member) / "run"

    def etcd_dir(self, member: Member) -> Path:
        return self.root / "etcd" / member.name

    @property
    def run_dir(self) -> Path:
        """Pid files and logs of the daemons."""
        return self.root / "run"

    @property
    def backup_dir(self) -> Path:
        return self.root / "backup"

    def member(self, name: str) -> Member:
        for member in self.members:
            if member.name == name:
                return member
        raise KeyError(name)

    def write_url(self) -> str:
        """Writes, and reads that must see them: HAProxy's write port (the leader).
        `target_session_attrs` refuses a member demoted a moment ago; `connect_timeout` keeps a
        cut member from holding a connection attempt for libpq's default two minutes."""
        return (f"postgresql+psycopg://postgres@127.0.0.1:{self.write_port}/{DATABASE}"
                "?target_session_attrs=read-write&connect_timeout=2")

    def read_url(self) -> str:
        """Reads that may lag a little: HAProxy's read port (the replicas, else the leader)."""
        return (f"postgresql+psycopg://postgres@127.0.0.1:{self.read_port}/{DATABASE}"
                "?connect_timeout=2")

    def save(self) -> None:
        data = asdict(self)
        data["root"] = str(self.root)
        self.file.write_text(json.dumps(data, indent=2) + "\n")
        self.file.chmod(0o600)  # the passwords


def cluster_root(home: Path) -> Path:
    """`cluster/` beside the embedded server's files: under the home, or under /var/tmp when
    the `postgres` user cannot reach the home (a clone under /root)."""
    return EmbeddedCluster(home).server_dir / "cluster"


def load(home: Path) -> Layout | None:
    """The layout saved by an earlier `cluster up`, or None."""
    path = cluster_root(home) / "cluster.json"
    if not path.exists():
        return None
    data = json.loads(path.read_text())
    members = tuple(Member(**member) for member in data.pop("members"))
    return Layout(root=Path(data.pop("root")), members=members, **data)


def new(home: Path, *, size: int = 3, hosts: list[tuple[str, str | None]] | None = None,
        client_net: str = "127.0.0.1/32") -> Layout:
    """A fresh layout: `size` members on loopback, or at the given (address, namespace)s
    reached from `client_net`."""
    places = hosts or [("127.0.0.1", None)] * size
    ports = _free_ports(4 * len(places) + 3)
    members = tuple(
        Member(name=f"pg{i + 1}", host=host, netns=netns, pg_port=ports[4 * i],
               rest_port=ports[4 * i + 1], etcd_client_port=ports[4 * i + 2],
               etcd_peer_port=ports[4 * i + 3])
        for i, (host, netns) in enumerate(places))
    return Layout(root=cluster_root(home), members=members, write_port=ports[-3],
                  read_port=ports[-2], stats_port=ports[-1], token=secrets.token_hex(8),
                  passwords={role: secrets.token_urlsafe(18)
                             for role in ("superuser", "replication", "rewind")},
                  client_net=client_net)


def _free_ports(count: int) -> list[int]:
    """Ports free on loopback now, all different (never the daemons' defaults: a system etcd,
    PostgreSQL or HAProxy may hold those)."""
    sockets = []
    try:
        for _ in range(count):
            probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            probe.bind(("127.0.0.1", 0))
            sockets.append(probe)
        return [int(probe.getsockname()[1]) for probe in sockets]
    finally:
        for probe in sockets:
            probe.close()


def owner_ids() -> tuple[int, int] | None:
    """(uid, gid) of the `postgres` user when we are root (the daemons run as it), else None."""
    if os.geteuid() != 0:
        return None
    entry = pwd.getpwnam("postgres")
    return entry.pw_uid, entry.pw_gid
