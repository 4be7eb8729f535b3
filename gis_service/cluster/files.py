"""The configuration of each daemon, written from the layout. Values that matter are explained
here once; README "Production: always on" shows the same files for three machines."""

from __future__ import annotations

from pathlib import Path

import yaml

from gis_service.cluster.layout import DATABASE, SCOPE, Layout, Member
from gis_service.embedded_pg import RANDOM_PAGE_COST, pg_program

# Patroni's timing. The default ttl of 30 s (loop 10 s, retry 10 s) puts writes back 30–40 s
# after a leader is cut off; 20/5/5 brings that to ~20–26 s and keeps Patroni's own rule
# loop_wait + 2 × retry_timeout ≤ ttl.
TTL, LOOP_WAIT, RETRY_TIMEOUT = 20, 5, 5
# A leader whose PostgreSQL will not come back within this many seconds is failed over (in
# synchronous mode a failover loses nothing acknowledged, so there is no reason to wait long).
PRIMARY_START_TIMEOUT = 15
# HAProxy's read port skips a replica this far behind the leader (the service's pages accept
# a little lag, not minutes).
READ_MAX_LAG = "16MB"


def etcd_command(layout: Layout, member: Member) -> list[str]:
    """etcd for one member: a static three-member cluster. Heartbeat and election timeout are
    raised from 100/1000 ms: on a busy two-core machine disk stalls would otherwise call
    elections for nothing."""
    peers = ",".join(f"{m.name}=http://{m.host}:{m.etcd_peer_port}" for m in layout.members)
    return [
        "/usr/bin/etcd", "--name", member.name, "--data-dir", str(layout.etcd_dir(member)),
        "--listen-client-urls", f"http://{member.host}:{member.etcd_client_port}",
        "--advertise-client-urls", f"http://{member.host}:{member.etcd_client_port}",
        "--listen-peer-urls", f"http://{member.host}:{member.etcd_peer_port}",
        "--initial-advertise-peer-urls", f"http://{member.host}:{member.etcd_peer_port}",
        "--initial-cluster", peers, "--initial-cluster-state", "new",
        "--initial-cluster-token", f"gis-{layout.token}",
        "--logger", "zap", "--log-outputs", "stderr", "--log-level", "warn",
        "--heartbeat-interval", "200", "--election-timeout", "2000",
        "--auto-compaction-mode", "revision", "--auto-compaction-retention", "1000",
        "--enable-v2=true",  # Patroni's `etcd` section (see patroni_config)
    ]


def patroni_file(layout: Layout, member: Member) -> Path:
    return layout.member_dir(member) / "patroni.yml"


def pgbackrest_file(layout: Layout, member: Member | None = None) -> Path:
    """A member's own pgBackRest file (its archive_command names it), or the cluster's."""
    return layout.backup_dir / f"{member.name if member else 'cluster'}.conf"


def haproxy_file(layout: Layout) -> Path:
    return layout.root / "haproxy.cfg"


def post_bootstrap_file(layout: Layout) -> Path:
    return layout.root / "post_bootstrap.sh"


def patroni_config(layout: Layout, member: Member) -> dict[str, object]:
    """Patroni's configuration for one member."""
    subnets = sorted({"127.0.0.1/32", layout.client_net} | {f"{m.host}/32" for m in layout.members})
    backrest = f"/usr/bin/pgbackrest --config={pgbackrest_file(layout, member)} --stanza={SCOPE}"
    return {
        "scope": SCOPE,
        "namespace": "/gis-service/",
        "name": member.name,
        "log": {"level": "INFO"},
        "restapi": {"listen": f"{member.host}:{member.rest_port}",
                    "connect_address": f"{member.host}:{member.rest_port}"},
        # etcd's v2 protocol, not etcd3: Debian's Patroni 3.0.2 renews the leader key over
        # etcd3 with a plain write, not a compare-and-swap (fixed in Patroni 3.0.3,
        # patroni/patroni#2693), so a leader cut off the network took the key back from its
        # successor when the network returned (seen in bench_failover's cut). Over v2 the
        # renewal is conditional on still holding the key.
        "etcd": {"hosts": ",".join(f"{m.host}:{m.etcd_client_port}" for m in layout.members)},
        "watchdog": {"mode": "off"},  # no /dev/watchdog here
        "bootstrap": {
            # written to etcd once and shared by every member
            "dcs": {
                "ttl": TTL, "loop_wait": LOOP_WAIT, "retry_timeout": RETRY_TIMEOUT,
                "maximum_lag_on_failover": 1048576,
                "primary_start_timeout": PRIMARY_START_TIMEOUT,
                # an acknowledged commit is on two servers; strict: with no standby left, a
                # commit waits for one rather than being acknowledged from one copy
                "synchronous_mode": True, "synchronous_mode_strict": True,
                "synchronous_node_count": 1,
                "check_timeline": True,
                "postgresql": {
                    "use_pg_rewind": True, "use_slots": True,
                    "remove_data_directory_on_rewind_failure": True,
                    "remove_data_directory_on_diverged_timelines": True,
                    "parameters": {
                        "wal_level": "replica", "hot_standby": "on",
                        "max_connections": 200, "max_wal_senders": 10,
                        "max_replication_slots": 10, "wal_keep_size": "256MB",
                        "max_slot_wal_keep_size": "2GB",  # a dead member cannot fill the disk
                        "hot_standby_feedback": "on",  # fewer cancelled reads on replicas
                        "archive_mode": "on",
                        "archive_timeout": 60,  # a quiet cluster still archives a minute's WAL
                        "shared_buffers": "128MB",  # three servers share one small machine
                        "work_mem": "32MB",
                        "random_page_cost": RANDOM_PAGE_COST,
                    },
                },
            },
            "initdb": [{"encoding": "UTF8"}, {"locale": "C.UTF-8"}, "data-checksums"],
            "pg_hba": [],  # postgresql.pg_hba below replaces the file
            "post_bootstrap": str(post_bootstrap_file(layout)),
        },
        "postgresql": {
            "listen": f"{member.host}:{member.pg_port}",
            "connect_address": f"{member.host}:{member.pg_port}",
            "data_dir": str(layout.data_dir(member)),
            "bin_dir": str(Path(pg_program("pg_ctl")).parent),
            "pgpass": str(layout.member_dir(member) / "pgpass"),
            "authentication": {
                "superuser": {"username": "postgres",
                              "password": layout.passwords["superuser"]},
                "replication": {"username": "replicator",
                                "password": layout.passwords["replication"]},
                "rewind": {"username": "rewinder", "password": layout.passwords["rewind"]},
            },
            # the members' own addresses only, as the embedded server trusts loopback only;
            # on three machines: scram-sha-256 and the passwords above (README)
            "pg_hba": ["local all all trust"]
                      + [f"host all all {net} trust" for net in subnets]
                      + [f"host replication replicator {net} trust" for net in subnets],
            "parameters": {
                "unix_socket_directories": str(layout.socket_dir(member)),
                "archive_command": f"{backrest} archive-push %p",
            },
            "recovery_conf": {"restore_command": f'{backrest} archive-get %f "%p"'},
            "basebackup": {"checkpoint": "fast"},  # a new replica does not wait for a checkpoint
        },
        "tags": {"nofailover": False, "noloadbalance": False, "clonefrom": False,
                 "nosync": False},
    }


def post_bootstrap_script() -> str:
    """Run by Patroni once, on the first leader, with a superuser URL: the service's database
    (the migrations then add the extensions and tables through the write port)."""
    return ("#!/bin/sh\nset -eu\n"
            f'{pg_program("psql")} -v ON_ERROR_STOP=1 -d "$1" -c "CREATE DATABASE {DATABASE}"\n')


def haproxy_config(layout: Layout) -> str:
    """The write port goes to whichever member answers /primary; the read port to replicas
    that answer /replica within READ_MAX_LAG, and to the leader when none does (reads never
    stop). A member marked down has its sessions cut, so clients see a disconnect in ~2 s
    rather than hanging on a dead or cut-off server."""
    servers = "\n".join(
        f"    server {m.name} {m.host}:{m.pg_port} check port {m.rest_port}"
        for m in layout.members)
    checks = "    default-server inter 1s fall 2 rise 1 on-marked-down shutdown-sessions\n"
    return f"""global
    maxconn 1000
    stats socket {layout.root}/haproxy.sock mode 600 level admin

defaults
    mode tcp
    retries 2
    timeout connect 2s
    timeout client 30m
    timeout server 30m
    timeout check 1s

frontend gis_write
    bind 127.0.0.1:{layout.write_port}
    default_backend gis_primary

frontend gis_read
    bind 127.0.0.1:{layout.read_port}
    use_backend gis_replicas if {{ nbsrv(gis_replicas) gt 0 }}
    default_backend gis_primary

backend gis_primary
    option httpchk
    http-check send meth OPTIONS uri /primary
    http-check expect status 200
{checks}{servers}

backend gis_replicas
    balance leastconn
    option httpchk
    http-check send meth OPTIONS uri /replica?lag={READ_MAX_LAG}
    http-check expect status 200
{checks}{servers}

listen stats
    mode http
    bind 127.0.0.1:{layout.stats_port}
    stats enable
    stats uri /
"""


def pgbackrest_config(layout: Layout, member: Member | None = None) -> str:
    """pgBackRest's file. A member's own file names only its data folder, because
    archive-push checks that the WAL it is given comes from there; the cluster's file names
    all three, so backup and check find the leader themselves."""
    backup = layout.backup_dir
    lines = ["[global]", f"repo1-path={backup / 'repo'}", "repo1-retention-full=2",
             f"lock-path={backup / 'lock'}", f"log-path={backup / 'log'}",
             f"spool-path={backup / 'spool'}", "log-level-console=warn", "log-level-file=info",
             "compress-type=lz4", "archive-timeout=30", "start-fast=y", "", f"[{SCOPE}]"]
    for index, m in enumerate([member] if member else list(layout.members), start=1):
        lines += [f"pg{index}-path={layout.data_dir(m)}", f"pg{index}-port={m.pg_port}",
                  f"pg{index}-socket-path={layout.socket_dir(m)}", f"pg{index}-user=postgres"]
    return "\n".join(lines) + "\n"


def write_all(layout: Layout) -> None:
    """Every configuration file (rewritten at each `up`, so they follow the code)."""
    for member in layout.members:
        path = patroni_file(layout, member)
        path.write_text(yaml.safe_dump(patroni_config(layout, member), sort_keys=False,
                                       allow_unicode=True))
        path.chmod(0o600)  # the passwords
        pgbackrest_file(layout, member).write_text(pgbackrest_config(layout, member))
    pgbackrest_file(layout).write_text(pgbackrest_config(layout))
    haproxy_file(layout).write_text(haproxy_config(layout))
    script = post_bootstrap_file(layout)
    script.write_text(post_bootstrap_script())
    script.chmod(0o755)
