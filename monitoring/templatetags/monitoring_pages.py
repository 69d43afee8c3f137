"""Template tags for the back office's own pages and the way analytics numbers are written."""

from __future__ import annotations

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
