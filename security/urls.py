"""URLs of the security app: moderation, impersonation review, API keys, the second factor,
own sessions."""

from django.urls import include, path

from security import views

app_name = "security"
urlpatterns = [
    path("sessions/", views.own_sessions, name="own_sessions"),
    path("", include("security.moderation.urls")),
    path("", include("security.lifecycle.urls")),
    path("api-keys/", include("security.api_keys.urls")),
    path("", include("security.second_factor.urls")),
]
