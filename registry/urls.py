"""URLs of the registry app: the deactivate/reactivate buttons of a server's admin page."""

from django.urls import path

from registry import views

app_name = "registry"
urlpatterns = [
    path("servers/<uuid:server_id>/deactivate/", views.server_deactivate, name="server_deactivate"),
    path("servers/<uuid:server_id>/reactivate/", views.server_reactivate, name="server_reactivate"),
]
