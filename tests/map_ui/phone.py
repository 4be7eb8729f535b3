"""A phone in Debian's Chromium: a small touch viewport that may use the (emulated) position."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from playwright.sync_api import BrowserContext, Page

from tests.map_ui.browser import Traffic, launch_chromium

PHONE = {"width": 390, "height": 844}  # a common phone's CSS pixels


@contextmanager
def phone_page(lon: float, lat: float) -> Iterator[tuple[Page, BrowserContext, Traffic]]:
    """A fresh headless phone page allowed to read its position, which starts at lon/lat
    (move it with `context.set_geolocation`); its traffic is recorded."""
    with launch_chromium() as browser:
        context = browser.new_context(
            viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
            locale="zh-CN", timezone_id="Asia/Shanghai", permissions=["geolocation"],
            geolocation={"longitude": lon, "latitude": lat, "accuracy": 5})
        page = context.new_page()
        traffic = Traffic()
        traffic.watch(page)
        yield page, context, traffic


def move_to(context: BrowserContext, lon: float, lat: float) -> None:
    """Put the phone somewhere else."""
    context.set_geolocation({"longitude": lon, "latitude": lat, "accuracy": 5})


def sign_in_on_phone(page: Page, origin: str, username: str, password: str) -> None:
    """Open the phone page, get sent to the sign-in form, sign in, and come back."""
    page.goto(f"{origin}/worker")
    assert page.url == f"{origin}/login?next=/worker"
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{origin}/worker")
