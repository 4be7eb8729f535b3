"""The links between the pages, in one place: a small bar of the pages the signed-in role may
open (the wall, the console, plans, reports, assessment, the phone page), and the roles'
names as the pages say them (the same words as static/labels.js; a browser test holds the two
equal). Who may open a page is read from the rule that guards it, not written again here."""

from __future__ import annotations

import html
from dataclasses import dataclass

from gis_service.auth.models import ROLE_NAMES
from gis_service.auth.permissions import CENTER, HANDLERS, OVERSEERS, PLAN_READERS, Role
from map_ui.assets import OWN_URL


@dataclass(frozen=True)
class Link:
    """A page in the bar: its key, its words, where it is, and who may open it (None: all)."""

    key: str
    label: str
    href: str
    roles: frozenset[str] | None = None


LINKS = (
    Link("wall", "一张图", "/"),
    Link("dispatch", "调度台", "/dispatch", frozenset(CENTER)),
    Link("plans", "边界方案", "/plans", PLAN_READERS),
    Link("weekly", "周报", "/reports/weekly"),
    Link("monthly", "月报", "/reports/monthly"),
    Link("league", "各镇排名", "/reports/league", frozenset(OVERSEERS)),
    Link("assessment", "考核", "/assessment", frozenset(OVERSEERS | {Role.GRID_WORKER})),
    Link("worker", "手机端", "/worker", frozenset(HANDLERS | {Role.TEAM})),
)


def role_name(role: str) -> str:
    """A role in words ("调度员"), or as written when it has none."""
    return ROLE_NAMES.get(role, role)


def links_for(role: str) -> list[Link]:
    """The pages a role may open, in the bar's order."""
    return [link for link in LINKS if link.roles is None or role in link.roles]


def nav_html(role: str, current: str = "", *, username: str | None = None) -> str:
    """The bar as HTML (its stylesheet linked with it, so one insertion does): the pages the
    role may open, the current one marked, and who is signed in."""
    items = "".join(
        f'<a class="gis-nav-link" href="{link.href}" data-page="{link.key}"'
        + (' aria-current="page"' if link.key == current else "") + f">{link.label}</a>"
        for link in links_for(role))
    who = (f'<span class="gis-nav-user">{html.escape(role_name(role))}：'
           f"{html.escape(username)}</span>" if username else "")
    return (f'<link rel="stylesheet" href="{OWN_URL}/nav.css">'
            f'<nav class="gis-nav" aria-label="页面导航">{items}{who}</nav>')
