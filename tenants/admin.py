from django.contrib import admin

from backoffice.admin_base import ScopedModelAdmin
from backoffice.roles import Capability
from tenants.models import Tenant


@admin.register(Tenant)
class TenantAdmin(ScopedModelAdmin):
    capability = Capability.VIEW_TENANTS
    list_display = ["name", "slug", "status", "plan", "max_servers", "max_api_keys", "created_at"]
    list_filter = ["status", "plan"]
    search_fields = ["name", "slug"]
    readonly_fields = [f.name for f in Tenant._meta.fields]
