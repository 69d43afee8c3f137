"""The explorers' table body, written in Python, is what the template loop it replaced wrote."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.template import Context, Template

from audit.tables import AuditLogTable

# The loop that templates/audit/log_table.html held before rows_html.
TEMPLATE_LOOP = Template(
    '{% for row in rows %}<tr><td class="nowrap"><a href="{{ row.url }}">{{ row.first }}</a></td>'
    "{% for cell in row.rest %}<td>{{ cell }}</td>{% endfor %}</tr>\n"
    '{% empty %}<tr><td colspan="{{ table.columns|length }}">No entries match these filters.'
    "</td></tr>\n{% endfor %}"
)


def table(rows: list[dict]) -> AuditLogTable:
    return AuditLogTable(
        rows,
        zone=zoneinfo.ZoneInfo("UTC"),
        detail_prefix="/audit/logs/",
        tenant_names={},
        people={"u-1": "mia@example.com"},
        detail_query="?tz=Europe/Paris&x=<1>",
    )


def test_rows_escape_every_value_as_the_template_did():
    rows = [
        {
            "id": 7,
            "created_at": dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
            "tenant_id": None,
            "actor_type": "user",
            "actor_id": "u-1",
            "action": 'user.ban"><script>alert(1)</script>',
            "resource_type": "user",
            "resource_id": "<b>&amp;",
            "outcome": "success",
            "ip_address": "10.0.0.1",
        }
    ]
    shown = table(rows)
    lean = shown.lean_rows()
    expected = TEMPLATE_LOOP.render(Context({"rows": lean, "table": shown}))
    assert shown.rows_html(lean) == expected
    assert "<script>" not in expected and "mia@example.com" in expected


def test_no_rows_says_so_across_every_column():
    shown = table([])
    expected = TEMPLATE_LOOP.render(Context({"rows": [], "table": shown}))
    assert shown.rows_html([]) == expected
