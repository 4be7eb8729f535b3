"""The OGC tests use the recent incidents of the page tests and the real service on a loopback
port, taking one request at a time (tests/map_ui/fixtures.py)."""

from tests.map_ui.fixtures import incidents, live_server  # noqa: F401
