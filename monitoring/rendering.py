"""What every monitoring and analytics page shares: the admin's chrome and the
note that says how fresh a stored analytics result is."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from backoffice.roles import Actor
from backoffice.staff_request import as_staff_request
from monitoring.result_cache import REFRESH_EVERY, Result


def page_context(request: HttpRequest, title: str, **extra: Any) -> dict[str, Any]:
    # read_note: why a page's heavy reads went to the primary instead of the replica.
    return {**admin.site.each_context(request), "title": title, "read_note": None, **extra}


def actor_of(request: HttpRequest) -> Actor:
    """The staff member behind an admin page's request.

    For the admin's hooks, typed with a plain ``HttpRequest``; a page declares ``StaffRequest``.
    """
    return as_staff_request(request).actor


def admin_link(url_name: str, query: str = "") -> str | None:
    """A link to another app's admin page, or None while that page does not exist yet."""
    try:
        return reverse(url_name) + (f"?{query}" if query else "")
    except NoReverseMatch:
        return None


def stamp() -> str:
    return timezone.now().strftime("%Y%m%d-%H%M")


def freshness(source: Result | None) -> dict[str, Any] | None:
    """What the page says about a stored result: data as of when, what computing it cost, and
    whether it was computed while this person waited (the first time) or the refresh is behind."""
    if source is None:
        return None
    return {
        "as_of": source.computed_at,
        "cost_ms": source.cost_ms,
        "cost": f"{source.cost_ms:,.0f} ms",
        "computed_now": source.computed_now,
        "behind": source.behind,
        "refresh_minutes": int(REFRESH_EVERY.total_seconds() // 60),
    }
