"""URLs of the monitoring app: the home dashboard, analytics and monitoring pages."""

from django.urls import path

from monitoring import analytics_views, contract_views, trend_views, views

app_name = "monitoring"
urlpatterns = [
    path("", views.dashboard, name="home"),
    path("analytics/health/", analytics_views.server_health, name="server_health"),
    path("analytics/health/csv/", analytics_views.server_health_csv, name="server_health_csv"),
    path("analytics/performance/", analytics_views.request_performance, name="request_performance"),
    path(
        "analytics/performance/csv/",
        analytics_views.request_performance_csv,
        name="request_performance_csv",
    ),
    path("analytics/usage/", analytics_views.tenant_usage_index, name="tenant_usage_index"),
    path("analytics/usage/<uuid:tenant_id>/", analytics_views.tenant_usage, name="tenant_usage"),
    path(
        "analytics/usage/<uuid:tenant_id>/csv/",
        analytics_views.tenant_usage_csv,
        name="tenant_usage_csv",
    ),
    path("analytics/trends/", trend_views.trends_page, name="trends"),
    path("analytics/trends/csv/", trend_views.trends_csv, name="trends_csv"),
    path("analytics/trends/health/csv/", trend_views.trends_health_csv, name="trends_health_csv"),
    path("monitoring/database-size/", views.database_size, name="database_size"),
    path("monitoring/indexes/", views.index_usage, name="index_usage"),
    path("monitoring/metrics/", views.performance_metrics, name="performance_metrics"),
    path("monitoring/contract/", contract_views.contract, name="contract"),
]
