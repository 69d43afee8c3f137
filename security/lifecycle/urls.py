"""URLs of the account lifecycle: confirmation pages behind the user page (creating a user is
the admin's own "Add gateway user" page)."""

from django.urls import path

from security.lifecycle import views

urlpatterns = [
    path("users/<str:user_id>/password/", views.set_password, name="user_set_password"),
    path("users/<str:user_id>/verify-email/", views.verify_email, name="user_verify_email"),
    path(
        "users/<str:user_id>/sign-in-methods/<str:account_id>/unlink/",
        views.unlink_sign_in,
        name="user_unlink_sign_in",
    ),
    path("users/<str:user_id>/remove/", views.remove_user, name="user_remove"),
]
