"""URLs of moderation: the confirmation pages behind the user and impersonation admin pages."""

from django.contrib import admin
from django.urls import path

from security.moderation import views

urlpatterns = [
    path("users/<str:user_id>/ban/", admin.site.admin_view(views.ban_user), name="user_ban"),
    path("users/<str:user_id>/unban/", admin.site.admin_view(views.unban_user), name="user_unban"),
    path(
        "users/<str:user_id>/roles/",
        admin.site.admin_view(views.change_roles),
        name="user_roles",
    ),
    path(
        "users/<str:user_id>/sessions/revoke/",
        admin.site.admin_view(views.revoke_all_sessions),
        name="user_revoke_sessions",
    ),
    path(
        "users/<str:user_id>/sessions/<str:session_id>/revoke/",
        admin.site.admin_view(views.revoke_session),
        name="session_revoke",
    ),
    path(
        "impersonations/<int:record_id>/end/",
        admin.site.admin_view(views.end_impersonation),
        name="impersonation_end",
    ),
    path(
        "impersonations/<int:record_id>/review/",
        admin.site.admin_view(views.review_impersonation),
        name="impersonation_review",
    ),
]
