"""Server-side SVG charts: readable at a glance, no JavaScript, no CDN, and safe under our CSP.

Colours come from classes styled in ``monitoring/charts.css`` (no ``style=`` attributes, no
``<style>`` inside the SVG); every label passes through ``format_html`` so a server named
``<script>`` is text, not markup.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from backoffice.presentation import escaped

WIDTH = 720
LABEL_WIDTH = 220
VALUE_WIDTH = 110
BAR_HEIGHT = 18
ROW_GAP = 8
TOP = 8
# 12px labels: about 0.6em per character, enough to keep a right-aligned label inside the SVG.
LABEL_CHAR_WIDTH = 7.2


@dataclass(frozen=True)
class Bar:
    """One bar: ``tone`` picks its colour (``normal``, ``good``, ``warn``, ``bad``, ``muted``)."""

    label: str
    value: float
    display: str
    tone: str = "normal"


@dataclass(frozen=True)
class StackedBar:
    """One bar made of named segments, e.g. a table's heap, index and TOAST bytes."""

    label: str
    segments: Sequence[tuple[str, float]]
    display: str


@dataclass(frozen=True)
class TimelinePoint:
    """One health check: when, how long it took (None when it failed), and its status."""

    at: dt.datetime
    value: float | None
    status: str


def _join(template: str, rows: Iterable[Sequence[object]]) -> SafeString:
    """``format_html_join("", template, rows)`` without Django's lazy-text wrapper around each
    argument, which was most of a trends page's time: its grid and charts draw thousands of
    cells. The same escaping (``tests/monitoring/test_charts.py`` compares the two)."""
    return mark_safe("".join(template.format(*map(escaped, row)) for row in rows))  # noqa: S308


@functools.lru_cache(maxsize=8192)
def _time_label(at: dt.datetime, time_format: str) -> str:
    """A point's or cell's time as a tooltip writes it, escaped: the same hours recur in every
    chart and row of a page (and of the next page)."""
    return escaped(at.strftime(time_format))


def _svg(title: str, height: int, body: SafeString) -> SafeString:
    """The chart in a figure whose caption is its title, so it reads without hovering."""
    return format_html(
        '<figure class="chart-figure"><figcaption>{}</figcaption>'
        '<svg class="chart" viewBox="0 0 {} {}" role="img" aria-label="{}" '
        'xmlns="http://www.w3.org/2000/svg"><title>{}</title>{}</svg></figure>',
        title,
        WIDTH,
        height,
        title,
        title,
        body,
    )


def _empty(title: str, message: str) -> SafeString:
    return format_html(
        '<figure class="chart-figure"><figcaption>{}</figcaption>'
        '<p class="chart-empty">{}</p></figure>',
        title,
        message,
    )


def _n(value: float) -> str:
    """A coordinate for an SVG attribute (format_html escapes its arguments to text first)."""
    return f"{value:.1f}"


def _shorten(text: str, limit: int = int((LABEL_WIDTH - 8) // LABEL_CHAR_WIDTH)) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def text_width(text: str) -> float:
    """The width a chart label of ``text`` takes, estimated generously (no font metrics here)."""
    return len(text) * LABEL_CHAR_WIDTH


def compact_duration(ms: float) -> str:
    """A duration as an axis reads it: ``850 ms``, ``15.5 s``, ``2.5 min``, ``1.2 h``."""
    if round(ms) < 1000:
        return f"{ms:.0f} ms"
    if round(ms / 1000, 1) < 60:
        return f"{ms / 1000:.1f} s"
    if round(ms / 60_000, 1) < 60:
        return f"{ms / 60_000:.1f} min"
    return f"{ms / 3_600_000:,.1f} h"


def _axis_value(value: float, unit: str) -> str:
    return compact_duration(value) if unit == "ms" else f"{value:,.0f} {unit}"


def bar_chart(title: str, bars: Sequence[Bar]) -> SafeString:
    """Horizontal bars scaled to the largest value, each labelled with its formatted value."""
    if not bars:
        return _empty(title, "No data in this window.")
    largest = max((bar.value for bar in bars), default=0) or 1
    room = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    rows = []
    for index, bar in enumerate(bars):
        y = TOP + index * (BAR_HEIGHT + ROW_GAP)
        width = max(room * max(bar.value, 0) / largest, 1 if bar.value > 0 else 0)
        rows.append(
            format_html(
                '<g class="bar tone-{}"><title>{}: {}</title>'
                '<text class="chart-label" x="{}" y="{}" text-anchor="end">{}</text>'
                '<rect x="{}" y="{}" width="{}" height="{}" rx="2"></rect>'
                '<text class="chart-value" x="{}" y="{}">{}</text></g>',
                bar.tone,
                bar.label,
                bar.display,
                LABEL_WIDTH - 8,
                y + BAR_HEIGHT - 5,
                _shorten(bar.label),
                LABEL_WIDTH,
                y,
                _n(width),
                BAR_HEIGHT,
                _n(LABEL_WIDTH + width + 6),
                y + BAR_HEIGHT - 5,
                bar.display,
            )
        )
    height = TOP * 2 + len(bars) * (BAR_HEIGHT + ROW_GAP)
    return _svg(title, height, mark_safe("".join(rows)))  # noqa: S308 (each row is format_html)


def stacked_bar_chart(
    title: str, bars: Sequence[StackedBar], segment_names: Sequence[str]
) -> SafeString:
    """Horizontal bars split into segments, with a legend naming each segment's colour."""
    if not bars:
        return _empty(title, "No data.")
    largest = max((sum(v for _, v in bar.segments) for bar in bars), default=0) or 1
    room = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    tone_of = {name: f"segment-{index}" for index, name in enumerate(segment_names)}
    rows = []
    for index, bar in enumerate(bars):
        y = TOP + index * (BAR_HEIGHT + ROW_GAP)
        x = float(LABEL_WIDTH)
        parts = []
        for name, value in bar.segments:
            width = room * max(value, 0) / largest
            if width <= 0:
                continue
            parts.append(
                format_html(
                    '<rect class="{}" x="{}" y="{}" width="{}" height="{}">'
                    "<title>{}: {}</title></rect>",
                    tone_of.get(name, "segment-0"),
                    _n(x),
                    y,
                    _n(width),
                    BAR_HEIGHT,
                    bar.label,
                    name,
                )
            )
            x += width
        rows.append(
            format_html(
                '<g class="stack"><text class="chart-label" x="{}" y="{}" text-anchor="end">{}'
                '</text>{}<text class="chart-value" x="{}" y="{}">{}</text></g>',
                LABEL_WIDTH - 8,
                y + BAR_HEIGHT - 5,
                _shorten(bar.label),
                mark_safe("".join(parts)),  # noqa: S308 (each part is format_html)
                _n(x + 6),
                y + BAR_HEIGHT - 5,
                bar.display,
            )
        )
    legend_y = TOP + len(bars) * (BAR_HEIGHT + ROW_GAP) + 6
    legend = _join(
        '<rect class="{}" x="{}" y="{}" width="12" height="12"></rect>'
        '<text class="chart-label" x="{}" y="{}">{}</text>',
        (
            (
                tone_of[name],
                LABEL_WIDTH + i * 130,
                legend_y,
                LABEL_WIDTH + i * 130 + 16,
                legend_y + 11,
                name,
            )
            for i, name in enumerate(segment_names)
        ),
    )
    height = legend_y + 24
    return _svg(title, height, mark_safe("".join(rows) + legend))  # noqa: S308


def timeline_chart(title: str, points: Sequence[TimelinePoint], unit: str = "ms") -> SafeString:
    """Response time of successive checks as a line, over a strip coloured by each check's status.

    A failed check (no response time) is drawn on the baseline in its status colour, so gaps read
    as failures rather than as missing data.
    """
    if not points:
        return _empty(title, "No health check recorded yet.")
    ordered = sorted(points, key=lambda point: point.at)
    largest = max((p.value for p in ordered if p.value is not None), default=0) or 1
    top_label = _axis_value(largest, unit)
    # The y-axis labels sit right-aligned left of the plot: leave them room, however long.
    left = max(60, int(text_width(top_label)) + 12)
    right, top, plot_height, strip_height = 16, 12, 160, 14
    plot_width = WIDTH - left - right
    step = plot_width / max(len(ordered) - 1, 1)
    baseline = top + plot_height

    def x_of(index: int) -> float:
        return left + (index * step if len(ordered) > 1 else plot_width / 2)

    def y_of(value: float | None) -> float:
        return baseline - (plot_height * (value or 0) / largest)

    line = " ".join(
        f"{x_of(i):.1f},{y_of(p.value):.1f}" for i, p in enumerate(ordered) if p.value is not None
    )
    dots = _join(
        '<circle class="status-{}" cx="{}" cy="{}" r="3.5"><title>{} {}: {}</title></circle>',
        (
            (
                p.status,
                _n(x_of(i)),
                _n(y_of(p.value)),
                p.at.strftime("%Y-%m-%d %H:%M"),
                p.status,
                "no response" if p.value is None else f"{p.value:,.0f} {unit}",
            )
            for i, p in enumerate(ordered)
        ),
    )
    strip_y = baseline + 10
    cell = plot_width / len(ordered)
    strip = _join(
        '<rect class="status-{}" x="{}" y="{}" width="{}" height="{}"></rect>',
        (
            (p.status, _n(left + i * cell), strip_y, _n(max(cell - 1, 1)), strip_height)
            for i, p in enumerate(ordered)
        ),
    )
    axis = format_html(
        '<line class="chart-axis" x1="{l}" y1="{b}" x2="{r}" y2="{b}"></line>'
        '<line class="chart-axis" x1="{l}" y1="{t}" x2="{l}" y2="{b}"></line>'
        '<text class="chart-label" x="{lt}" y="{ty}" text-anchor="end">{top_value}</text>'
        '<text class="chart-label" x="{lt}" y="{b}" text-anchor="end">0</text>'
        '<text class="chart-label" x="{l}" y="{dy}">{first}</text>'
        '<text class="chart-label" x="{r}" y="{dy}" text-anchor="end">{last}</text>',
        l=left,
        r=WIDTH - right,
        t=top,
        b=baseline,
        lt=left - 6,
        ty=top + 10,
        top_value=top_label,
        dy=strip_y + strip_height + 16,
        first=ordered[0].at.strftime("%Y-%m-%d %H:%M"),
        last=ordered[-1].at.strftime("%Y-%m-%d %H:%M"),
    )
    polyline = (
        format_html('<polyline class="chart-line" points="{}"></polyline>', line) if line else ""
    )
    body = mark_safe(f"{axis}{polyline}{dots}{strip}")  # noqa: S308 (parts are format_html)
    return _svg(title, strip_y + strip_height + 24, body)


def legend(entries: Sequence[tuple[str, str]]) -> SafeString:
    """A small HTML legend (tone class, text) placed under a chart."""
    return format_html(
        '<ul class="chart-legend">{}</ul>',
        format_html_join("", '<li><span class="swatch tone-{}"></span>{}</li>', entries),
    )


@dataclass(frozen=True)
class TrendPoint:
    """One point of a series: the start of its hour or day, its value (None: no data) and how
    the value reads in a tooltip."""

    at: dt.datetime
    value: float | None
    display: str


class Timed(Protocol):
    start: dt.datetime


T = TypeVar("T", bound=Timed)


def trend_points(
    items: Sequence[T], value: Callable[[T], float | None], display: Callable[[float], str]
) -> list[TrendPoint]:
    """A series of ``TrendPoint`` from hours or days: their value, and how it reads ("—": none)."""
    return [
        TrendPoint(item.start, v, "—" if v is None else display(v))
        for item in items
        for v in [value(item)]
    ]


def trend_chart(
    title: str,
    points: Sequence[TrendPoint],
    previous: Sequence[TrendPoint],
    unit: str = "",
    time_format: str = "%Y-%m-%d %H:%M",
) -> SafeString:
    """A line per period: the current one solid, the one before it dashed, point for point.

    Colours are classes (``chart-line``, ``chart-line-previous``) drawn with the admin's CSS
    variables, so the chart reads in the light and the dark theme alike.
    """
    values = [p.value for p in (*points, *previous) if p.value is not None]
    if not points or not values:
        return _empty(title, "No requests in this period.")
    largest = max(values) or 1
    top_label = _axis_value(largest, unit) if unit else f"{largest:,.4g}"
    left = max(60, int(text_width(top_label)) + 12)
    right, top, plot_height = 16, 12, 160
    plot_width = WIDTH - left - right
    step = plot_width / max(len(points) - 1, 1)
    baseline = top + plot_height

    def x_of(index: int) -> float:
        return left + (index * step if len(points) > 1 else plot_width / 2)

    def y_of(value: float) -> float:
        return baseline - plot_height * value / largest

    def polyline(series: Sequence[TrendPoint], css: str) -> str:
        coordinates = " ".join(
            f"{x_of(i):.1f},{y_of(p.value):.1f}"
            for i, p in enumerate(series[: len(points)])
            if p.value is not None
        )
        if not coordinates:
            return ""
        return format_html('<polyline class="{}" points="{}"></polyline>', css, coordinates)

    # Hundreds of dots a chart: the coordinates are numbers (nothing to escape), only the
    # tooltip's time and value pass through ``escaped``; the same HTML as ``_join`` would write.
    dots = mark_safe(  # noqa: S308 - the only text, the tooltip, is escaped
        "".join(
            f'<circle class="chart-dot" cx="{_n(x_of(i))}" cy="{_n(y_of(p.value))}" r="2.5">'
            f"<title>{_time_label(p.at, time_format)}: {escaped(p.display)}</title></circle>"
            for i, p in enumerate(points)
            if p.value is not None
        )
    )
    legend_y = baseline + 34
    axis = format_html(
        '<line class="chart-axis" x1="{l}" y1="{b}" x2="{r}" y2="{b}"></line>'
        '<line class="chart-axis" x1="{l}" y1="{t}" x2="{l}" y2="{b}"></line>'
        '<text class="chart-label" x="{lt}" y="{ty}" text-anchor="end">{top_value}</text>'
        '<text class="chart-label" x="{lt}" y="{b}" text-anchor="end">0</text>'
        '<text class="chart-label" x="{l}" y="{dy}">{first}</text>'
        '<text class="chart-label" x="{r}" y="{dy}" text-anchor="end">{last}</text>'
        '<line class="chart-line" x1="{l}" y1="{ly}" x2="{lx}" y2="{ly}"></line>'
        '<text class="chart-label" x="{lxt}" y="{lyt}">this period</text>'
        '<line class="chart-line-previous" x1="{px}" y1="{ly}" x2="{pxe}" y2="{ly}"></line>'
        '<text class="chart-label" x="{pxt}" y="{lyt}">the period before</text>',
        l=left,
        r=WIDTH - right,
        t=top,
        b=baseline,
        lt=left - 6,
        ty=top + 10,
        top_value=top_label,
        dy=baseline + 16,
        first=points[0].at.strftime(time_format),
        last=points[-1].at.strftime(time_format),
        ly=legend_y,
        lx=left + 24,
        lxt=left + 30,
        lyt=legend_y + 4,
        px=left + 140,
        pxe=left + 164,
        pxt=left + 170,
    )
    body = mark_safe(  # noqa: S308 (every part is format_html)
        f"{axis}{polyline(previous, 'chart-line-previous')}{polyline(points, 'chart-line')}{dots}"
    )
    return _svg(title, legend_y + 16, body)


@dataclass(frozen=True)
class GridCell:
    """One hour or day of one row: ``status`` picks its colour (``status-<status>``, or
    ``status-none`` for no data), ``display`` is its tooltip."""

    at: dt.datetime
    status: str
    display: str


def status_grid(
    title: str,
    rows: Sequence[tuple[str, Sequence[GridCell], str]],
    time_format: str = "%Y-%m-%d %H:%M",
) -> SafeString:
    """A row of cells per labelled line (a server), one cell per hour or day, coloured by the
    status of that time, and a value at its end; the same columns in every row, so a shared
    outage lines up."""
    if not rows or not rows[0][1]:
        return _empty(title, "No servers to show.")
    columns = len(rows[0][1])
    left, right, top = LABEL_WIDTH, VALUE_WIDTH + 60, TOP
    cell = (WIDTH - left - right) / columns
    lines = []
    # A thousand cells a grid: each column's x and time are written once, and only the text
    # (status and tooltip) of a cell passes through ``escaped``; the same HTML as ``_join``.
    xs = [_n(left + i * cell) for i in range(max(len(cells) for _, cells, _ in rows))]
    width = _n(max(cell - 1, 1))

    for index, (label, cells, value) in enumerate(rows):
        y = top + index * (BAR_HEIGHT + 4)
        row_cells = mark_safe(  # noqa: S308 - the status and the tooltip are escaped
            "".join(
                f'<rect class="status-{escaped(c.status)}" x="{xs[i]}" y="{y}" width="{width}" '
                f'height="{BAR_HEIGHT}"><title>{_time_label(c.at, time_format)}: '
                f"{escaped(c.display)}</title></rect>"
                for i, c in enumerate(cells)
            )
        )
        lines.append(
            format_html(
                '<g class="grid-row"><text class="chart-label" x="{}" y="{}" text-anchor="end">'
                "{}<title>{}</title></text>{}"
                '<text class="chart-value" x="{}" y="{}">{}</text></g>',
                left - 8,
                _n(y + BAR_HEIGHT - 5),
                _shorten(label),
                label,
                row_cells,
                WIDTH - right + 6,
                _n(y + BAR_HEIGHT - 5),
                value,
            )
        )
    bottom = top + len(rows) * (BAR_HEIGHT + 4) + 14
    first, last = rows[0][1][0].at, rows[0][1][-1].at
    axis = format_html(
        '<text class="chart-label" x="{}" y="{}">{}</text>'
        '<text class="chart-label" x="{}" y="{}" text-anchor="end">{}</text>',
        left,
        bottom,
        first.strftime(time_format),
        WIDTH - right,
        bottom,
        last.strftime(time_format),
    )
    body = mark_safe("".join(lines) + axis)  # noqa: S308 (every part is format_html)
    return _svg(title, bottom + 8, body)
