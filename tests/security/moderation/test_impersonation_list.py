"""The impersonation review page: every impersonation, its status and review, with filters."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from audit.factories import AuditLogFactory
from security.factories import GatewayUserFactory, ImpersonationSessionFactory
from security.models import GatewaySession, ImpersonationRecord
from security.moderation.devices import device_summary
from tests.pages import assert_page_says, assert_refused, messages_on, unoffered_filter
from tests.security.moderation.conftest import breakable

pytestmark = pytest.mark.django_db

LIST = "/admin/security/impersonationrecord/"


def listed(response) -> list[str]:
    return [record.impersonated_email for record in response.context["cl"].result_list]


@pytest.fixture
def three(admin, member, member_b, tenant_a):
    """Active (member), ended (member_b), expired-and-reviewed (carol)."""
    ImpersonationSessionFactory.create(user=member, impersonated_by=admin.gateway_user.id)
    gone = ImpersonationSessionFactory.create(user=member_b, impersonated_by=admin.gateway_user.id)
    carol = GatewayUserFactory.create(tenant=tenant_a, email="carol@example.com")
    ImpersonationSessionFactory.create(
        user=carol, impersonated_by=admin.gateway_user.id, expired=True
    )
    admin.client().get(LIST)  # capture all three
    gone.delete()
    ImpersonationRecord.unscoped.filter(impersonated_email="carol@example.com").update(
        reviewed_at=dt.datetime.now(dt.UTC), reviewed_by="someone@example.com", review_note="ok"
    )


def test_the_page_captures_and_lists_every_impersonation(support, admin, member, impersonation):
    response = support.client().get(LIST)
    assert response.status_code == 200
    page = response.content.decode()
    assert "mia@example.com" in page and admin.gateway_user.email in page and "Tenant A" in page
    assert impersonation.ip_address in page
    assert impersonation.token not in page
    assert "Active" in page


def test_status_filter(support, three):
    client = support.client()
    assert listed(client.get(LIST, {"status": "active"})) == ["mia@example.com"]
    assert listed(client.get(LIST, {"status": "ended"})) == ["bo@example.com"]
    assert listed(client.get(LIST, {"status": "expired"})) == ["carol@example.com"]


def test_reviewed_filter(support, three):
    client = support.client()
    assert listed(client.get(LIST, {"reviewed": "yes"})) == ["carol@example.com"]
    assert set(listed(client.get(LIST, {"reviewed": "no"}))) == {
        "mia@example.com",
        "bo@example.com",
    }


def test_people_and_tenant_filters(support, admin, member, member_b, three, tenant_b):
    client = support.client()
    assert listed(client.get(LIST, {"impersonated": member.pk})) == ["mia@example.com"]
    assert len(listed(client.get(LIST, {"impersonator": admin.gateway_user.id}))) == 3
    assert listed(client.get(LIST, {"tenant": str(tenant_b.pk)})) == ["bo@example.com"]


def test_date_range_filter(support, three):
    client = support.client()
    today = dt.date.today().isoformat()
    assert len(listed(client.get(LIST, {"started_from": today, "started_to": today}))) == 3
    assert listed(client.get(LIST, {"started_from": "2999-01-01"})) == []
    assert listed(client.get(LIST, {"started_to": "2000-01-01"})) == []


@pytest.mark.parametrize(
    "params",
    [
        {"started_from": "yesterday"},
        {"started_to": "2024-02-30"},
        {"started_from": "99999-01-01"},
    ],
)
def test_bad_dates_are_ignored_with_a_message(support, three, params):
    response = support.client().get(LIST, params)
    assert response.status_code == 200
    assert "use the form YYYY-MM-DD" in response.content.decode()
    assert len(listed(response)) == 3


NUL_REMOVED = "A filter held a NUL character, which no text has: removed."


@pytest.mark.parametrize(
    ("params", "message", "shown"),
    [
        ({"impersonator": "a\x00"}, NUL_REMOVED, 3),
        # A value the sidebar does not offer is cleared, and the page says so.
        ({"status": "sleeping"}, unoffered_filter("sleeping", "status"), 3),
        ({"tenant": "zzz"}, unoffered_filter("zzz", "tenant"), 3),
        ({"p": "4000"}, None, 3),  # one page of them: that page
    ],
)
def test_malformed_filters_never_fail(support, three, params, message, shown):
    response = support.client().get(LIST, params, follow=True)
    assert_page_says(response, 200, "<h1>Select impersonation session to view</h1>")
    assert messages_on(response) == ([message] if message else [])
    everyone = {"mia@example.com", "bo@example.com", "carol@example.com"}
    assert set(listed(response)) == (everyone if shown else set())
    assert len(listed(response)) == shown


def test_impersonation_events_from_the_audit_log_are_shown(support, member):
    AuditLogFactory.create(action="impersonation.start", resource_id=member.pk)
    AuditLogFactory.create(action="impersonation.stop", resource_id=member.pk)
    AuditLogFactory.create(action="user.ban")
    page = support.client().get(LIST).content.decode()
    assert "impersonation.start" in page and "impersonation.stop" in page
    events = page[page.index("Impersonation events in the audit log") :]
    assert "user.ban" not in events


def test_the_page_says_what_the_list_and_the_audit_panel_each_count(support, impersonation):
    # One session, stopped: two audit entries (start and stop), and a refused attempt (one more).
    who = impersonation.user_id
    for action, outcome in (("start", "success"), ("stop", "success"), ("start", "denied")):
        AuditLogFactory.create(action=f"impersonation.{action}", resource_id=who, outcome=outcome)
    html = assert_page_says(
        support.client().get(LIST),
        200,
        'id="impersonation-counts"',
        "counts <strong>impersonation sessions</strong>: 1 session, one row each",
        "started at any time, with every filter chosen",
        "This panel counts <strong>audit entries</strong>, not sessions",
        "(the last 30 days: no range is chosen): showing 3 entries, newest first, at most 50.",
    )
    assert listed_count(html) == 1


def listed_count(html: str) -> int:
    return html.count('class="field-started"')


def test_a_stopped_impersonation_stays_listed_after_its_row_is_gone(support, impersonation):
    client = support.client()
    client.get(LIST)
    GatewaySession.unscoped.filter(pk=impersonation.pk).delete()
    response = client.get(LIST)
    assert listed(response) == ["mia@example.com"]
    assert "Ended" in response.content.decode()


@pytest.mark.parametrize("persona", ["auditor", "tenant_admin_a"])
def test_roles_without_review_get_403(request, persona, impersonation):
    assert_refused(request.getfixturevalue(persona).client().get(LIST))


def test_signed_out_users_go_to_sign_in(client):
    response = client.get(LIST)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


CHROME_ON_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)


def test_one_row_says_who_as_whom_status_and_device_in_five_columns(support, admin, member):
    ImpersonationSessionFactory.create(
        user=member, impersonated_by=admin.gateway_user.id, user_agent=CHROME_ON_WINDOWS
    )
    response = support.client().get(LIST)
    headers = [str(header["text"]).lower() for header in response.context["result_headers"]]
    assert headers == ["started", "who, as whom", "tenant", "status", "from", "reviewed"]
    page = response.content.decode()
    admin_page = reverse("admin:security_gatewayuser_change", args=[admin.gateway_user.pk])
    assert f'<a href="{admin_page}">{breakable(admin.gateway_user.email)}</a>' in page
    assert '<span class="moderation-secondary">as <a href=' in page
    assert f'title="{CHROME_ON_WINDOWS}">Chrome on Windows</span>' in page
    assert '<span class="moderation-secondary moderation-date">until ' in page


@pytest.mark.parametrize(
    ("agent", "summary"),
    [
        (CHROME_ON_WINDOWS, "Chrome on Windows"),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/605.1.15 (KHTML, like Gecko) "
            "Version/17.1 Safari/605.1.15",
            "Safari on macOS",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/120.0 Safari/537.36 Edg/120.0",
            "Edge on Windows",
        ),
        (
            "Mozilla/5.0 (Android 4.4.3; Mobile; rv:25.0) Gecko/25.0 Firefox/25.0",
            "Firefox on Android",
        ),
        ("curl/8.4.0", "curl"),
        ("", "unknown device"),
        ("SomeBot/1.0 (+https://example.com)", "SomeBot/1.0"),
    ],
)
def test_device_summaries(agent, summary):
    assert device_summary(agent) == summary
