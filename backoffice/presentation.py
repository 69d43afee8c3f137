"""One way to write what pages, exports and commands show: a time with its zone, a count, a
person, a CSV cell.

Selectors return data (datetimes, ints, ids); the wording lives here and in the template tags
that call it (``backoffice/templatetags/present.py``), so a time reads the same on every page.

Times are written in the active time zone: the staff member's own choice, activated for each
request by ``backoffice.middleware.StaffTimeZoneMiddleware`` (the settings' ``TIME_ZONE`` before
anyone chose), and always with the zone's abbreviation, so nobody has to guess it.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import html
import re
import zoneinfo
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.http import HttpResponse
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe

MISSING = "—"
# A cell starting with one of these runs as a formula in a spreadsheet (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# The same rule for a text column a COPY writes, where Python never sees the cell: prefix a quote.
# The expression is evaluated once (a name's subquery runs once per row). {column} is an
# expression the exporter builds from its own constants, never user input.
# Where an email may break: before its "@" and before each dot.
EMAIL_BREAKS = re.compile(r"(?=[@.])")
FORMULA_SAFE_SQL = r"regexp_replace({column}, '^([-=+@\t\r])', '''\1')"
# The same rule for a plain column reference, which may be read three times: a CASE on its
# first character costs a fraction of the regular expression over millions of rows.
FORMULA_SAFE_COLUMN_SQL = (
    r"CASE WHEN left({column}, 1) IN ('=', '+', '-', '@', E'\t', E'\r') "
    r"THEN '''' || {column} ELSE {column} END"
)


# --- links ---------------------------------------------------------------------------------


def fixed_url(name: str) -> str:
    """``reverse(name)`` for a URL without arguments, worked out once per process.

    Every page's header, breadcrumbs and report menu name the same dozen or more URLs; Django's
    ``{% url %}`` reverses each on every page. Keyed on the script prefix and URLconf too, so a
    deployment under a path prefix, or a test with its own URLconf, gets its own answers.
    """
    return _fixed_url(get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF, name)


@functools.lru_cache(maxsize=1024)
def _fixed_url(prefix: str, urlconf: str, name: str) -> str:
    return reverse(name, urlconf=urlconf)


# --- HTML ----------------------------------------------------------------------------------


def escaped(value: object) -> str:
    """``conditional_escape`` without Django's lazy-string wrapper around ``escape``: HTML that
    is already safe (``__html__``) as it is, anything else escaped exactly as Django escapes it
    (``html.escape`` with quotes). For the explorers' hand-written rows and widgets, where the
    wrapper was most of the cost of a thousand cells a page; the caller marks the whole safe."""
    if hasattr(value, "__html__"):
        return str(value.__html__())
    return html.escape(str(value))


# --- times ---------------------------------------------------------------------------------


@functools.cache
def zone_names() -> set[str]:
    """Every IANA zone name this machine knows, plus UTC (read once, on first use)."""
    return zoneinfo.available_timezones() | {"UTC"}


def active_zone_name() -> str:
    """The zone times are shown and typed in for this request (what labels say)."""
    return timezone.get_current_timezone_name()


def when(
    value: dt.datetime | None,
    *,
    seconds: bool = False,
    date_only: bool = False,
    zone: dt.tzinfo | None = None,
) -> str:
    """``2026-12-03 14:05 JST``: a time in the active zone (or ``zone``), with its abbreviation."""
    if value is None:
        return MISSING
    if value.utcoffset() is not None:  # aware: shown in the zone asked for, or the active one
        local = value.astimezone(zone or timezone.get_current_timezone())
    else:
        local = value
    if date_only:
        return local.strftime("%Y-%m-%d")
    shape = "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M"
    return f"{local.strftime(shape)} {local.tzname() or active_zone_name()}"


def when_utc(value: dt.datetime | None) -> str:
    """The same instant in UTC, ISO 8601: for ``<time datetime>`` and tooltips."""
    if value is None:
        return ""
    return value.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def when_html(value: dt.datetime | None, *, relative: bool = True, seconds: bool = False) -> str:
    """``when`` in a ``<time>`` element (its tooltip the UTC instant), how long ago beside it."""
    if value is None:
        return MISSING
    shown = format_html(
        '<time datetime="{}" title="{}">{}</time>',
        when_utc(value),
        when_utc(value),
        when(value, seconds=seconds),
    )
    if not relative:
        return shown
    return format_html('{} <span class="ago">({})</span>', shown, ago(value))


# (from how many seconds, the unit's seconds, its name)
UNITS = (
    (86400 * 365, 86400 * 365, "year"),
    (86400, 86400, "day"),
    (3600, 3600, "hour"),
    (60, 60, "min"),
)
# Up to two days in hours: "47 h" reads better than "1 d" in a health column.
COMPACT_UNITS = ((2 * 86400, 86400, "d"), (3600, 3600, "h"), (60, 60, "min"))


def ago(value: dt.datetime | None, now: dt.datetime | None = None, *, compact: bool = False) -> str:
    """How long ago (or how soon) ``value`` is, in the largest whole unit: ``3 min ago``
    (``compact``: ``3 h ago``, for narrow columns)."""
    if value is None:
        return ""
    now = now or timezone.now()
    seconds = (now - value).total_seconds()
    future = seconds < 0
    seconds = abs(seconds)
    if seconds < 60:
        return "just now" if not future else "in under a minute"
    units = COMPACT_UNITS if compact else UNITS
    for threshold, size, unit in units:
        if seconds >= threshold:
            amount = int(seconds // size)
            plural_s = amount != 1 and not compact and unit != "min"
            words = f"{amount} {unit}" + ("s" if plural_s else "")
            return f"in {words}" if future else f"{words} ago"
    raise AssertionError("unreachable: 60 seconds or more matched a unit")


# --- counts --------------------------------------------------------------------------------

# Nouns whose plural is not the noun plus "s"; the rest take an "s".
IRREGULAR_PLURALS = {
    "entry": "entries",
    "person": "people",
    "query": "queries",
    "match": "matches",
    "address": "addresses",
}


def plural(noun: str, amount: int) -> str:
    """``noun`` for one, its plural for any other amount (``entry``, ``entries``)."""
    if amount == 1:
        return noun
    return IRREGULAR_PLURALS.get(noun, noun + "s")


def count(amount: Any, noun: str) -> str:
    """``1 entry``, ``10,121 entries``; a capped count (``1,000+``) as it writes itself."""
    if amount is None:
        return MISSING
    if isinstance(amount, int) and not isinstance(amount, bool):
        return f"{amount:,} {plural(noun, amount)}"
    return f"{amount} {plural(noun, 2)}"


# --- people --------------------------------------------------------------------------------


def breakable(email: str) -> str:
    """An address that breaks only before its "@" and its dots, never inside a word (HTML).

    Each piece stays on one line (``.email-part`` is ``nowrap`` in ``backoffice/header.css``,
    so neither a narrow column's ``overflow-wrap`` nor a hyphen splits it); ``<wbr>`` marks the
    only places a line may end. The whole address is the element's tooltip.
    """
    if not email:
        return email
    pieces = "<wbr>".join(
        f'<span class="email-part">{escaped(piece)}</span>' for piece in EMAIL_BREAKS.split(email)
    )
    return mark_safe(f'<span class="email" title="{escaped(email)}">{pieces}</span>')  # noqa: S308 - escaped


# --- CSV -----------------------------------------------------------------------------------


def formula_safe(value: Any) -> Any:
    """A CSV cell a spreadsheet shows as text: a leading formula character gets a quote."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def formula_safe_sql(column: str, *, plain_column: bool = False) -> str:
    """``formula_safe`` for a text column of a ``COPY``'s SELECT (the database writes the cell).

    ``plain_column``: ``column`` is a column reference (``log."action"``), cheap to read more
    than once; any other expression (a name's subquery) is evaluated once, by the regexp form.
    """
    template = FORMULA_SAFE_COLUMN_SQL if plain_column else FORMULA_SAFE_SQL
    return template.format(column=column)


def csv_response(
    filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]]
) -> HttpResponse:
    """A CSV download every cell of which is formula-safe, never cached."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    writer = csv.writer(response)
    writer.writerow([formula_safe(name) for name in header])
    for row in rows:
        writer.writerow([formula_safe(value) for value in row])
    return response
