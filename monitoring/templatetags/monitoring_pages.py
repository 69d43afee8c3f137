"""Template tags for the back office's own pages and the way analytics numbers are written."""

from __future__ import annotations

from decimal import Decimal
from itertools import groupby
from typing import Any

from django import template

from monitoring.pages import pages_for

register = template.Library()


@register.simple_tag(takes_context=True)
def backoffice_pages(context: dict[str, Any]) -> list[tuple[str, list[Any]]]:
    """The pages the signed-in actor may open, grouped by section."""
    request = context.get("request")
    pages = pages_for(getattr(request, "actor", None))
    return [(section, list(items)) for section, items in groupby(pages, key=lambda p: p.section)]


@register.filter
def percent(ratio: float | None, digits: int = 1) -> str:
    """A ratio (0..1) as a percentage; an em dash when there is no value."""
    if ratio is None:
        return "—"
    return f"{ratio * 100:.{digits}f}%"


@register.filter
def ms(value: float | None) -> str:
    """A duration in milliseconds, one decimal; an em dash when there is no value."""
    if value is None:
        return "—"
    return f"{value:,.1f} ms"


@register.filter
def thousands(value: Any) -> str:
    """A count with thousands separators (``10,121``), like the charts; an em dash when none.

    Anything that is not a number (a capped count such as ``1,000+``) is shown as it writes
    itself.
    """
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float | Decimal):
        return f"{value:,.0f}"
    return str(value)
