"""Fixtures for the real-browser tests: Debian's chromium driven by Playwright against live_server.

``playwright install`` downloads its own browsers, which neither CI nor the development
machines may do, so the tests launch the system's ``/usr/bin/chromium``. A missing chromium
fails the tests rather than skipping them: a skipped browser suite looks green and proves nothing.

Set ``BROWSER_SCREENSHOTS`` to a directory to keep a screenshot of every step the tests name
(see ``snap``), and of the page of any browser test that fails.
"""

import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright

from tests.browser.steps import snap

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# The people the product serves read Japanese: the browser asks for it, as theirs would.
BROWSER_LOCALE = "ja-JP"
BROWSER_TIMEZONE = "Asia/Tokyo"
# Long enough for a slow CI machine, short enough that a missing element fails the test quickly.
ACTION_TIMEOUT_MS = 15_000


# Package scope: one Playwright and one chromium for all of tests/browser, both stopped before
# the rest of the suite runs. While Playwright runs, its sync API marks an asyncio loop as
# running in the test thread; a session-wide browser would leave that so for every later test.
@pytest.fixture(scope="package")
def playwright_driver():
    """Start Playwright; Django's async-safety check is off only while it runs.

    With an event loop marked running in the thread, every ORM call from a test would raise
    SynchronousOnlyOperation. DJANGO_ALLOW_ASYNC_UNSAFE is Django's documented way out;
    nothing here is actually asynchronous.
    """
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as driver:
            yield driver
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="package")
def browser(playwright_driver):
    """Launch Debian's headless chromium once for all the browser tests."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests drive Debian's chromium "
            "(apt-get install chromium). `playwright install` is not used.",
            pytrace=False,
        )
    launched = playwright_driver.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )
    yield launched
    launched.close()


@pytest.fixture
def media_root(settings, tmp_path):
    """Store uploaded evidence under the test's own directory, not in the project's var/."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    # Keep each phase's report on the test so that ``page`` can tell whether the test failed.
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


class BrowserProblems:
    """What went wrong in the browser without failing a step: script errors, missing assets."""

    def __init__(self):
        self.script_errors: list[str] = []
        self.asset_failures: list[str] = []

    def watch(self, page: Page) -> None:
        page.on("pageerror", lambda error: self.script_errors.append(str(error)))
        page.on("response", self._on_response)
        page.on("requestfailed", lambda request: self._on_asset(request.url, request.failure or "failed"))

    def _on_response(self, response) -> None:
        if response.status >= 400:
            self._on_asset(response.url, str(response.status))

    def _on_asset(self, url: str, problem: str) -> None:
        if "/static/" in url:
            self.asset_failures.append(f"{url}: {problem}")


@pytest.fixture
def page(request, browser, live_server, media_root):
    """Open a fresh browser context (no cookies, Japanese locale) on the live server.

    The test fails afterwards if a page threw a script error or a stylesheet or script
    could not be loaded: both break the UI while every assertion on text may still pass.
    """
    context = browser.new_context(
        base_url=live_server.url,
        locale=BROWSER_LOCALE,
        timezone_id=BROWSER_TIMEZONE,
        viewport={"width": 1280, "height": 900},
    )
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    opened = context.new_page()
    problems = BrowserProblems()
    problems.watch(opened)
    yield opened
    call_report = getattr(request.node, "report_call", None)
    if call_report is not None and call_report.failed:
        snap(opened, f"FAILED-{request.node.name}")
    context.close()
    assert not problems.script_errors, f"Script errors in the browser: {problems.script_errors}"
    assert not problems.asset_failures, f"Static files did not load: {problems.asset_failures}"
