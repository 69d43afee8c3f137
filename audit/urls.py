"""URLs of the audit app: the audit and request log explorers and their exports."""

from django.urls import path

from audit import views

app_name = "audit"
urlpatterns = [
    path("logs/", views.audit_log_list, name="audit_log_list"),
    # Detail pages sit right under their list: the list's rows link to "<list URL><id>/".
    path("logs/<int:pk>/", views.audit_log_detail, name="audit_log_detail"),
    path("logs/export.csv", views.audit_log_export, {"file_format": "csv"}, name="audit_log_csv"),
    path(
        "logs/export.jsonl",
        views.audit_log_export,
        {"file_format": "jsonl"},
        name="audit_log_jsonl",
    ),
    path("requests/", views.request_log_list, name="request_log_list"),
    path("requests/<int:pk>/", views.request_log_detail, name="request_log_detail"),
    path(
        "requests/export.csv",
        views.request_log_export,
        {"file_format": "csv"},
        name="request_log_csv",
    ),
    path(
        "requests/export.jsonl",
        views.request_log_export,
        {"file_format": "jsonl"},
        name="request_log_jsonl",
    ),
]
