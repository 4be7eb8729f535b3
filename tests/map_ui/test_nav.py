"""The bar of links between the pages: each role sees the pages it may open, and every page
route that guards itself agrees (the bar reads the same rules)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from map_ui import nav

EVERY = ["wall", "dispatch", "plans", "weekly", "monthly", "league", "assessment", "worker"]


@pytest.mark.parametrize(("role", "pages"), [
    ("admin", ["wall", "dispatch", "plans", "weekly", "monthly", "league", "assessment"]),
    ("commander", ["wall", "dispatch", "plans", "weekly", "monthly", "league", "assessment"]),
    ("dispatcher", ["wall", "dispatch", "weekly", "monthly", "league", "assessment"]),
    ("planner", ["wall", "plans", "weekly", "monthly", "league", "assessment"]),
    ("grid_worker", ["wall", "weekly", "monthly", "assessment", "worker"]),
    ("squad", ["wall", "weekly", "monthly", "worker"]),
    ("department", ["wall", "weekly", "monthly", "worker"]),
    ("team", ["wall", "weekly", "monthly", "worker"]),
])
def test_each_role_sees_the_pages_it_may_open(role: str, pages: list[str]) -> None:
    assert [link.key for link in nav.links_for(role)] == pages
    assert set(pages) <= set(EVERY)


def test_the_bar_marks_the_current_page_and_escapes_the_user() -> None:
    bar = nav.nav_html("dispatcher", "dispatch", username="<b>甲</b>")
    assert 'href="/dispatch" data-page="dispatch" aria-current="page">调度台</a>' in bar
    assert bar.count("aria-current") == 1
    assert "调度员：&lt;b&gt;甲&lt;/b&gt;" in bar and "<b>" not in bar
    assert bar.startswith('<link rel="stylesheet" href="/static/map_ui/nav.css">')


@pytest.mark.parametrize("role", ["dispatcher", "planner", "grid_worker", "squad"])
def test_the_bar_has_no_dead_links_and_leaves_out_what_is_refused(
        client: TestClient, town: object, token_for: Callable[[str], dict[str, str]],
        role: str) -> None:
    """Every page in the bar opens for the role; the guarded pages it leaves out (console,
    plans, assessment) are refused to it. The phone page is offered to field roles only."""
    token = token_for(role)["Authorization"].removeprefix("Bearer ")
    assert client.post("/login", data={"token": token}).status_code == 200
    shown = {link.key for link in nav.links_for(role)}
    for link in nav.LINKS:
        answer = client.get(link.href, follow_redirects=False)
        if link.key in shown:
            assert answer.status_code == 200, (role, link.href, answer.status_code)
        elif link.key != "worker":
            assert answer.status_code == 403, (role, link.href, answer.status_code)
