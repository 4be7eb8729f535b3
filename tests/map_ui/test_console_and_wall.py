"""The console and the wall side by side in one browser: a dispatcher assigns an incident on the
console and the wall, polling on its own, shows it handed on within 5 s."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
from sqlalchemy.orm import Session

from gis_service.auth import service as auth_service
from map_ui import wall_style as style
from tests.map_ui.browser import ARTIFACTS, chromium_page, wait_for_live
from tests.map_ui.test_dispatch_browser import (
    IN_T_A_1,
    PASSWORD,
    open_queue,
    pick,
    post,
    sign_in_to_console,
    succeeded,
)

WAITING, IN_HAND = (style.INCIDENT_GROUPS[0][1], style.INCIDENT_GROUPS[1][1])


def test_the_wall_shows_what_the_console_assigns(live_server: str, town: dict[str, Path],
                                                  auth: dict[str, str],
                                                  db_session: Session) -> None:
    auth_service.add_account(db_session, username="diaodu", role="dispatcher",
                             password=PASSWORD)
    db_session.commit()
    with httpx.Client(base_url=live_server, headers=auth) as api, \
            chromium_page() as (console, traffic):
        # a category the list does not know waits for a dispatcher
        waiting = post(api, "/api/v1/incidents", {
            "source": "hotline_12345", "category": "UFO", "location": IN_T_A_1,
            "address": "西村3号"})
        assert waiting["status"] == "reported"
        sign_in_to_console(console, live_server)
        wall = console.context.new_page()  # the same session, as on a second screen
        traffic.watch(wall)
        wall.goto(f"{live_server}/")
        wait_for_live(wall)
        marker = f"window.wallState.markers[{waiting['id']}]"
        assert wall.evaluate(f"{marker}.item.status") == "reported"
        assert wall.evaluate(f"{marker}.options.color") == WAITING

        open_queue(console, "awaiting")
        pick(console, waiting)
        console.click(".dispatch-suggestion[data-to='grid_worker:W1'] button")
        succeeded(console, f"事件 #{waiting['id']} 已派遣给 张三")
        assigned = time.monotonic()
        wall.wait_for_function(f"{marker}.item.status === 'dispatched'", timeout=5000)
        assert time.monotonic() - assigned < 5
        assert wall.evaluate(f"{marker}.item.assignee") == "grid_worker:W1"
        assert wall.evaluate(f"{marker}.options.color") == IN_HAND
        ARTIFACTS.mkdir(exist_ok=True)
        wall.screenshot(path=str(ARTIFACTS / "wall-after-console.png"))

    assert traffic.outside(live_server) == []
    assert traffic.bad_responses == [] and traffic.failed == [] and traffic.errors == []
