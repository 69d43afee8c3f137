"""Log lines: JSON when configured, the audit trail's request id, the staff member, the status,
and never a secret, from whichever logger (the request line, django.request, django.server).

The settings' own LOGGING, built for JSON, is installed for each test with the console handler
writing to the captured stderr; gunicorn's access log is checked in test_production_server.py.
"""

from __future__ import annotations

import io
import json
import logging
import logging.config
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.core.servers.basehttp import WSGIRequestHandler
from django.test import Client
from django.urls import reverse

from audit.models import AuditLog
from backoffice.log_format import logging_config, redact
from security.api_key_secrets import generate_api_key
from security.factories import ApiKeyFactory, GatewayUserFactory

LIST_URL = "/admin/security/apikey/"


@pytest.fixture
def json_log(capsys) -> Iterator[io.StringIO]:
    """Every line written with the settings' logging in JSON, as the process would write it."""
    stream = io.StringIO()
    config = logging_config(log_format="json", level="INFO")
    config["handlers"]["console"]["stream"] = stream
    logging.config.dictConfig(config)
    yield stream
    logging.config.dictConfig(settings.LOGGING)


def lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def request_lines(stream: io.StringIO) -> list[dict]:
    return [line for line in lines(stream) if line["logger"] == "backoffice.request"]


@pytest.mark.django_db
def test_each_request_is_one_json_line_with_the_audit_rows_request_id(support, tenant_a, json_log):
    member = GatewayUserFactory.create(tenant=tenant_a)
    response = support.client().post(
        reverse("security:user_ban", args=[member.pk]), {"reason": "Spam", "length": "7d"}
    )
    assert response.status_code == 302
    (line,) = request_lines(json_log)
    (row,) = AuditLog.unscoped.filter(action="user.ban")
    assert line["request_id"] == str(row.request_id) == response["X-Request-ID"]
    assert line["staff"] == support.gateway_user.email
    assert (line["method"], line["status"], line["level"]) == ("POST", 302, "INFO")
    assert line["path"] == f"/security/users/{member.pk}/ban/"
    assert isinstance(line["duration_ms"], float)


@pytest.mark.django_db
def test_signed_out_requests_and_errors_are_logged_with_their_outcome(json_log):
    Client().get("/no-such-page/")
    logged = lines(json_log)
    (line,) = [x for x in logged if x["logger"] == "backoffice.request"]
    assert (line["staff"], line["status"]) == ("-", 404)
    (warning,) = [x for x in logged if x["logger"] == "django.request"]
    assert warning["level"] == "WARNING" and warning["request_id"] == line["request_id"]


@pytest.mark.django_db
def test_a_pasted_key_reaches_no_log_line(tenant_admin_a, tenant_a, json_log):
    material = generate_api_key()
    ApiKeyFactory.create(tenant=tenant_a, name="Pasted", material=material)
    client = tenant_admin_a.client()
    secret = material.plaintext.split("_", 2)[2]

    # The search box posts: the key is in no URL, and the list opens at its prefix.
    response = client.post(LIST_URL, {"q": material.plaintext, "status": "active"})
    assert response.status_code == 303
    assert material.plaintext not in response["Location"]
    assert (
        f"q={material.prefix}" in response["Location"] and "status=active" in response["Location"]
    )
    page = client.get(response["Location"]).content.decode()
    assert "Pasted" in page and 'method="post" role="search"' in page
    # An old link or a hand-typed URL with the key still never reaches a line.
    client.get(LIST_URL, {"q": material.plaintext})
    client.get(f"/no-such-page/{material.plaintext}/")

    written = json_log.getvalue()
    assert request_lines(json_log) and material.prefix in written
    assert secret not in written and material.plaintext not in written


def test_djangos_development_server_line_is_redacted_too(json_log):
    """``runserver`` logs each request line, query string included, on django.server."""
    material = generate_api_key()
    handler = WSGIRequestHandler.__new__(WSGIRequestHandler)
    handler.requestline = f"GET /admin/security/apikey/?q={material.plaintext} HTTP/1.1"
    handler.command, handler.request_version = "GET", "HTTP/1.1"
    handler.client_address = ("127.0.0.1", 50000)
    handler.request = None  # type: ignore[assignment]  # the socket; only passed along
    handler.log_request(302)
    (line,) = lines(json_log)
    assert line["logger"] == "django.server"
    assert material.prefix in line["message"] and material.plaintext not in line["message"]


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("POST /x?password=hunter2&next=/", "hunter2"),
        ("GET /x?sessionid=abcd1234efgh&page=2", "abcd1234efgh"),
        ('{"access_token": "ya29.a0Af-xyz"}', "ya29.a0Af-xyz"),
        ("csrftoken=Zq3Tx9 other", "Zq3Tx9"),
        (
            "duplicate key DETAIL: Key (key_hash)=(Q2hhbmdlTWVDaGFuZ2VNZQ) already exists.",
            "Q2hhbmdlTWVDaGFuZ2VNZQ",
        ),
        ("token " + "A" * 43, "A" * 43),
    ],
)
def test_secret_looking_text_is_redacted(text, secret):
    assert secret not in redact(text)


def test_ids_and_uuids_stay_readable():
    text = (
        "GET /security/users/RcDp8zUllgn3ia4Ah1YmZde1uU32VLoV/ban/ 200 "
        "request=0b6c5c56-2f4b-4d1e-9a53-4c1f0f6f7e11"
    )
    assert redact(text) == text


@pytest.mark.django_db
def test_tracebacks_are_redacted(json_log):
    material = generate_api_key()
    try:
        raise ValueError(f"bad key {material.plaintext}")
    except ValueError:
        logging.getLogger("django.request").exception("Internal Server Error: /x")
    (line,) = lines(json_log)
    assert "ValueError" in line["exception"] and material.plaintext not in line["exception"]
