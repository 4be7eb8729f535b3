"""The page tests use the service tests' fixtures and their own (tests/map_ui/fixtures.py)."""

from tests.gis_service.conftest import (  # noqa: F401
    admin_token,
    auth,
    client,
    token_for,
    town,
    town_files,
)
from tests.map_ui.fixtures import incidents, live_server  # noqa: F401
