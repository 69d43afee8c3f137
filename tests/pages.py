"""What a page says to the person who opened it, not only its status code.

A test that checks only the status passes on an empty body, a generic error page or the wrong
message. These assertions pin the exact status and the text a person reads. The refusal and
not-found texts live here once, so a change of the error pages is a change of one line.
"""

from __future__ import annotations

import re
from html import unescape
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the test client's response: an HttpResponse with context and templates
    from django.test.client import _MonkeyPatchedWSGIResponse as TestResponse

# The back office's own error pages (backoffice/errors.py).
REFUSED = "<h1>You cannot open this page</h1>"
NOT_FOUND = "<h1>Page not found</h1>"
# What a page must never show, whatever its status.
GENERIC_ERRORS = ("Server Error (500)", "Traceback (most recent call last)", "Bad Request (400)")


def assert_page_says(response: TestResponse, status: int, *texts: str) -> str:
    """Assert the exact status, a non-empty body without a generic error, and every ``texts``.

    Returns the page's HTML for further checks.
    """
    assert response.status_code == status, (
        f"{response.status_code}, expected {status}: {_visible(response)[:300]!r}"
    )
    html = response.content.decode()
    assert html.strip(), "the page is empty"
    for generic in GENERIC_ERRORS:
        assert generic not in html, f"a generic error page: {generic!r}"
    for text in texts:
        assert text in html, f"{text!r} is not on the page: {_visible(response)[:600]!r}"
    return html


def assert_refused(response: TestResponse) -> str:
    """A 403 that renders the refusal."""
    return assert_page_says(response, 403, REFUSED)


def assert_not_found(response: TestResponse) -> str:
    """A 404 that renders the not-found page."""
    return assert_page_says(response, 404, NOT_FOUND)


def messages_on(response: TestResponse) -> list[str]:
    """The messages (``django.contrib.messages``) the page shows, as text."""
    html = response.content.decode()
    found = re.findall(r'<li class="(?:error|warning|info|success)">(.*?)</li>', html, re.S)
    return [unescape(re.sub(r"<[^>]+>", "", message)).strip() for message in found]


def heading_of(response: TestResponse) -> str:
    """The text of the page's first ``<h1>``, or "" when it has none."""
    match = re.search(r"<h1[^>]*>(.*?)</h1>", response.content.decode(), re.S)
    return unescape(re.sub(r"<[^>]+>", "", match.group(1))).strip() if match else ""


def _visible(response: TestResponse) -> str:
    if getattr(response, "streaming", False):
        return "<streaming>"
    html = response.content.decode(errors="replace")
    html = re.sub(r"(?s)<(script|style|head)\b.*?</\1>", "", html)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def unoffered_filter(value: str, title: str) -> str:
    """The message of a list given a filter value its sidebar does not offer (then cleared)."""
    return (
        f"“{value}” is not a {title} this list offers, so that filter was cleared: "
        "pick one from the list on the right."
    )
