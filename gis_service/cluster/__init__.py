"""The always-on cluster: three PostgreSQL + PostGIS members under Patroni (leader election in
a three-member etcd, streaming replication with one synchronous standby), HAProxy with a write
port and a read port routed by Patroni's REST checks, and pgBackRest archiving the leader's WAL
for point-in-time restore. Everything comes from Debian's packages; this package only writes
their configuration, starts and stops them, and reads their state (`gis-service cluster`).

    layout.py   where each member lives: addresses, ports, folders (kept in cluster.json)
    files.py    the configuration files of etcd, Patroni, HAProxy and pgBackRest
    daemons.py  starting and stopping the daemons as the `postgres` user
    control.py  up, down, status, url
    backups.py  pgBackRest: stanza, full backup, restore to a moment
"""
