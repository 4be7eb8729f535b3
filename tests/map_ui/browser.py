"""Debian's Chromium driven by Playwright, offline: nothing may reach beyond the service."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Request, Response, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
# without the background-networking flags Chromium calls home, an outside request
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"


@dataclass
class Traffic:
    """What a page asked for and what went wrong while it ran."""

    requests: list[str] = field(default_factory=list)
    bad_responses: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def watch(self, page: Page) -> None:
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("response", self._response)
        page.on("requestfailed", self._failed)
        page.on("console", self._console)
        page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))

    def _response(self, response: Response) -> None:
        if response.status >= 400:
            self.bad_responses.append(f"{response.status} {response.url}")

    def _failed(self, request: Request) -> None:
        self.failed.append(f"{request.url}: {request.failure}")

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(f"console: {message.text}")

    def outside(self, origin: str) -> list[str]:
        """Requests that went anywhere but `origin` (inline data: URLs are no request out)."""
        return [url for url in self.requests
                if not (url.startswith(f"{origin}/") or url.startswith("data:"))]


@contextmanager
def launch_chromium() -> Iterator[Browser]:
    """Debian's Chromium, headless and offline; each person gets a context (their own
    cookies) of it."""
    if not CHROMIUM.exists():
        pytest.fail(f"Chromium is missing ({CHROMIUM}): `make setup` installs Debian's "
                    "chromium package (as root), or run `apt-get install chromium`")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                             args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def chromium_page(width: int = 1600, height: int = 900) -> Iterator[tuple[Page, Traffic]]:
    """A fresh headless page in Debian's Chromium, with its traffic recorded."""
    with launch_chromium() as browser:
        context = browser.new_context(viewport={"width": width, "height": height},
                                      locale="zh-CN", timezone_id="Asia/Shanghai")
        page = context.new_page()
        traffic = Traffic()
        traffic.watch(page)
        yield page, traffic


def sign_in(page: Page, origin: str, username: str, password: str) -> None:
    """Open the wall, get sent to the sign-in form, sign in, and wait for the wall."""
    page.goto(f"{origin}/")
    assert page.url == f"{origin}/login?next=/"
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{origin}/")
    page.wait_for_load_state("networkidle")


def live_drawn(page: Page) -> int:
    """Open incidents drawn by the wall's live layer."""
    return page.locator("path.wall-live").count()


def wait_for_live(page: Page) -> None:
    """Wait until the wall's first feed answer is drawn."""
    page.wait_for_function("document.body.dataset.wallCursor !== undefined")
