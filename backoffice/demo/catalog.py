"""The static tables the demo is drawn from: sign-ins, tenants, server kinds, key and log mixes.

Plain data, so that what the demo holds can be read and changed in one place; the builders and
the log SQL decide how it is used.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from backoffice.audit_actions import AuditAction
from backoffice.roles import Role
from registry.models import TransportType
from security.api_keys.scopes import CATALOG as SCOPE_CATALOG
from tenants.models import TenantStatus

DAY = dt.timedelta(days=1)
HISTORY_DAYS = 30
# Users, servers and keys that the logs name existed before the history the logs cover.
BEFORE_HISTORY = (HISTORY_DAYS + 5) * DAY


@dataclass(frozen=True)
class DemoSignIn:
    role: Role
    email: str
    password: str


# One sign-in per role, printed at the end. Demo-only passwords, documented in the README.
DEMO_SIGN_INS = (
    DemoSignIn(Role.ADMIN, "admin@gateway.example", "demo-admin-password"),
    DemoSignIn(Role.SUPPORT, "support@gateway.example", "demo-support-password"),
    DemoSignIn(Role.TENANT_ADMIN, "tenant-admin@acme.example", "demo-tenant-admin-password"),
    DemoSignIn(Role.AUDITOR, "auditor@gateway.example", "demo-auditor-password"),
    DemoSignIn(Role.USER, "user@acme.example", "demo-user-password"),
)
# Every other credential account of the demo signs in with this.
OTHER_DEMO_PASSWORD = "demo-password"  # noqa: S105 (public demo password, by design)


@dataclass(frozen=True)
class DemoTenant:
    name: str
    slug: str
    status: TenantStatus
    plan: str
    regular_users: int
    server_kinds: tuple[str, ...]


DEMO_TENANTS = (
    DemoTenant(
        "Acme Corporation",
        "acme",
        TenantStatus.ACTIVE,
        "enterprise",
        9,
        ("github", "postgres", "slack", "filesystem", "web-search", "jira"),
    ),
    DemoTenant(
        "Globex",
        "globex",
        TenantStatus.ACTIVE,
        "pro",
        7,
        ("github", "postgres", "web-search", "weather", "slack"),
    ),
    DemoTenant(
        "Initech", "initech", TenantStatus.ACTIVE, "pro", 6, ("jira", "filesystem", "postgres")
    ),
    DemoTenant(
        "Umbrella Labs",
        "umbrella",
        TenantStatus.TRIAL,
        "trial",
        4,
        ("web-search", "weather", "filesystem"),
    ),
    DemoTenant("Hooli", "hooli", TenantStatus.TRIAL, "trial", 3, ("github", "slack")),
    DemoTenant("Soylent", "soylent", TenantStatus.SUSPENDED, "pro", 3, ("postgres", "web-search")),
    DemoTenant("Vandelay Industries", "vandelay", TenantStatus.SUSPENDED, "free", 2, ("jira",)),
    DemoTenant("Wonka Industries", "wonka", TenantStatus.ARCHIVED, "free", 2, ()),
    DemoTenant("Tyrell Corporation", "tyrell", TenantStatus.ARCHIVED, "pro", 1, ()),
)
# Tenants that get a tenant admin: the demo one in acme, one of their own in the others.
TENANT_ADMIN_SLUGS = ("acme", "globex", "initech", "umbrella", "hooli", "soylent")
# (tenant slug, index among its regular users) -> ban trait; index 0 of acme is the demo user.
BANS = {
    ("globex", 1): "banned_permanent",
    ("soylent", 1): "banned_permanent",
    ("acme", 2): "banned_expiring",
    ("initech", 1): "banned_expiring",
    ("hooli", 1): "banned_expired",
}
BAN_REASONS = ("Spam", "Abusive requests", "Credential sharing", "Chargeback", "No reason")
# When each demo impersonation started: two still live (Better-Auth gives one hour), three ended.
IMPERSONATIONS_STARTED = (
    dt.timedelta(minutes=12),
    dt.timedelta(minutes=41),
    dt.timedelta(hours=3),
    DAY,
    3 * DAY,
)


@dataclass(frozen=True)
class ServerKind:
    transport: str
    latency_ms: float
    tools: tuple[tuple[str, str, tuple[str, ...]], ...]  # name, description, parameters
    resources: tuple[tuple[str, str, str], ...]  # uri, name, mime type


SERVER_KINDS = {
    "github": ServerKind(
        TransportType.STREAMABLE_HTTP,
        180,
        (
            ("search_repositories", "Search repositories", ("query",)),
            ("get_issue", "Read one issue", ("repo", "number")),
            ("create_issue", "Open an issue", ("repo", "title", "body")),
            ("list_pull_requests", "List open pull requests", ("repo",)),
            ("get_file_contents", "Read a file at a ref", ("repo", "path", "ref")),
        ),
        (("github://repos/platform/README.md", "Platform README", "text/markdown"),),
    ),
    "postgres": ServerKind(
        TransportType.STDIO,
        45,
        (
            ("query", "Run a read-only SQL query", ("sql",)),
            ("list_tables", "List tables", ("schema",)),
            ("describe_table", "Describe a table's columns", ("table",)),
            ("explain_query", "Show a query plan", ("sql",)),
        ),
        (("postgres://analytics/schema/public", "Public schema", "application/json"),),
    ),
    "slack": ServerKind(
        TransportType.SSE,
        220,
        (
            ("send_message", "Post a message to a channel", ("channel", "text")),
            ("list_channels", "List channels", ("cursor",)),
            ("search_messages", "Search messages", ("query",)),
        ),
        (("slack://channels", "Channel directory", "application/json"),),
    ),
    "filesystem": ServerKind(
        TransportType.STDIO,
        12,
        (
            ("read_file", "Read a file", ("path",)),
            ("write_file", "Write a file", ("path", "content")),
            ("list_directory", "List a directory", ("path",)),
            ("search_files", "Find files by name", ("pattern",)),
        ),
        (
            ("file:///srv/shared/handbook.md", "Employee handbook", "text/markdown"),
            ("file:///srv/shared/security-policy.pdf", "Security policy", "application/pdf"),
        ),
    ),
    "web-search": ServerKind(
        TransportType.STREAMABLE_HTTP,
        650,
        (
            ("web_search", "Search the web", ("query",)),
            ("fetch_url", "Fetch a page as Markdown", ("url",)),
            ("summarize_page", "Summarise a page", ("url",)),
        ),
        (),
    ),
    "jira": ServerKind(
        TransportType.WEBSOCKET,
        300,
        (
            ("search_issues", "Search issues with JQL", ("jql",)),
            ("create_ticket", "Create a ticket", ("project", "summary")),
            ("transition_issue", "Move an issue to another status", ("key", "status")),
            ("add_comment", "Comment on an issue", ("key", "body")),
        ),
        (("jira://projects", "Projects", "application/json"),),
    ),
    "weather": ServerKind(
        TransportType.SSE,
        140,
        (
            ("get_forecast", "Five-day forecast", ("latitude", "longitude")),
            ("get_current_conditions", "Current conditions", ("station",)),
        ),
        (("weather://stations", "Stations", "application/json"),),
    ),
}

# Cycled over servers in creation order, so every state exists whatever the seed. "stale" is
# healthy when last checked hours ago; "unknown" was never checked.
HEALTH_PLAN = ("healthy", "healthy", "degraded", "healthy", "unhealthy", "stale", "unknown")
ERROR_RATE = {"healthy": 0.006, "stale": 0.01, "degraded": 0.06, "unhealthy": 0.35, "unknown": 0.02}
SLOWDOWN = {"healthy": 1.0, "stale": 1.1, "degraded": 4.0, "unhealthy": 6.0, "unknown": 1.3}
HEALTH_CHECK_INTERVAL = dt.timedelta(minutes=30)
HEALTH_CHECKS_PER_SERVER = 48

# API keys per tenant status: (state, name); state is an ApiKeyFactory trait or "active".
KEY_PLAN = {
    TenantStatus.ACTIVE: (
        ("active", "Production"),
        ("active", "Staging"),
        ("never_expires", "CI pipeline"),
        ("expiring", "Analytics export"),
        ("expired", "Old integration"),
        ("revoked", "Leaked laptop key"),
    ),
    TenantStatus.TRIAL: (("active", "Trial evaluation"), ("expiring", "Proof of concept")),
    TenantStatus.SUSPENDED: (("revoked", "Production"), ("expired", "Staging")),
    TenantStatus.ARCHIVED: (("revoked", "Production"),),
}
# The documented scope catalog, so the key list's scope filter finds every demo key.
KEY_SCOPES = tuple(scope.value for scope in SCOPE_CATALOG)

# Audit actions: (action, resource type, actor type, weight, failure rate, denied rate).
AUDIT_CATALOGUE = (
    ("user.sign_in", "user", "user", 300, 0.07, 0.01),
    ("user.sign_out", "user", "user", 120, 0.0, 0.0),
    ("user.password_change", "user", "user", 12, 0.05, 0.0),
    ("user.update", "user", "user", 20, 0.01, 0.0),
    (AuditAction.STAFF_SIGN_IN, None, "staff", 40, 0.04, 0.02),
    (AuditAction.USER_BAN, "user", "staff", 8, 0.01, 0.03),
    (AuditAction.USER_UNBAN, "user", "staff", 5, 0.01, 0.03),
    (AuditAction.USER_ROLE_CHANGE, "user", "staff", 6, 0.01, 0.05),
    (AuditAction.SESSION_REVOKE, "session", "staff", 15, 0.02, 0.02),
    (AuditAction.SESSION_REVOKE_ALL, "user", "staff", 5, 0.01, 0.02),
    ("impersonation.start", "user", "staff", 10, 0.01, 0.04),
    ("impersonation.stop", "user", "staff", 9, 0.0, 0.0),
    (AuditAction.API_KEY_CREATE, "api_key", "user", 20, 0.02, 0.03),
    (AuditAction.API_KEY_REVOKE, "api_key", "user", 8, 0.01, 0.02),
    (AuditAction.API_KEY_ROTATE, "api_key", "user", 5, 0.01, 0.01),
    ("api_key.expire", "api_key", "system", 4, 0.0, 0.0),
    ("api_key.rate_limited", "api_key", "api_key", 25, 0.0, 1.0),
    ("server.register", "server", "user", 6, 0.05, 0.02),
    ("server.update", "server", "user", 10, 0.02, 0.02),
    (AuditAction.SERVER_DEACTIVATE, "server", "staff", 3, 0.01, 0.02),
    (AuditAction.SERVER_REACTIVATE, "server", "staff", 2, 0.01, 0.02),
    ("server.health_change", "server", "system", 60, 0.0, 0.0),
    ("tenant.update", "tenant", "staff", 3, 0.01, 0.02),
    (AuditAction.AUDIT_LOG_EXPORT, None, "staff", 4, 0.02, 0.05),
)
# Request methods, weighted; tools/call picks one of its server's seeded tools.
REQUEST_METHODS = (
    ("tools/call", 70),
    ("tools/list", 8),
    ("resources/read", 9),
    ("resources/list", 4),
    ("prompts/get", 2),
    ("initialize", 5),
    ("ping", 2),
)
# Traffic by UTC hour of day (office hours in Europe and the Americas).
HOURLY_WEIGHTS = (3, 2, 2, 2, 2, 3, 5, 8, 11, 13, 13, 12, 11, 12, 14, 15, 14, 12, 10, 8, 7, 6, 5, 4)
BROWSER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
    "mcp-gateway-cli/1.4.2 (linux; x64)",
)
AUTOMATION_AGENT = "python-httpx/0.27.2"
