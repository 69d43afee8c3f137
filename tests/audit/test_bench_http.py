"""``bench_http`` runs the production server, signs in through the form and prints its figures.

A tiny dataset and two seconds per phase: what is shown is that every request of the mix and the
export answered (zero errors) and the figures are printed, never how fast they were.
"""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command

from audit.factories import RequestLogFactory
from tests.audit.conftest import bulk_audit_logs


@pytest.mark.django_db(transaction=True)
def test_bench_http_prints_figures_with_no_errors():
    bulk_audit_logs(250)
    RequestLogFactory.create(server_error=True)
    output = io.StringIO()
    call_command(
        "bench_http", duration=2, clients=2, workers=1, profile_iterations=2, stdout=output
    )
    text = output.getvalue()
    phases = re.findall(
        r"^(pages|pages during an export): [\d,]+ requests in [\d.]+ s = [\d,.]+ req/s; "
        r"p50 [\d.]+ ms, p95 [\d.]+ ms, p99 [\d.]+ ms; errors (\d+)$",
        text,
        re.MULTILINE,
    )
    assert [phase for phase, _ in phases] == ["pages", "pages during an export"], text
    assert [errors for _, errors in phases] == ["0", "0"], text
    # 250 rows here, the benchmark's sign-in and second-factor rows and the export's own row.
    assert re.search(r"export \(CSV, status 200\): first byte [\d,]+ ms, 253 rows", text), text
    assert re.search(r"explorer page in-process .* in \d+ queries", text), text


def test_the_server_gets_the_url_of_this_database_over_tcp_or_a_unix_socket():
    """The embedded server listens on a Unix socket: the URL must say so in environ's form."""
    import environ

    from audit.management.commands.bench_http import database_url

    tcp = database_url({"USER": "postgres", "HOST": "127.0.0.1", "PORT": 5432, "NAME": "t"})
    assert environ.Env.db_url_config(tcp)["HOST"] == "127.0.0.1"
    socket = database_url(
        {"USER": "postgres", "HOST": "/srv/backoffice/.data/postgres", "NAME": "t"}
    )
    parsed = environ.Env.db_url_config(socket)
    assert (parsed["HOST"], parsed["NAME"], parsed["USER"]) == (
        "/srv/backoffice/.data/postgres",
        "t",
        "postgres",
    )
