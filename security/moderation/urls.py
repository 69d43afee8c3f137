"""URLs of moderation: the confirmation pages behind the user and impersonation admin pages."""

from django.urls import path

from security.moderation import views

urlpatterns = [
    path("users/<str:user_id>/ban/", views.ban_user, name="user_ban"),
    path("users/<str:user_id>/unban/", views.unban_user, name="user_unban"),
    path(
        "users/<str:user_id>/roles/",
        views.change_roles,
        name="user_roles",
    ),
    path(
        "users/<str:user_id>/sessions/revoke/",
        views.revoke_all_sessions,
        name="user_revoke_sessions",
    ),
    path(
        "users/<str:user_id>/sessions/<str:session_id>/revoke/",
        views.revoke_session,
        name="session_revoke",
    ),
    path(
        "impersonations/<int:record_id>/end/",
        views.end_impersonation,
        name="impersonation_end",
    ),
    path(
        "impersonations/<int:record_id>/review/",
        views.review_impersonation,
        name="impersonation_review",
    ),
]
