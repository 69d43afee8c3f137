"""URLs of the tenants app: a tenant's lifecycle buttons and its edit page."""

from django.urls import path

from tenants import views

app_name = "tenants"
urlpatterns = [
    path("<uuid:tenant_id>/suspend/", views.tenant_suspend, name="tenant_suspend"),
    path("<uuid:tenant_id>/reactivate/", views.tenant_reactivate, name="tenant_reactivate"),
    path("<uuid:tenant_id>/archive/", views.tenant_archive, name="tenant_archive"),
    path("<uuid:tenant_id>/edit/", views.tenant_edit, name="tenant_edit"),
]
