"""URLs of the monitoring app: the home dashboard, analytics and monitoring pages."""

from django.urls import path
from django.views.generic import RedirectView

app_name = "monitoring"
urlpatterns = [
    # Until the dashboard exists, home is the admin index.
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False), name="home"),
]
