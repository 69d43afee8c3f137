"""Template tags for the back office's own pages and the way analytics numbers are written."""

from __future__ import annotations

from decimal import Decimal
from itertools import groupby
from typing import Any

from django import template
from django.utils.safestring import SafeString, mark_safe

from backoffice.presentation import escaped
from monitoring.pages import pages_for

register = template.Library()


@register.simple_tag(takes_context=True)
def backoffice_pages(context: dict[str, Any]) -> list[tuple[str, list[Any]]]:
    """The pages the signed-in actor may open, grouped by section."""
    request = context.get("request")
    pages = pages_for(getattr(request, "actor", None))
    return [(section, list(items)) for section, items in groupby(pages, key=lambda p: p.section)]


def _path(item: Any, path: str) -> Any:
    """``"0.pk"`` of ``(server, label)`` is the server's pk, as ``{{ s.pk }}`` would be."""
    for part in path.split("."):
        item = item[int(part)] if part.isdigit() else getattr(item, part)
    return item


@register.simple_tag
def options(choices: Any, value: str, label: str, selected: Any) -> SafeString:
    """An ``<option>`` per choice (its ``value`` and ``label`` paths, as in a template), the one
    whose value is ``selected`` marked: the trends form lists up to 500 tools and 100 servers,
    which a template loop took tens of milliseconds to render. Escaped as the template would."""
    chosen = "" if selected is None or selected == "" else str(selected)
    parts = []
    for choice in choices:
        shown = str(_path(choice, value))
        mark = " selected" if shown == chosen else ""
        parts.append(
            f'<option value="{escaped(shown)}"{mark}>{escaped(_path(choice, label))}</option>'
        )
    return mark_safe("".join(parts))  # noqa: S308 - every value and label escaped above


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
