"""The admin index's "Recent actions": the signed-in staff member's own audit rows.

Django's box reads ``django_admin_log``, which nothing here writes; every staff change is an
``audit_logs`` row with the staff member as its actor.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.contrib.admin.utils import quote
from django.urls import NoReverseMatch, reverse

from audit import selectors
from audit.history import explorer_url
from audit.models import AuditLog
from backoffice.roles import Actor, Capability

register = template.Library()

RECENT_SHOWN = 10
# The admin page of what a row is about, by its resource type.
RESOURCE_PAGES = {
    "user": "admin:security_gatewayuser_change",
    "tenant": "admin:tenants_tenant_change",
    "mcp_server": "admin:registry_mcpserver_change",
    "api_key": "admin:security_apikey_change",
}


@register.simple_tag(takes_context=True)
def my_recent_actions(context: dict[str, Any]) -> dict[str, Any]:
    """The viewer's newest audit rows (within what they may see) and a link to all of them."""
    request = context.get("request")
    actor: Actor | None = getattr(request, "actor", None)
    if actor is None:
        return {"entries": [], "all_url": None}
    # Scoped like the tenant pages every staff role may open: a tenant admin's refused probe of
    # another tenant's object is recorded under that tenant, and is not shown back to them.
    visible = AuditLog.objects.visible_to(actor, Capability.VIEW_TENANTS)
    entries = selectors.entries_by(visible, actor.actor_id, limit=RECENT_SHOWN)
    may_explore = actor.can(Capability.VIEW_AUDIT_LOGS)
    for entry in entries:
        entry["url"] = (
            reverse("audit:audit_log_detail", args=[entry["id"]])
            if may_explore
            else _object_url(entry)
        )
    return {"entries": entries, "all_url": explorer_url(actor, {"actor": actor.actor_id})}


def _object_url(entry: dict[str, Any]) -> str | None:
    name = RESOURCE_PAGES.get(entry["resource_type"] or "")
    if name is None or not entry["resource_id"] or entry["outcome"] != "success":
        return None
    try:
        return reverse(name, args=[quote(entry["resource_id"])])
    except NoReverseMatch:
        return None
