"""Where an explorer page stands among its pages: keyset cursors, the page number, the links.

Pages are keyset pages (``audit.selectors.PageCursor``): a link carries the cursor of the row
it continues from, never an offset, so a page deep in tens of millions of rows costs what the
first one does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, QueryDict

from audit.filters import PAGE_PARAMETERS
from audit.selectors import InvalidCursor, PageCursor
from backoffice import presentation

MAX_PAGE_NUMBER = 10**9


@dataclass(frozen=True)
class PagePosition:
    """Where a page starts: after ``cursor`` (older rows) or before ``newer_than`` (newer rows).

    ``number`` only labels the page; the cursors alone decide its rows.
    """

    cursor: PageCursor | None = None
    newer_than: PageCursor | None = None
    number: int = 1


def page_position(request: HttpRequest) -> PagePosition:
    """The page the URL asks for: ``cursor`` (Older) or ``newer`` (Newer), and its number."""
    older, newer = request.GET.get("cursor", ""), request.GET.get("newer", "")
    number = request.GET.get("page", "1") or "1"
    if not re.fullmatch(r"[0-9]{1,10}", number) or not 1 <= int(number) <= MAX_PAGE_NUMBER:
        raise InvalidCursor("This page number is not valid.")
    if older and newer:
        raise InvalidCursor("This page link is malformed.")
    if older:
        return PagePosition(cursor=PageCursor.parse(older), number=max(int(number), 2))
    if newer:
        return PagePosition(newer_than=PageCursor.parse(newer), number=max(int(number), 2))
    return PagePosition()


def total_text(estimate: int, rows: list[dict[str, Any]], more_than_one_page: bool) -> str:
    if not more_than_one_page:
        return presentation.count(len(rows), "entry")
    return f"about {max(estimate, len(rows)):,} entries (estimate)"


def filter_query_string(request: HttpRequest) -> str:
    """The page's filters, without its place in the pages."""
    return _filters_only(request).urlencode()


def paging_query(request: HttpRequest, direction: str, cursor: PageCursor, number: int) -> str:
    """The same filters, on the page ``direction`` ("cursor" or "newer") of ``cursor``."""
    query = _filters_only(request)
    query[direction] = cursor.token
    query["page"] = str(number)
    return query.urlencode()


def _filters_only(request: HttpRequest) -> QueryDict:
    query = request.GET.copy()
    for name in PAGE_PARAMETERS:
        query.pop(name, None)
    return query
