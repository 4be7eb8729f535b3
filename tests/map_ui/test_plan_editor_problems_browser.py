"""The plan editor draws every validation problem where it is: a sliver of 0.05 m², a hair
on the map, is marked at its place, and the marker leads to the problem in the list."""

from __future__ import annotations

from pathlib import Path

import httpx
import shapely
from playwright.sync_api import expect
from sqlalchemy.orm import Session

from gis_service.auth import service as auth_service
from gis_service.plans.drafts import create_plan
from tests.gis_service.plans.test_impact import set_shapes
from tests.map_ui.browser import ARTIFACTS, chromium_page
from tests.map_ui.test_plan_editor_browser import PASSWORD, box_of, sign_in_to_editor, valid
from tests.town import X0, X1, Y0, Y1

SPIKE_X = 120.4075  # three quarters along T-A-1's north edge
SPIKE_HALF_BASE = 0.00001  # ~1 m either side
SPIKE_HEIGHT = 0.05 / 111_320.0  # 5 cm into T-A-2


def spiked_grid() -> shapely.Polygon:
    """T-A-1 with a spike 5 cm into T-A-2: a sliver overlap of about 0.05 m²."""
    return shapely.Polygon([(X0, Y0), (X1, Y0), (X1, Y1), (SPIKE_X + SPIKE_HALF_BASE, Y1),
                            (SPIKE_X, Y1 + SPIKE_HEIGHT), (SPIKE_X - SPIKE_HALF_BASE, Y1),
                            (X0, Y1)])


def test_a_tiny_sliver_is_marked_where_it_is(live_server: str, town: dict[str, Path],
                                             db_session: Session) -> None:
    auth_service.add_account(db_session, username="guihua", role="planner", password=PASSWORD)
    token = auth_service.issue_token(db_session, username="guihua")
    # written straight into the draft (the editor's own edits snap such a spike away), before
    # the service is asked anything
    plan = create_plan(db_session, owner="guihua", name="碎片")
    set_shapes(db_session, plan, {"T-A-1": spiked_grid()})
    db_session.commit()
    with httpx.Client(base_url=live_server,
                      headers={"Authorization": f"Bearer {token}"}) as api:
        (problem,) = api.get(f"/api/v1/plans/{plan.id}/validation").json()["problems"]
        assert (problem["type"], problem["grids"]) == ("sliver", ["T-A-1", "T-A-2"])
        assert 0.01 < problem["area_m2"] < 0.1
        lon, lat = problem["location"]
        assert abs(lon - SPIKE_X) < SPIKE_HALF_BASE and Y1 <= lat <= Y1 + SPIKE_HEIGHT

        with chromium_page() as (page, traffic):
            sign_in_to_editor(page, live_server, plan.id)
            valid(page, False)
            item = page.locator(".pe-problem-item[data-type=sliver]")
            expect(item).to_have_count(1)
            expect(item).to_contain_text(f"碎片 T-A-1、T-A-2 · {problem['area_m2']:.2f} m²")
            # the sliver's own shape is drawn, but at the town's zoom it is a speck of its
            # outline's stroke, lost among the grids' lines
            shape = page.locator("path.pe-problem-sliver").bounding_box()
            assert shape is not None and max(shape["width"], shape["height"]) <= 5, shape
            # the marker is where the sliver is: three quarters along T-A-1's north edge
            marker = page.locator("path.pe-problem-marker-sliver")
            expect(marker).to_have_count(1)
            expect(marker).to_be_visible()
            spot = marker.bounding_box()
            assert spot is not None and spot["width"] >= 12, spot
            grid = box_of(page, "T-A-1")
            centre = (spot["x"] + spot["width"] / 2, spot["y"] + spot["height"] / 2)
            expected = (grid["x"] + grid["width"] * (SPIKE_X - X0) / (X1 - X0), grid["y"])
            assert abs(centre[0] - expected[0]) < 3 and abs(centre[1] - expected[1]) < 3, (
                centre, expected)
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "plan-editor-sliver.png"))
            # the marker leads to the problem: listed, focused, the map zoomed onto it
            marker.click()
            expect(page.locator(".pe-problem-item.pe-focused[data-type=sliver]")).to_have_count(1)
            expect(marker).to_have_class(
                "pe-problem-marker pe-problem-marker-sliver pe-problem-marker-0 "
                "leaflet-interactive pe-focused")
            expect(page.locator("path.pe-grid-T-A-1")).not_to_be_in_viewport(ratio=0.9)

    assert traffic.outside(live_server) == []
    assert traffic.bad_responses == [] and traffic.failed == [] and traffic.errors == []
