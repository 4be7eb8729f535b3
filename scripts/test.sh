#!/usr/bin/env bash
# make test: lint, type-check, then the whole suite against a real PostGIS.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/ruff check gis_service grid_layers map_ui tests bench alembic data
.venv/bin/mypy
.venv/bin/mypy data  # the demo town's builder (a script, not a package)
.venv/bin/python -m pytest "$@"
