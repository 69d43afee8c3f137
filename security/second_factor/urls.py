"""URLs of the second factor: enrolment and verification (open before it), and the reset."""

from django.urls import path

from security.second_factor import views

urlpatterns = [
    path("second-factor/", views.verify, name="second_factor_verify"),
    path("second-factor/enrol/", views.enrol, name="second_factor_enrol"),
    path(
        "users/<str:user_id>/second-factor/reset/",
        views.reset,
        name="second_factor_reset",
    ),
]
