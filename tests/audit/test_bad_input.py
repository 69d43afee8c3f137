"""Malformed filters, cursors and ids: a clear message on the page, never a server error."""

from __future__ import annotations

import pytest

from audit.factories import AuditLogFactory, RequestLogFactory
from tests.pages import assert_not_found, assert_page_says

AUDIT_URL = "/audit/logs/"
REQUEST_URL = "/audit/requests/"

BAD_AUDIT_FILTERS = [
    ({"since": "yesterday"}, "Enter a date and time"),
    ({"since": "2025-13-45T25:61"}, "Enter a date and time"),
    ({"since": "99999-01-01T00:00"}, "Enter a date and time"),
    ({"since": "9999-12-31T23:59", "tz": "Pacific/Kiritimati", "until": ""}, None),
    ({"until": "0001-01-01T00:00", "tz": "Asia/Tokyo"}, "out of range"),
    ({"since": "2025-03-30T02:30", "tz": "Europe/Paris"}, "does not exist in Europe/Paris"),
    ({"since": "2025-01-02T00:00", "until": "2025-01-01T00:00"}, "The end must be after the start"),
    ({"period": "24h", "since": "2025-01-01T00:00"}, "not both"),
    ({"period": "forever"}, "Select a valid choice"),
    ({"tz": "Mars/Olympus_Mons"}, "Unknown time zone"),
    ({"tz": "Europe/Paris\x00"}, "Null characters are not allowed"),
    ({"tenant": "not-a-uuid"}, "Select a valid choice"),
    ({"tenant": "00000000-0000-0000-0000-000000000000"}, "Select a valid choice"),
    ({"actor_type": "robot"}, "Select a valid choice"),
    ({"outcome": "maybe"}, "Select a valid choice"),
    ({"ip": "999.1.1.1", "period": "1h"}, "Enter a valid IPv4 or IPv6 address"),
    ({"ip": "'; DROP TABLE audit_logs; --", "period": "1h"}, "Enter a valid IPv4 or IPv6"),
    ({"request_id": "123", "period": "1h"}, "Enter a valid UUID"),
    ({"action": "user.\x00ban"}, "Null characters are not allowed"),
    ({"actor": "x" * 400}, "Ensure this value has at most 320 characters"),
    ({"resource_id": "r\x00"}, "Null characters are not allowed"),
    ({"sort": "id"}, "Unknown filter: sort"),
    ({"id__gt": "1", "password": "x"}, "Unknown filter: id__gt, password"),
    ({"cursor": "1.2.3"}, "This page link is malformed"),
    ({"cursor": "-99999999999999999.1"}, "out of range"),
    ({"cursor": "1.99999999999999999999"}, "This page link is malformed"),
    ({"cursor": "1.9223372036854775808"}, "out of range"),
    ({"cursor": "1.1", "page": "0"}, "This page number is not valid"),
    ({"cursor": "1.1", "page": "-3"}, "This page number is not valid"),
    ({"cursor": "1.1", "page": "1e9999"}, "This page number is not valid"),
    ({"cursor": "1.1", "page": "99999999999999999999"}, "This page number is not valid"),
    ({"cursor": "1.1", "page": "\u00b2"}, "This page number is not valid"),
    ({"cursor": "\u0663.\u0663"}, "This page link is malformed"),
    ({"cursor": "5.5\n"}, "This page link is malformed"),
]

BAD_REQUEST_FILTERS = [
    ({"min_duration": "-1"}, "greater than or equal to 0"),
    ({"min_duration": "99999999999999999999"}, "less than or equal to 2147483647"),
    ({"min_duration": "1.5"}, "Enter a whole number"),
    ({"min_duration": "NaN"}, "Enter a whole number"),
    ({"status": "6xx"}, "Select a valid choice"),
    ({"server": "not-a-uuid"}, "Select a valid choice"),
    ({"api_key": "key-1"}, "Enter a valid UUID"),
    ({"user": "someone"}, "no index covers this filter"),
    ({"tool": "\x00"}, "Null characters are not allowed"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("query", "message"), BAD_AUDIT_FILTERS)
def test_bad_audit_log_filters_are_form_errors(auditor, query, message):
    entry = AuditLogFactory.create()
    response = auditor.client().get(AUDIT_URL, query)
    if message is None:  # accepted: the far future converts without overflowing
        html = assert_page_says(
            response, 200, "<h1>Audit log</h1>", "No entries match these filters."
        )
        assert f'href="/audit/logs/{entry.id}/"' not in html and 'class="errorlist' not in html
        return
    assert_page_says(response, 400, "<h1>Audit log</h1>", message)
    assert b'href="/audit/logs/' not in response.content.replace(b'href="/audit/logs/"', b"")


@pytest.mark.django_db
@pytest.mark.parametrize(("query", "message"), BAD_REQUEST_FILTERS)
def test_bad_request_log_filters_are_form_errors(auditor, query, message):
    entry = RequestLogFactory.create()
    response = auditor.client().get(REQUEST_URL, query)
    html = assert_page_says(response, 400, "<h1>Request log</h1>", message)
    assert f'href="/audit/requests/{entry.id}/"' not in html


@pytest.mark.django_db
@pytest.mark.parametrize("url", [AUDIT_URL + "export.csv", REQUEST_URL + "export.jsonl"])
def test_a_bad_filter_on_an_export_shows_the_errors_and_exports_nothing(auditor, url):
    response = auditor.client().get(url, {"since": "soon"})
    assert response.status_code == 400
    assert b"Enter a date and time" in response.content
    assert not response.has_header("Content-Disposition")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/audit/logs/99999999999999999999999/",
        "/audit/logs/0/",
        "/audit/requests/9223372036854775808/",
        "/admin/audit/auditlog/abc/change/",
        "/admin/audit/auditlog/1%00/change/",
        "/admin/audit/requestlog/99999999999999999999999/change/",
    ],
)
def test_unknown_or_malformed_ids_are_not_found(auditor, path):
    assert_not_found(auditor.client().get(path))
