"""End-to-end tests in a real Chromium (Debian's package) driven by Playwright.

Browser downloads fail on this network, so Playwright drives ``/usr/bin/chromium``; `dev.py test`
installs it with apt-get where it is missing. Without it these tests are skipped with the reason
printed in the summary (``-ra``), never silently.

The live server commits for real; tests/conftest.py empties the contract's tables afterwards.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator, Mapping

import pytest

DEFAULT_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def find_chromium(environ: Mapping[str, str] = os.environ) -> tuple[str | None, str]:
    """The Chromium to launch, or None and why none: what is checked is what is launched.

    ``CHROMIUM_PATH`` names it exactly (and nothing else is tried when it is wrong); without it,
    Debian's ``/usr/bin/chromium``, then a ``chromium`` on ``PATH``.
    """
    chosen = environ.get("CHROMIUM_PATH")
    if chosen:
        if os.path.isfile(chosen) and os.access(chosen, os.X_OK):
            return chosen, ""
        return None, f"CHROMIUM_PATH={chosen} is not an executable file"
    if os.path.isfile(DEFAULT_CHROMIUM) and os.access(DEFAULT_CHROMIUM, os.X_OK):
        return DEFAULT_CHROMIUM, ""
    on_path = shutil.which("chromium", path=environ.get("PATH"))
    if on_path:
        return on_path, ""
    return None, f"Chromium not found at {DEFAULT_CHROMIUM} nor as chromium on PATH"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def _browser() -> Iterator[object]:
    chromium, missing = find_chromium(os.environ)
    if chromium is None:
        pytest.skip(
            f"{missing}: install Debian's chromium package (python3 dev.py test does) "
            "or set CHROMIUM_PATH to run browser tests"
        )
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's own database
    # access is still synchronous, which Django would otherwise refuse.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=chromium, headless=True, args=CHROMIUM_ARGS
            )
            yield browser
            browser.close()
    finally:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


@pytest.fixture
def page(_browser, live_server, transactional_db) -> Iterator[object]:
    """A fresh browser page; ``page.base_url`` is the live server's address."""
    context = _browser.new_context(base_url=live_server.url, accept_downloads=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.base_url = live_server.url
    try:
        yield page
    finally:
        context.close()


def sign_in(page, email: str, password: str, *, code: str | None = None) -> None:
    """Sign in through the real admin login form, then type the second-factor code when asked:
    ``code``, or the one the staff member's authenticator app would show now."""
    from tests.conftest import totp_code, totp_device_of

    page.goto("/admin/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", password)
    page.click("input[type=submit]")
    page.wait_for_load_state()
    if "/security/second-factor/" in page.url and "/enrol/" not in page.url:
        page.fill("input[name=code]", code or totp_code(totp_device_of(email)))
        page.get_by_role("button", name="Confirm", exact=True).click()
        page.wait_for_load_state()
