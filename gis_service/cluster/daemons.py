"""Starting and stopping the cluster's daemons. They run as the `postgres` user (PostgreSQL
refuses root; the others need no more), in a session of their own so they outlive the
command that started them, each logging to run/<name>.log. A pid file keeps the pid and the
process's start time, so a pid reused by an unrelated process is never signalled."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

from gis_service.cluster.layout import Layout, Member, owner_ids

# Patroni and the others are Debian's, run by Debian's Python: the service's virtualenv and
# the caller's Python settings must not leak into them.
CLEAN_ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}


def _start_time(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def pid_file(layout: Layout, name: str) -> Path:
    return layout.run_dir / f"{name}.pid"


def running_pid(layout: Layout, name: str) -> int | None:
    """The pid of daemon `name` when it still runs (the very process that was started)."""
    path = pid_file(layout, name)
    if not path.exists():
        return None
    pid_text, _, started = path.read_text().partition(" ")
    pid = int(pid_text)
    return pid if _start_time(pid) == started.strip() else None


def start(layout: Layout, name: str, command: list[str], member: Member | None = None) -> int:
    """Start daemon `name` unless it runs; its pid."""
    pid = running_pid(layout, name)
    if pid is not None:
        return pid
    ids = owner_ids()
    if member is not None and member.netns:
        # into the member's namespace first (needs root), then down to the postgres user
        command = ["ip", "netns", "exec", member.netns, "setpriv", "--reuid=postgres",
                   "--regid=postgres", "--init-groups", *command]
        user = None
    else:
        user = ids[0] if ids else None
    cwd = layout.member_dir(member) if member else layout.root
    with open(layout.run_dir / f"{name}.log", "ab") as log:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log,
                                   stderr=subprocess.STDOUT, cwd=cwd, env=CLEAN_ENV,
                                   user=user, start_new_session=True)
    # `ip netns exec` and `setpriv` exec the daemon, so the pid is the daemon's own
    pid_file(layout, name).write_text(f"{process.pid} {_start_time(process.pid)}\n")
    return process.pid


def stop(layout: Layout, name: str, timeout: float = 30.0) -> None:
    """SIGTERM, then SIGKILL after `timeout` seconds; nothing when it does not run."""
    pid = running_pid(layout, name)
    if pid is None:
        pid_file(layout, name).unlink(missing_ok=True)
        return
    signal_pid(pid, signal.SIGTERM)
    if not wait_gone(pid, timeout):
        signal_pid(pid, signal.SIGKILL)
        wait_gone(pid, 5.0)
    pid_file(layout, name).unlink(missing_ok=True)


def signal_pid(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def wait_gone(pid: int, timeout: float) -> bool:
    """True once `pid` has exited (and been reaped, when it is our child)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            finished, _ = os.waitpid(pid, os.WNOHANG)
            if finished == pid:
                return True
        except ChildProcessError:
            pass  # not our child: look at /proc instead
        state = _state(pid)
        if state is None or state == "Z":
            return True
        time.sleep(0.1)
    return False


def _state(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def postmaster_pid(layout: Layout, member: Member) -> int | None:
    """The member's PostgreSQL server process, when it runs."""
    path = layout.data_dir(member) / "postmaster.pid"
    try:
        pid = int(path.read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return None
    return pid if _state(pid) not in (None, "Z") else None


def stop_postmaster(layout: Layout, member: Member, timeout: float = 60.0) -> None:
    """Stop a member's PostgreSQL left running (Patroni starts it in a session of its own, so
    a Patroni that died leaves it up): a fast shutdown, then SIGKILL."""
    pid = postmaster_pid(layout, member)
    if pid is None:
        return
    signal_pid(pid, signal.SIGINT)  # PostgreSQL's fast shutdown
    if not wait_gone(pid, timeout):
        signal_pid(pid, signal.SIGKILL)
        wait_gone(pid, 5.0)
