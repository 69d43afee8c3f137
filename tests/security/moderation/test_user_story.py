"""A user's whole story on their page: counts, see-all links, bans over time, requests,
impersonations; bounded queries whatever the logs hold."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape

import pytest
from django.urls import reverse

from audit.factories import AuditLogFactory, RequestLogFactory
from security.factories import ApiKeyFactory, GatewayUserFactory
from security.models import ImpersonationRecord
from security.moderation import story
from security.moderation.services import ban_user, unban_user
from tests.pages import assert_not_found, assert_page_says

pytestmark = pytest.mark.django_db


def page_of(user) -> str:
    return reverse("admin:security_gatewayuser_change", args=[user.pk])


def see_all(html: str, name: str) -> str | None:
    match = re.search(rf'<a href="([^"]+)" class="story-see-all" id="see-all-{name}">', html)
    return unescape(match.group(1)) if match else None


def test_the_ban_ledger_says_who_why_and_until_newest_first(admin, support, member):
    until = dt.datetime.now(dt.UTC) + dt.timedelta(days=7)
    ban_user(actor=support.actor, user_id=member.pk, reason="Spam wave", expires_at=until)
    ban_user(actor=admin.actor, user_id=member.pk, reason="Spam wave, again", expires_at=None)
    unban_user(actor=admin.actor, user_id=member.pk)
    # The gateway's own ban row (reason and end in its details) is read too.
    AuditLogFactory.create(
        action="user.ban",
        resource_id=member.pk,
        actor_id="gateway-automod",
        details={"reason": "Automated: 40 failed sign-ins", "expires_at": "2030-01-01T00:00:00Z"},
        created_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=30),
    )
    html = assert_page_says(admin.client().get(page_of(member)), 200, "Bans over time")
    rows = re.findall(r'<tr data-ledger="([^"]+)">(.*?)</tr>', html, re.S)
    assert [what for what, _ in rows] == ["unban", "ban changed", "ban", "ban"]
    text = [re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", row))) for _, row in rows]
    assert admin.gateway_user.email in text[1] and "Spam wave, again" in text[1]
    assert "permanent" in text[1]
    assert support.gateway_user.email in text[2] and "Spam wave" in text[2]
    assert until.isoformat()[:16] in text[2]
    assert "gateway-automod" in text[3] and "Automated: 40 failed sign-ins" in text[3]
    assert "2030-01-01" in text[3]


def test_counts_stop_at_the_cap(admin, member):
    AuditLogFactory.create_batch(story.COUNT_CAP + 2, actor_id=member.pk)
    AuditLogFactory.create_batch(3, resource_id=member.pk, action="user.role_change")
    html = admin.client().get(page_of(member)).content.decode()
    assert re.search(r'data-section="audit-by">.*?<td class="num">1,000\+</td>', html, re.S)
    assert re.search(r'data-section="audit-about">.*?<td class="num">3</td>', html, re.S)


def test_see_all_links_open_the_explorer_on_exactly_their_rows(admin, member):
    other = GatewayUserFactory.create()
    by_member = AuditLogFactory.create(actor_id=member.pk, action="tool.call", resource_id="x")
    about_member = AuditLogFactory.create(action="user.role_change", resource_id=member.pk)
    AuditLogFactory.create(actor_id=other.pk, resource_id=other.pk)
    client = admin.client()
    html = client.get(page_of(member)).content.decode()
    for name, expected in [("audit-by", by_member), ("audit-about", about_member)]:
        url = see_all(html, name)
        assert url is not None, name
        explorer = assert_page_says(client.get(url), 200)
        shown = set(re.findall(r'href="/audit/logs/(\d+)/', explorer))
        assert shown == {str(expected.pk)}, (name, url, shown)


def test_requests_are_read_through_the_users_keys(admin, member):
    key = ApiKeyFactory.create(tenant=member.tenant, created_by=member, name="ci-bot")
    other_key = ApiKeyFactory.create(tenant=member.tenant)
    now = dt.datetime.now(dt.UTC)
    for minutes in range(3):
        RequestLogFactory.create(
            api_key_id=key.pk,
            tool_name=f"tool-{minutes}",
            created_at=now - dt.timedelta(minutes=minutes),
        )
    RequestLogFactory.create(api_key_id=other_key.pk, tool_name="not-theirs")
    html = assert_page_says(
        admin.client().get(page_of(member)), 200, "Requests with their API keys"
    )
    assert f"ci-bot (<code>{key.key_prefix}</code>): 3 request(s)" in html
    assert f'href="/audit/requests/?api_key={key.pk}"' in html
    section = html.split('id="user-requests"')[1].split("</section>")[0]
    assert section.index("tool-0") < section.index("tool-1") < section.index("tool-2")
    assert "not-theirs" not in html


def test_impersonations_by_and_of_the_user(admin, member):
    now = dt.datetime.now(dt.UTC)
    for n, (by, of) in enumerate([(member.pk, "someone"), ("staff-x", member.pk), ("a", "b")]):
        ImpersonationRecord.unscoped.create(
            session_id=f"s{n}",
            impersonator_id=by,
            impersonated_user_id=of,
            impersonated_email=f"{of}@example.com",
            tenant_id=member.tenant_id,
            started_at=now - dt.timedelta(hours=n),
            expires_at=now + dt.timedelta(hours=1),
            last_seen_at=now,
        )
    html = admin.client().get(page_of(member)).content.decode()
    section = html.split('id="user-impersonations"')[1].split("</section>")[0]
    assert section.count("<tr>") == 3  # the header and the two records
    assert "by them" in section and "of them" in section and "b@example.com" not in section


def test_support_sees_the_story_without_links_into_the_explorers(support, member):
    AuditLogFactory.create(actor_id=member.pk)
    html = assert_page_says(
        support.client().get(page_of(member)), 200, "The audit and request log explorers are open"
    )
    assert see_all(html, "audit-by") is None
    assert see_all(html, "impersonations-by") is not None  # support reviews impersonations


@pytest.mark.parametrize("persona", ["tenant_admin_a", "auditor"])
def test_roles_that_do_not_moderate_users_get_no_story(request, persona, member):
    response = request.getfixturevalue(persona).client().get(page_of(member))
    assert response.status_code == 403


def test_an_unknown_user_is_a_404(admin):
    assert_not_found(admin.client().get(page_of(GatewayUserFactory.build())))


def test_the_story_costs_a_fixed_number_of_queries(admin, member, django_assert_max_num_queries):
    key = ApiKeyFactory.create(tenant=member.tenant, created_by=member)
    RequestLogFactory.create_batch(5, api_key_id=key.pk)
    AuditLogFactory.create_batch(30, actor_id=member.pk)
    AuditLogFactory.create(action="user.ban", resource_id=member.pk)
    client = admin.client()
    client.get(page_of(member))
    with django_assert_max_num_queries(40) as captured:
        client.get(page_of(member))
    first = len(captured.captured_queries)
    ApiKeyFactory.create_batch(5, tenant=member.tenant, created_by=member)
    AuditLogFactory.create_batch(30, actor_id=member.pk, action="user.ban", resource_id=member.pk)
    with django_assert_max_num_queries(first) as again:
        client.get(page_of(member))
    assert len(again.captured_queries) == first
