#!/usr/bin/env bash
# make setup: idempotent. Installs what is missing: PostgreSQL + PostGIS (Debian packages),
# the virtual environment and the Python packages.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}

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
    apt-get update -q
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
echo "setup: ready"
