"""URLs of the security app: user moderation, impersonation review and API keys."""

from django.urls import include, path

app_name = "security"
urlpatterns = [
    path("", include("security.moderation.urls")),
    path("", include("security.lifecycle.urls")),
    path("api-keys/", include("security.api_keys.urls")),
]
