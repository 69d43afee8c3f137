"""The back office's own pages, by the capability that opens them, for the index and dashboard."""

from __future__ import annotations

from dataclasses import dataclass

from backoffice.presentation import fixed_url
from backoffice.roles import Actor, Capability


@dataclass(frozen=True)
class Page:
    section: str
    title: str
    url_name: str
    description: str
    capability: Capability

    @property
    def url(self) -> str:
        return fixed_url(self.url_name)


PAGES = (
    Page(
        "Four-eyes",
        "Requests waiting for approval",
        "approvals:pending",
        "Dangerous operations other staff asked for, that you may approve or refuse; and yours.",
        Capability.DECIDE_APPROVALS,
    ),
    Page(
        "Analytics",
        "Server health",
        "monitoring:server_health",
        "Active servers per health status, and how many have a stale health check.",
        Capability.VIEW_PLATFORM_ANALYTICS,
    ),
    Page(
        "Analytics",
        "Request performance",
        "monitoring:request_performance",
        "Requests, error rate, median and p95 per server; slow or failing servers highlighted.",
        Capability.VIEW_ANALYTICS,
    ),
    Page(
        "Analytics",
        "Tenant usage",
        "monitoring:tenant_usage_index",
        "Requests, users, servers, tools and keys of one tenant.",
        Capability.VIEW_ANALYTICS,
    ),
    Page(
        "Analytics",
        "Trends",
        "monitoring:trends",
        "Hourly and daily requests, errors, median and p95 per tenant, server and tool.",
        Capability.VIEW_TRENDS,
    ),
    Page(
        "Monitoring",
        "Database size",
        "monitoring:database_size",
        "Size of each table of the gateway's schema.",
        Capability.VIEW_MONITORING,
    ),
    Page(
        "Monitoring",
        "Index usage",
        "monitoring:index_usage",
        "Scans per index; indexes never used are flagged.",
        Capability.VIEW_MONITORING,
    ),
    Page(
        "Monitoring",
        "Performance metrics",
        "monitoring:performance_metrics",
        "Connections, cache hit ratio, last hour's traffic, sessions and expiring keys.",
        Capability.VIEW_MONITORING,
    ),
    Page(
        "Monitoring",
        "Contract",
        "monitoring:contract",
        "Drizzle migrations recorded beside this checkout's files, and schema drift.",
        Capability.VIEW_CONTRACT,
    ),
)


def pages_for(actor: Actor | None) -> list[Page]:
    """The pages ``actor`` may open, in menu order."""
    if actor is None:
        return []
    return [page for page in PAGES if actor.can(page.capability)]
