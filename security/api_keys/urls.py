"""URLs of the API key pages; the list and each key's page are admin pages."""

from django.urls import path

from security.api_keys import views

urlpatterns = [
    path("new/", views.create_key, name="api_key_create"),
    path("<uuid:key_id>/edit/", views.edit_key, name="api_key_edit"),
    path("<uuid:key_id>/revoke/", views.revoke_key, name="api_key_revoke"),
    path("<uuid:key_id>/rotate/", views.rotate_key, name="api_key_rotate"),
]
