#!/usr/bin/env bash
# make setup: idempotent. Installs what is missing: PostgreSQL + PostGIS (Debian packages),
# the virtual environment and the Python packages, the map pages' browser assets (npm), and
# Chromium for the browser tests (Debian package).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
updated=""
apt_update_once() {  # the package lists are fetched once per run, whatever installs
  [ -n "$updated" ] || apt-get update -q
  updated=1
}

have_postgis() {
  for control in /usr/share/postgresql/*/extension/postgis.control; do
    [ -e "$control" ] || continue
    version=$(basename "$(dirname "$(dirname "$control")")")
    [ -x "/usr/lib/postgresql/$version/bin/initdb" ] && return 0
  done
  return 1
}

if ! have_postgis; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing PostgreSQL and PostGIS (Debian packages)"
    export DEBIAN_FRONTEND=noninteractive
    apt_update_once
    apt-get install -y -q --no-install-recommends postgresql postgresql-contrib
    version=$(ls /usr/lib/postgresql | sort -n | tail -n 1)
    apt-get install -y -q --no-install-recommends "postgresql-$version-postgis-3"
  else
    echo "setup: PostgreSQL with PostGIS is missing. Install it, e.g. on Debian/Ubuntu:" >&2
    echo "  sudo apt-get install postgresql postgresql-contrib postgresql-15-postgis-3" >&2
    echo "or point DATABASE_URL=postgresql+psycopg://… at an existing PostGIS." >&2
    [ -n "${DATABASE_URL:-}" ] || exit 1
  fi
fi

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$PYTHON" -m venv .venv
fi
stamp=".venv/.installed-$(cat pyproject.toml | sha1sum | cut -c1-12)"
if [ ! -f "$stamp" ]; then
  echo "setup: installing Python packages"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[dev]'
  rm -f .venv/.installed-*
  touch "$stamp"
fi
# The map pages' scripts, styles and fonts (package.json, pinned by package-lock.json): the
# service serves them itself, as the command center has no internet.
can_apt() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; }
if ! command -v npm >/dev/null; then
  if can_apt; then
    echo "setup: installing Node.js and npm (Debian packages)"
    export DEBIAN_FRONTEND=noninteractive
    apt_update_once
    apt-get install -y -q --no-install-recommends nodejs npm
  else
    echo "setup: npm is missing (the map pages' assets come from the npm registry)." >&2
    echo "  Install Node.js with npm, e.g. on Debian/Ubuntu: sudo apt-get install nodejs npm" >&2
    exit 1
  fi
fi
npm_stamp="node_modules/.installed-$(sha1sum package-lock.json | cut -c1-12)"
if [ ! -f "$npm_stamp" ]; then
  echo "setup: installing the map pages' browser assets (npm ci)"
  # npm ci starts from an empty node_modules, so an old stamp goes with it
  npm ci --no-audit --no-fund --ignore-scripts
  touch "$npm_stamp"
fi

# The browser tests drive Debian's Chromium (never a browser downloaded by Playwright); a CJK
# font lets it draw the pages' Chinese.
if [ ! -x /usr/bin/chromium ]; then
  if can_apt; then
    echo "setup: installing Chromium (Debian package) for the browser tests"
    export DEBIAN_FRONTEND=noninteractive
    apt_update_once
    apt-get install -y -q --no-install-recommends chromium fonts-wqy-microhei
  else
    echo "setup: Chromium is missing; the browser tests need /usr/bin/chromium:" >&2
    echo "  sudo apt-get install chromium fonts-wqy-microhei" >&2
  fi
fi
# The always-on cluster (`gis-service cluster`, `make cluster`, its fail-over tests): Debian's
# etcd, Patroni, HAProxy and pgBackRest. Installed with services kept from starting
# (policy-rc.d): the project runs its own daemons on ports of its own.
if ! command -v patroni >/dev/null || ! command -v etcd >/dev/null \
   || ! [ -x /usr/sbin/haproxy ] || ! command -v pgbackrest >/dev/null; then
  if can_apt; then
    echo "setup: installing etcd, Patroni, HAProxy and pgBackRest (Debian packages)"
    export DEBIAN_FRONTEND=noninteractive
    made_policy=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
      made_policy=1
    fi
    apt_update_once
    apt-get install -y -q --no-install-recommends patroni etcd-server etcd-client haproxy \
      pgbackrest
    [ -z "$made_policy" ] || rm -f /usr/sbin/policy-rc.d
  else
    echo "setup: the always-on cluster needs Debian's etcd, Patroni, HAProxy and pgBackRest:" >&2
    echo "  sudo apt-get install patroni etcd-server etcd-client haproxy pgbackrest" >&2
  fi
fi
echo "setup: ready"
