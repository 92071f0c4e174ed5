"""Steps the browser tests share: logging in and out, screenshots, checking the stylesheet."""

import os
import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.factories import DEFAULT_PASSWORD

# The login page answers the browser's Japanese; these are its words.
LOGIN_HEADING = "RightsDesk にログイン"


def snap(page: Page, name: str) -> None:
    """Save a full-page screenshot to $BROWSER_SCREENSHOTS, when it is set."""
    directory = os.environ.get("BROWSER_SCREENSHOTS")
    if not directory:
        return
    Path(directory).mkdir(parents=True, exist_ok=True)
    safe_name = re.sub(r"[^\w.-]+", "_", name)
    page.screenshot(path=str(Path(directory) / f"{safe_name}.png"), full_page=True)


def log_in(page: Page, user, *, password: str = DEFAULT_PASSWORD) -> None:
    """Log in through the login page, in Japanese; the user's own language takes over after."""
    page.goto("/login/")
    expect(page.get_by_role("heading", name=LOGIN_HEADING)).to_be_visible()
    snap(page, "login")
    page.get_by_label("メールアドレス").fill(user.email)
    page.get_by_label("パスワード").fill(password)
    page.get_by_role("button", name="ログイン", exact=True).click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def log_out(page: Page) -> None:
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name=LOGIN_HEADING)).to_be_visible()


def stylesheet_applied(page: Page) -> bool:
    """Return whether the project's stylesheet loaded and has rules (not a 404 or an empty file)."""
    return page.evaluate(
        """() => [...document.styleSheets].some(
            (sheet) => sheet.href && sheet.href.includes("/static/css/app.css") && sheet.cssRules.length > 0
        )"""
    )
