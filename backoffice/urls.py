"""URL configuration: the back office's own pages beside the Django admin."""

from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path

from backoffice import preferences, search

urlpatterns: list[URLPattern | URLResolver] = [
    path("admin/", admin.site.urls),
    path("preferences/time-zone/", preferences.time_zone_page, name="time_zone"),
    path("search/", search.search_page, name="search"),
    path("security/", include("security.urls")),
    path("audit/", include("audit.urls")),
    path("registry/", include("registry.urls")),
    path("approvals/", include("approvals.urls")),
    path("tenants/", include("tenants.urls")),
    # The dashboard (home page), analytics and monitoring.
    path("", include("monitoring.urls")),
]

# The back office's own error pages (backoffice/errors.py); the 500 page becomes the database's
# 503 page when the database is what failed.
handler400 = "backoffice.errors.bad_request"
handler403 = "backoffice.errors.permission_denied"
handler404 = "backoffice.errors.page_not_found"
handler500 = "backoffice.errors.server_error"
