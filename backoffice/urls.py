"""URL configuration: the back office's own pages beside the Django admin."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("security/", include("security.urls")),
    path("audit/", include("audit.urls")),
    path("registry/", include("registry.urls")),
    # The dashboard (home page), analytics and monitoring.
    path("", include("monitoring.urls")),
]
