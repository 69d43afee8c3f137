"""The action codes present in the log, read from the action index: what lets the impersonation
list and a user's page name codes instead of scanning with LIKE or on resource_id."""

from __future__ import annotations

import datetime as dt

import pytest

from audit.factories import AuditLogFactory
from audit.selectors import action_codes
from security.factories import GatewayUserFactory
from security.moderation import selectors as moderation

pytestmark = pytest.mark.django_db


def test_every_code_once_and_a_prefix_taken_literally():
    for action in ["user.ban", "user.ban", "impersonation.start", "impersonation_x.y", "api.key"]:
        AuditLogFactory.create(action=action)
    assert action_codes() == sorted(
        {"user.ban", "impersonation.start", "impersonation_x.y", "api.key"}
    )
    assert action_codes("impersonation.") == ["impersonation.start"]
    assert action_codes("impersonation_") == ["impersonation_x.y"]
    assert action_codes("nothing.") == []


def test_impersonation_events_are_exactly_the_prefixed_codes_in_range(admin):
    now = dt.datetime.now(dt.UTC)
    inside = [
        AuditLogFactory.create(action=action, created_at=now - dt.timedelta(days=days))
        for action, days in [("impersonation.start", 1), ("impersonation.stop", 2)]
    ]
    AuditLogFactory.create(action="impersonation.start", created_at=now - dt.timedelta(days=40))
    AuditLogFactory.create(action="impersonationstart", created_at=now)
    AuditLogFactory.create(action="user.ban", created_at=now)
    events = moderation.impersonation_audit_events(admin.actor, None, None)
    assert [e.pk for e in events] == [e.pk for e in reversed(inside)]


def test_entries_about_a_user_are_found_under_every_code(admin):
    user = GatewayUserFactory.create()
    about = [
        AuditLogFactory.create(action=action, resource_type="user", resource_id=user.pk)
        for action in ("user.ban", "user.unban", "gateway.custom_code")
    ]
    AuditLogFactory.create(action="user.ban", resource_type="session", resource_id=user.pk)
    entries = moderation.user_audit_entries(admin.actor, user)
    assert sorted(e["id"] for e in entries) == sorted(e.pk for e in about)
