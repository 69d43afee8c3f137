"""The logs in the admin: read-only entries whose pages are the fast explorers.

A stock changelist would count and OFFSET tens of millions of rows (seconds per page), so the
admin's list and object pages for the two logs render the explorer's keyset pages instead. No one,
superusers included, can add, change or delete a log row here (``ScopedModelAdmin`` refuses).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from audit import views
from audit.models import AuditLog, RequestLog
from backoffice.admin_base import ScopedModelAdmin
from backoffice.roles import Capability
from backoffice.staff_request import as_staff_request

# Stock changelist lookups other pages link with (e.g. the dashboard's denied actions), as the
# explorer's filters.
STOCK_LOOKUPS = {
    "outcome__exact": "outcome",
    "action__exact": "action",
    "actor_id__exact": "actor",
    "tenant_id__exact": "tenant",
}


class LogAdmin(ScopedModelAdmin):
    capability = Capability.VIEW_AUDIT_LOGS
    explorer: views.Explorer

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        if not self._can(request):
            raise self.deny(request, "list")
        if any(name in request.GET for name in STOCK_LOOKUPS):
            query = request.GET.copy()
            for stock, name in STOCK_LOOKUPS.items():
                if stock in query:
                    query.setlist(name, query.pop(stock))
            url = reverse(f"audit:{self.explorer.name}_list")
            return HttpResponseRedirect(f"{url}?{query.urlencode()}")
        return views.explorer_page(as_staff_request(request), self.explorer)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        if not self._can(request):
            raise self.deny(request, "view")
        return self.detail_page(request, object_id)

    def detail_page(self, request: HttpRequest, object_id: str) -> HttpResponse:
        raise NotImplementedError


@admin.register(AuditLog)
class AuditLogAdmin(LogAdmin):
    explorer = views.AUDIT_LOG_EXPLORER

    def detail_page(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return views.audit_log_page(as_staff_request(request), object_id)


@admin.register(RequestLog)
class RequestLogAdmin(LogAdmin):
    explorer = views.REQUEST_LOG_EXPLORER

    def detail_page(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return views.request_log_page(as_staff_request(request), object_id)
