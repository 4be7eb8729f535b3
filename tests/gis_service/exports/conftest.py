"""The export tests use the recent incidents of the page tests."""

from tests.map_ui.fixtures import incidents  # noqa: F401
