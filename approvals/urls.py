"""URLs of four-eyes requests: the pending list and one request's page."""

from django.urls import path

from approvals import views

app_name = "approvals"
urlpatterns = [
    path("", views.pending, name="pending"),
    path("<int:approval_id>/", views.detail, name="detail"),
]
