"""URLs of the security app: moderation, impersonation review, API keys, the second factor."""

from django.urls import include, path

app_name = "security"
urlpatterns = [
    path("", include("security.moderation.urls")),
    path("api-keys/", include("security.api_keys.urls")),
    path("", include("security.second_factor.urls")),
]
