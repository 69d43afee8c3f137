"""Heavy reads on a real streaming replica; writes, audit rows and the page after a change on the
primary; a lagging or stopped replica passed over for the primary with a note, never an error.

The module starts its own primary and ``pg_basebackup -R`` standby (tests/streaming_replica.py),
applies the contract and Django's migrations to the primary, and points Django's ``default`` and
``replica`` aliases at the two servers for its tests only, restoring them afterwards.
"""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from backoffice import reads
from monitoring.models import AnalyticsResult
from security.factories import GatewayUserFactory
from tenants.models import Tenant
from tests.conftest import make_persona
from tests.streaming_replica import DATABASE, StreamingPair

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "replica"])

GATEWAY_ROW_SQL = """
INSERT INTO audit_logs (actor_id, actor_type, action, resource_type, resource_id, outcome)
VALUES ('gateway', 'system', %s, 'server', 'srv-1', 'success')
"""
NOTE = re.compile(r"Reading from the primary: the replica is (([0-9.,]+) s behind|unreachable)\.")


@pytest.fixture(scope="module")
def pair(django_db_setup: None, django_db_blocker: Any) -> Iterator[StreamingPair]:
    """The two servers, with Django pointed at them (contract and migrations applied)."""
    pair = StreamingPair.start()
    try:
        with django_db_blocker.unblock(), django_pointed_at(pair):
            call_command("drizzle_migrate", verbosity=0, stdout=io.StringIO())
            call_command("migrate", verbosity=0, interactive=False)
            pair.wait_for_replay()
            with django_db_blocker.block():
                yield pair
    finally:
        pair.stop()


class django_pointed_at:
    """``default`` at the pair's primary and a ``replica`` alias at its standby, then back."""

    def __init__(self, pair: StreamingPair) -> None:
        self.pair = pair
        self.saved: dict[str, Any] = {}

    def __enter__(self) -> None:
        self.saved = connections.settings["default"]
        connections.close_all()
        _forget_connection("default")
        connections.settings["default"] = self.pair.database_settings(self.saved, standby=False)
        connections.settings[reads.REPLICA] = self.pair.database_settings(self.saved, standby=True)
        reads.forget_replica_state()

    def __exit__(self, *exc_info: object) -> None:
        connections.close_all()
        for alias in ("default", reads.REPLICA):
            _forget_connection(alias)
        del connections.settings[reads.REPLICA]
        connections.settings["default"] = self.saved
        reads.forget_replica_state()


def _forget_connection(alias: str) -> None:
    with contextlib.suppress(AttributeError):  # never opened in this thread
        del connections[alias]


@pytest.fixture(autouse=True)
def replica_streaming(pair: StreamingPair) -> Iterator[None]:
    """Every test starts with the standby up, replaying, caught up and measured afresh."""
    pair.start_standby()
    pair.resume_replay()
    pair.wait_for_replay()
    connections[reads.REPLICA].close()
    reads.forget_replica_state()
    yield
    connections[reads.REPLICA].close()


def gateway_writes(action: str) -> None:
    """An audit row the gateway writes on the primary (no staff member, so nobody is pinned)."""
    with connections["default"].cursor() as cursor:
        cursor.execute(GATEWAY_ROW_SQL, [action])


def standby_holds(pair: StreamingPair, action: str) -> bool:
    with pair.connect_standby() as standby:
        row = standby.execute("SELECT count(*) FROM audit_logs WHERE action = %s", [action])
        return row.fetchone()[0] > 0  # type: ignore[index]


def page(client: Any, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


AUDIT_LOG = "audit:audit_log_list"


# --- where reads go --------------------------------------------------------------------------


def test_the_replica_alias_is_the_streaming_standby(pair: StreamingPair) -> None:
    with connections[reads.REPLICA].cursor() as cursor:
        cursor.execute("SELECT inet_server_port(), pg_is_in_recovery()")
        assert cursor.fetchone() == (pair.standby_port, True)
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT inet_server_port(), pg_is_in_recovery()")
        assert cursor.fetchone() == (pair.primary_port, False)


@pytest.mark.parametrize(
    ("url_name", "heavy_sql"),
    [
        (AUDIT_LOG, 'FROM "audit_logs"'),
        ("audit:request_log_list", 'FROM "request_logs"'),
        ("monitoring:server_health", "get_server_health_summary"),
        ("monitoring:request_performance", "get_request_performance_summary"),
        ("monitoring:tenant_usage", "get_tenant_usage_summary"),
        ("monitoring:database_size", "database_size_summary"),
        # The view's own query: the stored result's key on the primary names it too.
        ("monitoring:performance_metrics", "FROM performance_monitoring"),
    ],
)
def test_heavy_reads_of_each_page_run_on_the_replica(
    pair: StreamingPair, url_name: str, heavy_sql: str
) -> None:
    admin = make_persona("admin")
    tenant = Tenant.unscoped.create(name="Acme", slug="acme")
    pair.wait_for_replay()
    kwargs = {"tenant_id": tenant.pk} if url_name == "monitoring:tenant_usage" else {}
    with (
        CaptureQueriesContext(connections[reads.REPLICA]) as on_replica,
        CaptureQueriesContext(connections["default"]) as on_primary,
    ):
        html = page(admin.client(), reverse(url_name, kwargs=kwargs))
    assert any(heavy_sql in q["sql"] for q in on_replica.captured_queries)
    assert not any(heavy_sql in q["sql"] for q in on_primary.captured_queries)
    assert "Reading from the primary" not in html


def test_index_usage_reads_the_primarys_own_scan_counters(pair: StreamingPair) -> None:
    admin = make_persona("admin")
    pair.wait_for_replay()
    with CaptureQueriesContext(connections["default"]) as on_primary:
        page(admin.client(), reverse("monitoring:index_usage"))
    assert any("index_usage_summary" in q["sql"] for q in on_primary.captured_queries)


def test_a_page_shows_what_the_replica_holds_while_it_is_within_the_lag_allowed(
    pair: StreamingPair, settings: Any
) -> None:
    settings.REPLICA_MAX_LAG_SECONDS = 3600
    auditor = make_persona("auditor").client()
    gateway_writes("gateway.before_pause")
    pair.wait_for_replay()
    with pair.paused():
        gateway_writes("gateway.not_replayed_yet")
        html = page(auditor, reverse(AUDIT_LOG))
        assert "gateway.before_pause" in html
        assert "gateway.not_replayed_yet" not in html  # the primary has it; the replica not yet
        assert "Reading from the primary" not in html
    pair.wait_for_replay()
    assert "gateway.not_replayed_yet" in page(auditor, reverse(AUDIT_LOG))


def test_an_export_is_copied_from_the_replica_and_audited_on_the_primary(
    pair: StreamingPair,
) -> None:
    auditor = make_persona("auditor")
    gateway_writes("gateway.exported")
    pair.wait_for_replay()
    response = auditor.client().get(reverse("audit:audit_log_csv"))
    assert response.status_code == 200
    chunks = iter(response.streaming_content)  # type: ignore[attr-defined]
    first = next(chunks)  # the COPY's transaction is still open on the server that runs it
    copying = "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'COPY (WITH log AS (%%'"
    try:
        with pair.connect_standby() as standby, pair.connect_primary(DATABASE) as primary:
            copies_on_standby = standby.execute(copying).fetchone()
            copies_on_primary = primary.execute(copying).fetchone()
    finally:
        body = (first + b"".join(chunks)).decode()  # ends the COPY whatever the outcome
    assert copies_on_standby == (1,)
    assert copies_on_primary == (0,)
    assert "gateway.exported" in body
    with pair.connect_primary(DATABASE) as primary:
        audited = primary.execute(
            "SELECT count(*) FROM audit_logs WHERE action = 'audit_log.export' AND actor_id = %s",
            [auditor.gateway_user.id],
        )
        assert audited.fetchone() == (1,)


# --- read your own writes --------------------------------------------------------------------


def test_the_page_after_a_change_reads_the_primary_and_shows_it(
    pair: StreamingPair, settings: Any
) -> None:
    settings.REPLICA_MAX_LAG_SECONDS = 3600  # the replica counts as fresh: only the pin decides
    admin = make_persona("admin")
    member = GatewayUserFactory.create(email="mia@example.com")
    someone_else = make_persona("auditor").client()
    pair.wait_for_replay()
    staff = admin.client()
    with pair.paused():
        # The ban locks the user's row, updates it and writes its audit row: all on the primary
        # (on the read-only standby any of them would fail).
        response = staff.post(
            reverse("security:user_ban", args=[member.pk]),
            {"reason": "Scraping", "length": "permanent"},
        )
        assert response.status_code == 302
        assert reads.PIN_COOKIE in response.cookies
        assert not standby_holds(pair, "user.ban")
        # The staff member who banned sees the ban's audit row at once, from the primary.
        assert "user.ban" in page(staff, reverse(AUDIT_LOG))
        # Someone who changed nothing reads the replica, which has not replayed it yet.
        assert "user.ban" not in page(someone_else, reverse(AUDIT_LOG))


def test_no_pin_without_a_change() -> None:
    admin = make_persona("admin")
    response = admin.client().get(reverse(AUDIT_LOG))
    assert response.status_code == 200
    assert reads.PIN_COOKIE not in response.cookies


def test_a_forged_pin_cookie_is_ignored(pair: StreamingPair, settings: Any) -> None:
    settings.REPLICA_MAX_LAG_SECONDS = 3600
    client = make_persona("auditor").client()
    pair.wait_for_replay()
    client.cookies[reads.PIN_COOKIE] = "1"  # unsigned
    with pair.paused():
        gateway_writes("gateway.unseen")
        assert "gateway.unseen" not in page(client, reverse(AUDIT_LOG))


# --- a replica that lags or is down ----------------------------------------------------------


def test_a_replica_paused_beyond_the_lag_allowed_is_passed_over_with_a_note(
    pair: StreamingPair, settings: Any
) -> None:
    settings.REPLICA_MAX_LAG_SECONDS = 0.2
    admin = make_persona("admin").client()
    pair.wait_for_replay()
    with pair.paused():
        gateway_writes("gateway.while_paused")
        # The standby received the row but has not replayed it, for longer than allowed.
        pair.wait_until_standby(f"SELECT ({reads.REPLICA_LAG_SQL}) > 0.5")
        with CaptureQueriesContext(connections[reads.REPLICA]) as on_replica:
            html = page(admin, reverse(AUDIT_LOG))
            analytics = page(admin, reverse("monitoring:request_performance"))
        assert "gateway.while_paused" in html  # read from the primary
        for text in (html, analytics):
            match = NOTE.search(text)
            assert match is not None and "behind" in match.group(1)
            assert float(match.group(2).replace(",", "")) >= 0.5
        # Only the lag check ran on the replica, none of the pages' reads.
        assert all("audit_logs" not in q["sql"] for q in on_replica.captured_queries)


def test_a_stopped_replica_is_passed_over_with_a_note(pair: StreamingPair) -> None:
    auditor = make_persona("auditor")
    admin = make_persona("admin").client()
    gateway_writes("gateway.before_stop")
    pair.wait_for_replay()
    client = auditor.client()
    assert "Reading from the primary" not in page(client, reverse(AUDIT_LOG))  # kept connection
    pair.stop_standby()
    gateway_writes("gateway.after_stop")
    html = page(client, reverse(AUDIT_LOG))
    assert "Reading from the primary: the replica is unreachable." in html
    assert "gateway.after_stop" in html
    for url in (
        reverse("audit:request_log_list"),
        reverse("monitoring:request_performance"),
        reverse("monitoring:database_size"),
    ):
        assert "the replica is unreachable" in page(admin, url)
    export = client.get(reverse("audit:audit_log_csv"))
    assert export.status_code == 200
    assert "gateway.after_stop" in b"".join(export.streaming_content).decode()  # type: ignore[attr-defined]


def test_the_replica_is_read_again_once_it_is_back(pair: StreamingPair) -> None:
    client = make_persona("auditor").client()
    pair.stop_standby()
    assert "the replica is unreachable" in page(client, reverse(AUDIT_LOG))
    pair.start_standby()
    pair.wait_for_replay()
    reads.forget_replica_state()  # instead of waiting REPLICA_CHECK_SECONDS
    with CaptureQueriesContext(connections[reads.REPLICA]) as on_replica:
        html = page(client, reverse(AUDIT_LOG))
    assert "Reading from the primary" not in html
    assert any("audit_logs" in q["sql"] for q in on_replica.captured_queries)


def test_the_tenant_usage_page_of_another_tenant_is_still_a_404(pair: StreamingPair) -> None:
    other = Tenant.unscoped.create(name="Other", slug="other")
    own = Tenant.unscoped.create(name="Own", slug="own")
    tenant_admin = make_persona("tenant_admin", tenant=own)
    pair.wait_for_replay()
    response = tenant_admin.client().get(
        reverse("monitoring:tenant_usage", kwargs={"tenant_id": other.pk})
    )
    assert response.status_code == 404


def test_the_analytics_refresh_reads_the_replica_and_stores_on_the_primary(
    pair: StreamingPair,
) -> None:
    pair.wait_for_replay()
    out = io.StringIO()
    with (
        CaptureQueriesContext(connections[reads.REPLICA]) as on_replica,
        CaptureQueriesContext(connections["default"]) as on_primary,
    ):
        call_command("refresh_analytics", stdout=out, stderr=io.StringIO())
    for function in ("get_server_health_summary", "get_request_performance_summary"):
        assert any(function in q["sql"] for q in on_replica.captured_queries)
        assert not any(function in q["sql"] for q in on_primary.captured_queries)
    assert "analytics read from the replica" in out.getvalue()
    # The standing results, stored on the primary (the router keeps the ORM there).
    assert AnalyticsResult.objects.filter(computed_at__isnull=False).count() >= 3


def test_a_stopped_replica_leaves_the_analytics_refresh_on_the_primary(
    pair: StreamingPair,
) -> None:
    pair.stop_standby()
    out = io.StringIO()
    with CaptureQueriesContext(connections["default"]) as on_primary:
        call_command("refresh_analytics", stdout=out, stderr=io.StringIO())
    assert any("get_server_health_summary" in q["sql"] for q in on_primary.captured_queries)
    assert "Reading from the primary: the replica is unreachable." in out.getvalue()
