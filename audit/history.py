"""The admin's "History" of users, tenants and servers: their audit entries, not Django's log.

Django's history page reads ``django_admin_log``, which nothing here writes (every change goes
through an audited service into ``audit_logs``), so it said "doesn't have a change history". The
mixin renders the object's own audit entries instead: the object is fetched through the page's
scoping (another tenant's object is a 404), the entries through the same scope, newest first and
bounded, with a link to all of them in the audit explorer for those who may open it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib.admin.utils import quote
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse

from audit import selectors
from audit.models import AuditLog
from backoffice.admin_base import actor_of
from backoffice.roles import Actor, Capability
from backoffice.staff_audit import without_secrets
from security.selectors import user_emails

HISTORY_SHOWN = 100
HISTORY_TEMPLATE = "audit/object_history.html"


def explorer_url(viewer: Actor | None, filters: dict[str, str]) -> str | None:
    """The audit explorer with these filters, for a viewer who may open it; otherwise None."""
    if viewer is None or not viewer.can(Capability.VIEW_AUDIT_LOGS):
        return None
    return reverse("audit:audit_log_list") + "?" + urlencode(filters)


def entry_rows(actor: Actor | None, capability: Capability, rows: list[dict[str, Any]]) -> None:
    """Give entries what a page shows: a link to the row, who acted by email, safe details."""
    may_open = actor is not None and actor.can(Capability.VIEW_AUDIT_LOGS)
    emails = user_emails(actor, capability, {row["actor_id"] for row in rows if row["actor_id"]})
    for row in rows:
        row["url"] = reverse("audit:audit_log_detail", args=[row["id"]]) if may_open else None
        details = without_secrets(row.get("details") or {})
        row["details"] = details
        row["by"] = emails.get(row["actor_id"] or "") or (
            details.get("actor") if isinstance(details, dict) else None
        )
        row["by_url"] = (
            reverse("admin:security_gatewayuser_change", args=[quote(row["actor_id"])])
            if row["actor_id"] in emails
            else None
        )


class AuditHistoryMixin:
    """For a ``ScopedModelAdmin``: its "History" link shows the object's audit entries."""

    history_resource_type: str

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: Any = None
    ) -> HttpResponse:
        if not self._can(request):  # type: ignore[attr-defined]
            raise self.deny(request, "history")  # type: ignore[attr-defined]
        obj = self.get_object(request, object_id)  # type: ignore[attr-defined]
        if obj is None:
            opts = self.model._meta  # type: ignore[attr-defined]
            missing: HttpResponse = self._get_obj_does_not_exist_redirect(  # type: ignore[attr-defined]
                request, opts, object_id
            )
            return missing
        actor = actor_of(request)
        capability = self.capability  # type: ignore[attr-defined]
        visible = AuditLog.objects.visible_to(actor, capability)
        entries = selectors.entries_about(
            visible, self.history_resource_type, str(obj.pk), limit=HISTORY_SHOWN
        )
        entry_rows(actor, capability, entries)
        opts = self.model._meta  # type: ignore[attr-defined]
        context = {
            **self.admin_site.each_context(request),  # type: ignore[attr-defined]
            "opts": opts,
            "object": obj,
            "title": f"History of {obj}",
            "object_url": reverse(
                f"admin:{opts.app_label}_{opts.model_name}_change", args=[quote(obj.pk)]
            ),
            "entries": entries,
            "shown": HISTORY_SHOWN,
            "explorer_url": explorer_url(
                actor, {"resource_type": self.history_resource_type, "resource_id": str(obj.pk)}
            ),
            **(extra_context or {}),
        }
        return TemplateResponse(request, HISTORY_TEMPLATE, context)
