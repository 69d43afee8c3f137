"""Deactivating and reactivating servers: one service, audited in its transaction, admin only."""

from __future__ import annotations

import pytest

from approvals.models import ApprovalRequest
from audit.models import AuditLog
from backoffice.operations import NotFound, Refused
from registry.factories import McpServerFactory
from registry.models import McpServer
from registry.services import deactivate_server, deactivate_servers, reactivate_server
from tests.concurrency import at_once
from tests.conftest import make_persona
from tests.pages import assert_not_found, assert_refused, messages_on

pytestmark = pytest.mark.django_db

LIST = "/admin/registry/mcpserver/"


def _page(server, verb: str) -> str:
    return f"/registry/servers/{server.pk}/{verb}/"


def _active(server) -> bool:
    return McpServer.unscoped.get(pk=server.pk).is_active


def _audit(action: str) -> list[AuditLog]:
    return list(AuditLog.unscoped.filter(action=action).order_by("id"))


# --- the service ---------------------------------------------------------------------------


def test_deactivating_writes_one_audit_row_with_before_and_after(admin, tenant_a):
    server = McpServerFactory.create(tenant=tenant_a, name="to-stop")
    assert deactivate_server(actor=admin.actor, server_id=server.pk, reason="Leaking data")
    assert not _active(server)
    (entry,) = _audit("server.deactivate")
    assert entry.actor_type == "staff" and entry.actor_id == admin.gateway_user.id
    assert entry.resource_type == "mcp_server" and entry.resource_id == str(server.pk)
    assert entry.tenant_id == tenant_a.pk
    assert entry.details["before"] == {"is_active": True}
    assert entry.details["after"] == {"is_active": False}
    assert entry.details["reason"] == "Leaking data"


def test_deactivating_an_inactive_server_changes_nothing_and_writes_no_row(admin, tenant_a):
    server = McpServerFactory.create(tenant=tenant_a, inactive=True)
    assert deactivate_server(actor=admin.actor, server_id=server.pk) is False
    assert _audit("server.deactivate") == []


def test_reactivating(admin, tenant_a):
    server = McpServerFactory.create(tenant=tenant_a, inactive=True)
    assert reactivate_server(actor=admin.actor, server_id=server.pk)
    assert _active(server)
    assert len(_audit("server.reactivate")) == 1


@pytest.mark.parametrize("persona", ["support", "tenant_admin_a", "auditor"])
def test_only_admins_may_change_the_registry(request, persona, tenant_a):
    server = McpServerFactory.create(tenant=tenant_a)
    with pytest.raises(Refused):
        deactivate_server(actor=request.getfixturevalue(persona).actor, server_id=server.pk)
    assert _active(server)
    # Refused like every other operation: one denied row, no change.
    assert [row.outcome for row in _audit("server.deactivate")] == ["denied"]


def test_a_missing_server_in_a_bulk_change_changes_none(admin, tenant_a):
    server = McpServerFactory.create(tenant=tenant_a)
    missing = "00000000-0000-0000-0000-000000000000"
    with pytest.raises(NotFound):
        deactivate_servers(actor=admin.actor, server_ids=[server.pk, missing])
    assert _active(server)
    assert _audit("server.deactivate") == []


@pytest.mark.django_db(transaction=True)
def test_concurrent_identical_deactivations_write_one_audit_row(admin, tenant_a):
    server = McpServerFactory.create(tenant=tenant_a)
    at_once(lambda _: deactivate_server(actor=admin.actor, server_id=server.pk), 6)
    assert not _active(server)
    assert len(_audit("server.deactivate")) == 1


# --- the button on the server's page --------------------------------------------------------


def test_the_page_asks_first_then_deactivates(admin, tenant_a):
    server = McpServerFactory.create(tenant=tenant_a, name="page-server")
    client = admin.client()
    confirm = client.get(_page(server, "deactivate"))
    assert confirm.status_code == 200
    assert "Deactivate page-server?" in confirm.content.decode()
    assert _active(server)

    assert "a second admin must approve it" in confirm.content.decode()

    # Four-eyes: confirming asks a second admin, who carries it out by approving.
    asked = client.post(_page(server, "deactivate"), {"reason": "Incident 42"}, follow=True)
    approval = ApprovalRequest.objects.get()
    assert asked.redirect_chain[0][0] == f"/approvals/{approval.pk}/"
    assert f"Sent for approval as request #{approval.pk}" in asked.content.decode()
    assert _active(server) and _audit("server.deactivate") == []

    done = (
        make_persona("admin")
        .client()
        .post(f"/approvals/{approval.pk}/", {"decision": "approve"}, follow=True)
    )
    assert "Approved and carried out: Deactivated page-server." in done.content.decode()
    assert not _active(server)
    assert _audit("server.deactivate")[0].details["reason"] == "Incident 42"

    again = client.post(_page(server, "reactivate"), follow=True)
    assert "Page-server was reactivated." in again.content.decode()
    assert _active(server)


def test_a_reason_with_a_nul_byte_is_a_form_error_and_changes_nothing(admin, tenant_a):
    server = McpServerFactory.create(tenant=tenant_a)
    response = admin.client().post(_page(server, "deactivate"), {"reason": "bad\x00reason"})
    assert response.status_code == 400
    assert "Null characters are not allowed." in response.content.decode()
    assert _active(server)
    assert _audit("server.deactivate") == []


@pytest.mark.parametrize("persona", ["support", "tenant_admin_a", "auditor"])
def test_other_roles_get_403_on_the_buttons(request, persona, tenant_a):
    person = request.getfixturevalue(persona)
    server = McpServerFactory.create(tenant=tenant_a)
    client = person.client()
    assert_refused(client.get(_page(server, "deactivate")))
    assert_refused(client.post(_page(server, "deactivate")))
    assert _active(server)
    assert AuditLog.unscoped.filter(actor_id=person.gateway_user.id, outcome="denied").exists()


def test_an_unknown_server_is_a_404(admin):
    unknown = "/registry/servers/00000000-0000-0000-0000-000000000000/deactivate/"
    assert_not_found(admin.client().get(unknown))


# --- the admin action -----------------------------------------------------------------------


def test_the_admin_action_confirms_then_deactivates_the_selection(admin, tenant_a, tenant_b):
    one = McpServerFactory.create(tenant=tenant_a, name="one")
    two = McpServerFactory.create(tenant=tenant_b, name="two")
    already = McpServerFactory.create(tenant=tenant_a, name="already", inactive=True)
    client = admin.client()
    selection = {"action": "deactivate_selected", "_selected_action": [one.pk, two.pk, already.pk]}

    confirm = client.post(LIST, selection)
    html = confirm.content.decode()
    assert confirm.status_code == 200 and "Deactivate servers?" in html
    assert "already inactive" in html
    assert _active(one) and _active(two)

    asked = client.post(LIST, {**selection, "post": "yes", "reason": "Bulk"}, follow=True)
    approval = ApprovalRequest.objects.get()
    assert f"Sent for approval as request #{approval.pk}" in asked.content.decode()
    assert _active(one) and _active(two)

    done = (
        make_persona("admin")
        .client()
        .post(f"/approvals/{approval.pk}/", {"decision": "approve"}, follow=True)
    )
    assert messages_on(done) == ["Approved and carried out: Deactivated one, two."]
    assert not _active(one) and not _active(two)
    assert {e.resource_id for e in _audit("server.deactivate")} == {str(one.pk), str(two.pk)}


def test_an_action_selection_that_is_not_a_uuid_is_a_message(admin, tenant_a):
    McpServerFactory.create(tenant=tenant_a)
    response = admin.client().post(
        LIST, {"action": "deactivate_selected", "_selected_action": ["not-a-uuid"]}, follow=True
    )
    assert response.status_code == 200
    assert "The selection holds an id that is not a server" in response.content.decode()


@pytest.mark.parametrize("persona", ["support", "tenant_admin_a"])
def test_read_only_roles_cannot_post_the_action(request, persona, tenant_a):
    person = request.getfixturevalue(persona)
    server = McpServerFactory.create(tenant=tenant_a)
    response = person.client().post(
        LIST, {"action": "deactivate_selected", "_selected_action": [server.pk], "post": "yes"}
    )
    assert response.status_code == 403
    assert _active(server)
    assert _audit("server.deactivate") == []
    assert AuditLog.unscoped.filter(actor_id=person.gateway_user.id, outcome="denied").exists()


# --- what each confirmation offers ----------------------------------------------------------


def _body_class(html: str) -> str:
    return html.split("<body")[1].split('class="')[1].split('"')[0]


def test_only_deactivating_confirms_in_the_danger_style(admin, tenant_a):
    running = McpServerFactory.create(tenant=tenant_a)
    stopped = McpServerFactory.create(tenant=tenant_a, inactive=True)
    client = admin.client()
    deactivate = client.get(_page(running, "deactivate")).content.decode()
    assert "delete-confirmation" in _body_class(deactivate)
    reactivate = client.get(_page(stopped, "reactivate")).content.decode()
    assert "delete-confirmation" not in _body_class(reactivate)
    assert 'id="confirm-reactivate" class="default"' in reactivate


@pytest.mark.parametrize(
    ("verb", "trait"), [("reactivate", {}), ("deactivate", {"inactive": True})]
)
def test_a_server_already_in_that_state_is_not_offered_the_change(admin, tenant_a, verb, trait):
    server = McpServerFactory.create(tenant=tenant_a, name="steady", **trait)
    client = admin.client()
    page = client.get(_page(server, verb))
    html = page.content.decode()
    assert page.status_code == 200
    assert "This server is already" in html and 'id="nothing-to-change"' in html
    assert f'id="confirm-{verb}"' not in html and "<form" not in html.split('id="content-main"')[1]
    assert f'href="/admin/registry/mcpserver/{server.pk}/change/" class="button">Back<' in html

    posted = client.post(_page(server, verb), follow=True)  # a stale form, posted anyway
    assert posted.redirect_chain[-1][0] == f"/admin/registry/mcpserver/{server.pk}/change/"
    assert "Steady was already" in posted.content.decode()  # the admin capitalises messages
    assert _active(server) is not bool(trait)
    assert _audit(f"server.{verb}") == []


def test_the_bulk_action_offers_nothing_when_every_server_is_already_there(admin, tenant_a):
    servers = [McpServerFactory.create(tenant=tenant_a) for _ in range(2)]
    response = admin.client().post(
        LIST, {"action": "reactivate_selected", "_selected_action": [s.pk for s in servers]}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="nothing-to-change"' in html and "All selected servers are already active" in html
    assert 'id="confirm-reactivate"' not in html
