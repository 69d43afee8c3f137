"""The SVG charts keep every label inside their viewBox, whatever the numbers' size."""

from __future__ import annotations

import datetime as dt

import pytest

from monitoring import charts
from tests.monitoring.conftest import assert_labels_inside, chart_labels


def _timeline(*values: float | None) -> str:
    start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    return str(
        charts.timeline_chart(
            "Checks",
            [
                charts.TimelinePoint(start + dt.timedelta(minutes=i), value, "healthy")
                for i, value in enumerate(values)
            ],
        )
    )


def test_a_15454_ms_peak_is_labelled_compactly_and_fully_inside_the_chart():
    html = _timeline(120, 15454, None, 300)
    texts = [text for text, *_ in chart_labels(html)]
    assert "15.5 s" in texts
    assert not any("5454" in text for text in texts)
    assert_labels_inside(html)


@pytest.mark.parametrize("peak", [1, 850, 999.4, 999.6, 15454, 59_990, 4_000_000, 10**12])
def test_the_y_axis_label_fits_at_any_magnitude(peak):
    assert_labels_inside(_timeline(0, peak))


def test_a_long_label_in_another_unit_widens_the_margin():
    start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    html = str(
        charts.timeline_chart(
            "Rows", [charts.TimelinePoint(start, 123_456_789_012, "healthy")], unit="rows"
        )
    )
    assert "123,456,789,012 rows" in html
    assert_labels_inside(html)


@pytest.mark.parametrize(
    ("ms", "shown"),
    [
        (0, "0 ms"),
        (850, "850 ms"),
        (999.6, "1.0 s"),
        (15454, "15.5 s"),
        (59_990, "1.0 min"),
        (150_000, "2.5 min"),
        (4_320_000, "1.2 h"),
    ],
)
def test_compact_durations(ms, shown):
    assert charts.compact_duration(ms) == shown


def test_bar_charts_keep_big_values_inside():
    bars = [
        charts.Bar("a server with a rather long name, cut", 15_454_000, "15,454,000 ms"),
        charts.Bar("small", 3, "3 ms"),
    ]
    assert_labels_inside(str(charts.bar_chart("p95", bars)))


def test_the_fast_join_escapes_exactly_as_format_html_join():
    from django.utils.html import format_html_join
    from django.utils.safestring import mark_safe

    from monitoring.charts import _join

    template = '<rect class="status-{}" x="{}"><title>{}: {}</title></rect>'
    rows = [
        ("healthy", 1.5, "2026-12-03 10:00", "<script>alert('x')</script> & \"quoted\""),
        ("none", 0, mark_safe("<b>kept</b>"), 12_345),
        ("unknown", "3", "", None),
    ]
    assert _join(template, rows) == format_html_join("", template, rows)
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &quot;quoted&quot;" in _join(
        template, rows
    )


def test_grid_cells_and_chart_dots_escape_their_text():
    import datetime as dt

    from monitoring.charts import GridCell, TrendPoint, status_grid, trend_chart

    at = dt.datetime(2026, 12, 3, 10, tzinfo=dt.UTC)
    hostile = "<script>alert('x')</script> & \"quoted\""
    shown = "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &quot;quoted&quot;"
    grid = status_grid("t", [("row", [GridCell(at, "<b>", hostile)], "v")])
    assert '<rect class="status-&lt;b&gt;" x="220.0" y="8" width="329.0" height="18">' in grid
    assert f"<title>2026-12-03 10:00: {shown}</title></rect>" in grid
    assert "<script>" not in grid
    chart = trend_chart("t", [TrendPoint(at, 1.0, hostile)], [])
    assert f"<title>2026-12-03 10:00: {shown}</title></circle>" in chart
    assert "<script>" not in chart
