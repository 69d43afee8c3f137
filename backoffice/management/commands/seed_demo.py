"""``manage.py seed_demo``: fill a dev or demo database with a realistic gateway.

The object graph (tenants, users, accounts, sessions, servers, tools, resources, health checks,
API keys) is made through the apps' factories in one transaction. The two logs are loaded with
set-based SQL, one ``INSERT ... SELECT FROM generate_series`` per day of history and ordered by
time, so ids grow with ``created_at`` as in the gateway's append-only tables (the BRIN index on
``audit_logs.created_at`` relies on that). The demo passwords printed at the end are public:
never seed a database that real people can reach.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import factory.random
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from faker import Faker

from backoffice.audit_actions import AuditAction
from backoffice.roles import Role
from registry.factories import (
    McpResourceFactory,
    McpServerFactory,
    McpToolFactory,
    ServerHealthCheckFactory,
)
from registry.models import McpServer, McpTool, ServerHealth, ServerHealthCheck, TransportType
from security.factories import (
    AccountFactory,
    ApiKeyFactory,
    CredentialAccountFactory,
    GatewaySessionFactory,
    GatewayUserFactory,
    ImpersonationSessionFactory,
    VerificationFactory,
)
from security.models import ApiKey, GatewayUser
from tenants.factories import TenantFactory
from tenants.models import Tenant, TenantStatus

DAY = dt.timedelta(days=1)
HISTORY_DAYS = 30
# Users, servers and keys that the logs name existed before the history the logs cover.
BEFORE_HISTORY = (HISTORY_DAYS + 5) * DAY
DEFAULT_LOG_ROWS = 200_000


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
KEY_SCOPES = ("tools:call", "tools:list", "resources:read", "resources:list", "prompts:get")

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

# Bulk log rows: random draws materialised first so that one row's choices stay together; the
# actor, resource and tenant of an event agree (a user acts in their own tenant).
INSERT_AUDIT_LOGS = """
WITH draws AS MATERIALIZED (
    SELECT
        (%(action_slots)s::int[])[1 + floor(random() * %(action_slot_count)s)::int] AS a,
        1 + floor(random() * cardinality(%(user_ids)s::text[]))::int AS u,
        1 + floor(random() * cardinality(%(staff_ids)s::text[]))::int AS st,
        1 + floor(random() * cardinality(%(api_key_ids)s::uuid[]))::int AS k,
        1 + floor(random() * cardinality(%(server_ids)s::uuid[]))::int AS s,
        1 + floor(random() * cardinality(%(tenant_ids)s::uuid[]))::int AS t,
        1 + floor(random() * cardinality(%(ip_addresses)s::inet[]))::int AS ip,
        1 + floor(random() * cardinality(%(browser_agents)s::text[]))::int AS ua,
        (%(hour_slots)s::int[])[1 + floor(random() * %(hour_slot_count)s)::int] AS hour,
        random() AS r_time,
        random() AS r_outcome,
        random() AS r_detail,
        md5(random()::text) AS h1,
        md5(random()::text) AS h2
    FROM generate_series(1, %(rows)s)
),
events AS (
    SELECT
        d.*,
        (%(actions)s::text[])[d.a] AS action,
        (%(resource_types)s::text[])[d.a] AS resource_type,
        (%(actor_types)s::text[])[d.a] AS actor_type,
        CASE
            WHEN d.r_outcome < (%(denied_rates)s::float8[])[d.a] THEN 'denied'
            WHEN d.r_outcome < (%(denied_rates)s::float8[])[d.a]
                + (%(failure_rates)s::float8[])[d.a] THEN 'failure'
            ELSE 'success'
        END AS outcome,
        CASE WHEN %(full_day)s
            THEN %(window_start)s + make_interval(hours => d.hour) + d.r_time * interval '1 hour'
            ELSE %(window_start)s + d.r_time * (%(window_end)s - %(window_start)s)
        END AS created_at
    FROM draws d
)
INSERT INTO audit_logs (
    tenant_id, actor_id, actor_type, action, resource_type, resource_id, outcome, ip_address,
    user_agent, request_id, session_id, details, created_at
)
SELECT
    CASE e.resource_type
        WHEN 'user' THEN (%(user_tenant_ids)s::uuid[])[e.u]
        WHEN 'session' THEN (%(user_tenant_ids)s::uuid[])[e.u]
        WHEN 'api_key' THEN (%(api_key_tenant_ids)s::uuid[])[e.k]
        WHEN 'server' THEN (%(server_tenant_ids)s::uuid[])[e.s]
        WHEN 'tenant' THEN (%(tenant_ids)s::uuid[])[e.t]
    END,
    CASE e.actor_type
        WHEN 'staff' THEN (%(staff_ids)s::text[])[e.st]
        WHEN 'api_key' THEN (%(api_key_ids)s::uuid[])[e.k]::text
        WHEN 'user' THEN CASE e.resource_type
            WHEN 'api_key' THEN (%(api_key_creator_ids)s::text[])[e.k]
            WHEN 'server' THEN (%(server_creator_ids)s::text[])[e.s]
            ELSE (%(user_ids)s::text[])[e.u]
        END
    END,
    e.actor_type,
    e.action,
    e.resource_type,
    CASE e.resource_type
        WHEN 'user' THEN (%(user_ids)s::text[])[e.u]
        WHEN 'session' THEN e.h1
        WHEN 'api_key' THEN (%(api_key_ids)s::uuid[])[e.k]::text
        WHEN 'server' THEN (%(server_ids)s::uuid[])[e.s]::text
        WHEN 'tenant' THEN (%(tenant_ids)s::uuid[])[e.t]::text
    END,
    e.outcome::audit_outcome,
    CASE WHEN e.actor_type <> 'system' THEN (%(ip_addresses)s::inet[])[e.ip] END,
    CASE e.actor_type
        WHEN 'system' THEN NULL
        WHEN 'api_key' THEN %(automation_agent)s
        ELSE (%(browser_agents)s::text[])[e.ua]
    END,
    md5(e.h1 || e.h2)::uuid,
    CASE WHEN e.actor_type IN ('user', 'staff') THEN e.h2 END,
    CASE
        WHEN e.outcome = 'denied' AND e.action = 'api_key.rate_limited'
            THEN jsonb_build_object('limit_per_minute', 60, 'window_seconds', 60)
        WHEN e.outcome = 'denied' THEN jsonb_build_object('reason', 'missing capability')
        WHEN e.outcome = 'failure' AND e.action = 'user.sign_in'
            THEN jsonb_build_object('error', 'invalid password')
        WHEN e.outcome = 'failure' THEN jsonb_build_object('error', 'upstream timeout')
        WHEN e.action = 'user.ban' THEN jsonb_build_object(
            'reason', (%(ban_reasons)s::text[])[1 + floor(e.r_detail * %(ban_reason_count)s)::int],
            'expires_in_days', CASE WHEN e.r_detail < 0.4 THEN NULL ELSE 7 END
        )
        WHEN e.action = 'user.role_change' THEN jsonb_build_object(
            'from', 'user', 'to', CASE WHEN e.r_detail < 0.7 THEN 'tenant_admin' ELSE 'auditor' END
        )
        WHEN e.action = 'impersonation.start' THEN jsonb_build_object('expires_in_seconds', 3600)
        WHEN e.action = 'server.health_change' THEN jsonb_build_object(
            'from', CASE WHEN e.r_detail < 0.5 THEN 'healthy' ELSE 'degraded' END,
            'to', CASE WHEN e.r_detail < 0.5 THEN 'degraded' ELSE 'unhealthy' END
        )
        WHEN e.action = 'api_key.create'
            THEN jsonb_build_object('scopes', jsonb_build_array('tools:call', 'resources:read'))
        ELSE '{}'::jsonb
    END,
    e.created_at
FROM events e
ORDER BY e.created_at
"""

# A caller (an API key, or a user in the gateway's UI) calls a server of its own tenant; servers
# are numbered by tenant and tools by server, so each pick is an index into a slice.
INSERT_REQUEST_LOGS = """
WITH draws AS MATERIALIZED (
    SELECT
        1 + floor(random() * cardinality(%(caller_tenants)s::int[]))::int AS c,
        (%(method_slots)s::text[])[1 + floor(random() * %(method_slot_count)s)::int] AS method,
        (%(hour_slots)s::int[])[1 + floor(random() * %(hour_slot_count)s)::int] AS hour,
        random() AS r_server,
        random() AS r_tool,
        random() AS r_status,
        random() AS r_code,
        1 - random() AS u1,
        random() AS u2,
        random() AS r_bytes,
        random() AS r_time
    FROM generate_series(1, %(rows)s)
),
called AS (
    SELECT d.*, (%(caller_tenants)s::int[])[d.c] AS t
    FROM draws d
),
routed AS (
    SELECT
        c.*,
        (%(tenant_server_starts)s::int[])[c.t]
            + floor(c.r_server * (%(tenant_server_counts)s::int[])[c.t])::int AS s,
        -- Two independent standard normals (Box-Muller) for durations and sizes.
        sqrt(-2 * ln(c.u1)) * cos(2 * pi() * c.u2) AS z1,
        sqrt(-2 * ln(c.u1)) * sin(2 * pi() * c.u2) AS z2
    FROM called c
),
requests AS (
    SELECT
        r.*,
        CASE WHEN r.method = 'tools/call' THEN (%(tool_names)s::text[])[
            (%(server_tool_starts)s::int[])[r.s]
            + floor(r.r_tool * (%(server_tool_counts)s::int[])[r.s])::int
        ] END AS tool_name,
        CASE
            WHEN r.r_status < (%(server_error_rates)s::float8[])[r.s]
                THEN (ARRAY[500, 502, 503, 504, 504])[1 + floor(r.r_code * 5)::int]
            WHEN r.r_status < (%(server_error_rates)s::float8[])[r.s] + 0.04
                THEN (ARRAY[400, 401, 403, 404, 429, 429])[1 + floor(r.r_code * 6)::int]
            ELSE 200
        END AS status_code,
        CASE WHEN %(full_day)s
            THEN %(window_start)s + make_interval(hours => r.hour) + r.r_time * interval '1 hour'
            ELSE %(window_start)s + r.r_time * (%(window_end)s - %(window_start)s)
        END AS created_at
    FROM routed r
)
INSERT INTO request_logs (
    tenant_id, server_id, api_key_id, user_id, method, tool_name, status_code, duration_ms,
    request_bytes, response_bytes, error_message, created_at
)
SELECT
    (%(tenant_ids)s::uuid[])[q.t],
    (%(server_ids)s::uuid[])[q.s],
    (%(caller_api_key_ids)s::uuid[])[q.c],
    (%(caller_user_ids)s::text[])[q.c],
    q.method,
    q.tool_name,
    q.status_code,
    CASE
        WHEN q.status_code = 504 THEN 30000
        -- Refusals are quick: the gateway answers them without calling the server.
        WHEN q.status_code BETWEEN 400 AND 499 OR q.status_code = 503
            THEN 2 + floor(q.r_bytes * 20)::int
        -- Log-normal around the server's latency: most calls near it, a long slow tail.
        ELSE least(30000, greatest(1, round(exp(
            ln((%(server_latencies)s::float8[])[q.s]) + 0.8 * q.z1
        ))))::int
    END,
    120 + floor(q.r_bytes * 3800)::int,
    CASE WHEN q.status_code = 200
        THEN least(5000000, round(exp(ln(1800) + 1.2 * q.z2)))::int
        ELSE 90 + floor(q.r_bytes * 200)::int
    END,
    CASE q.status_code
        WHEN 400 THEN 'Invalid params: missing required argument'
        WHEN 401 THEN 'API key not recognised'
        WHEN 403 THEN 'Scope tools:call not granted'
        WHEN 404 THEN 'Unknown tool or resource'
        WHEN 429 THEN 'Rate limit exceeded'
        WHEN 500 THEN 'MCP server raised an internal error'
        WHEN 502 THEN 'Upstream MCP server unreachable'
        WHEN 503 THEN 'MCP server unavailable'
        WHEN 504 THEN 'MCP server timed out after 30000 ms'
    END,
    q.created_at
FROM requests q
ORDER BY q.created_at
"""

# The counters the gateway keeps next to its logs, brought in line with the loaded history.
SYNC_TOOL_USAGE = """
UPDATE mcp_tools t
SET call_count = u.calls, error_count = u.errors, avg_execution_time_ms = u.avg_ms,
    last_called_at = u.last_at
FROM (
    SELECT server_id, tool_name, count(*) AS calls,
        count(*) FILTER (WHERE status_code >= 400) AS errors,
        avg(duration_ms) AS avg_ms, max(created_at) AS last_at
    FROM request_logs
    WHERE method = 'tools/call'
    GROUP BY server_id, tool_name
) u
WHERE t.server_id = u.server_id AND t.name = u.tool_name
"""
SYNC_SERVER_USAGE = """
UPDATE mcp_servers s
SET request_count = u.requests, error_count = u.errors,
    success_rate = 1 - u.errors::double precision / u.requests
FROM (
    SELECT server_id, count(*) AS requests, count(*) FILTER (WHERE status_code >= 400) AS errors
    FROM request_logs
    GROUP BY server_id
) u
WHERE s.id = u.server_id
"""
SYNC_API_KEY_USAGE = """
UPDATE api_keys k
SET usage_count = u.uses, last_used_at = u.last_at
FROM (
    SELECT api_key_id, count(*) AS uses, max(created_at) AS last_at
    FROM request_logs
    WHERE api_key_id IS NOT NULL
    GROUP BY api_key_id
) u
WHERE k.id = u.api_key_id
"""
SET_RANDOM_SEED = "SELECT setseed(%s)"
# Bulk loading may outlast the per-statement timeout that protects pages.
DISABLE_STATEMENT_TIMEOUT = "SET LOCAL statement_timeout = 0"
ANALYZE_LOGS = ("ANALYZE audit_logs", "ANALYZE request_logs")


@dataclass
class ServerPlan:
    server: McpServer
    state: str
    tools: list[McpTool] = field(default_factory=list)


@dataclass
class DemoGraph:
    """What the log loader needs to know of the seeded object graph."""

    tenants: list[Tenant] = field(default_factory=list)
    staff: list[GatewayUser] = field(default_factory=list)
    tenant_users: list[GatewayUser] = field(default_factory=list)
    tenant_admins: dict[uuid.UUID, GatewayUser] = field(default_factory=dict)
    servers: list[ServerPlan] = field(default_factory=list)
    api_keys: list[ApiKey] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    @property
    def admin(self) -> GatewayUser:
        return self.staff[0]

    def callable_keys(self, now: dt.datetime) -> list[ApiKey]:
        return [
            key
            for key in self.api_keys
            if key.is_active and (key.expires_at is None or key.expires_at > now)
        ]


class DemoBuilder:
    """Creates the demo object graph through the factories, deterministically for a seed."""

    def __init__(self, rng: random.Random, fake: Faker, now: dt.datetime) -> None:
        self.rng = rng
        self.fake = fake
        self.now = now
        self.graph = DemoGraph()
        self._local_parts: set[str] = set()

    def build(self) -> DemoGraph:
        self._tenants_and_users()
        self._sessions()
        self._registry()
        self._api_keys()
        for _ in range(3):
            VerificationFactory.create(value=self.rng.choice(self.graph.tenant_users).id)
        self.graph.counts["verifications"] = 3
        return self.graph

    def _ago(self, low: dt.timedelta, high: dt.timedelta) -> dt.datetime:
        seconds = self.rng.uniform(low.total_seconds(), high.total_seconds())
        return self.now - dt.timedelta(seconds=seconds)

    def _email(self, first: str, last: str, domain: str) -> str:
        """``first.last@domain``; the local part is unique across domains (usernames use it)."""
        base = re.sub(r"[^a-z]", "", first.lower()) + "." + re.sub(r"[^a-z]", "", last.lower())
        local, n = base, 1
        while local in self._local_parts:
            n += 1
            local = f"{base}{n}"
        return f"{local}@{domain}"

    def _user(
        self,
        *,
        role: str,
        tenant: Tenant | None,
        email: str | None = None,
        name: str | None = None,
        password: str | None = None,
        traits: dict[str, Any] | None = None,
    ) -> GatewayUser:
        first, last = self.fake.first_name(), self.fake.last_name()
        domain = f"{tenant.slug}.example" if tenant else "gateway.example"
        email = email or self._email(first, last, domain)
        local_part = email.split("@")[0]
        self._local_parts.add(local_part)
        created_at = self._ago(
            BEFORE_HISTORY, min(self.now - tenant.created_at, 300 * DAY) if tenant else 400 * DAY
        )
        provider = "credential" if password else self.rng.choice(("credential", "github", "google"))
        user = GatewayUserFactory.create(
            name=name or f"{first} {last}",
            email=email,
            username=local_part.replace(".", "_"),
            role=role,
            tenant=tenant,
            auth_provider=provider,
            created_at=created_at,
            updated_at=created_at,
            last_login_at=(
                self._ago(BEFORE_HISTORY, self.now - created_at)
                if traits and traits.get("inactive")
                else self._ago(dt.timedelta(minutes=5), 6 * DAY)
            ),
            **(traits or {}),
        )
        if provider == "credential":
            CredentialAccountFactory.create(
                user=user,
                raw_password=password or OTHER_DEMO_PASSWORD,
                created_at=created_at,
                updated_at=created_at,
            )
        else:
            AccountFactory.create(
                user=user, provider_id=provider, created_at=created_at, updated_at=created_at
            )
        self.graph.counts["users"] += 1
        self.graph.counts[f"{provider} accounts"] += 1
        return user

    def _tenants_and_users(self) -> None:
        demo = {sign_in.role: sign_in for sign_in in DEMO_SIGN_INS}
        staff = self.graph.staff
        for role, extra_role in ((Role.ADMIN, "admin"), (Role.SUPPORT, "support,auditor")):
            sign_in = demo[role]
            staff.append(
                self._user(
                    role=role.value,
                    tenant=None,
                    email=sign_in.email,
                    name=f"Demo {role.value.title()}",
                    password=sign_in.password,
                )
            )
            staff.append(self._user(role=extra_role, tenant=None, password=OTHER_DEMO_PASSWORD))
        auditor = demo[Role.AUDITOR]
        staff.append(
            self._user(
                role=Role.AUDITOR.value,
                tenant=None,
                email=auditor.email,
                name="Demo Auditor",
                password=auditor.password,
            )
        )
        for spec in DEMO_TENANTS:
            created_at = self._ago(60 * DAY, 400 * DAY)
            tenant = TenantFactory.create(
                name=spec.name,
                slug=spec.slug,
                status=spec.status,
                plan=spec.plan,
                max_servers={"enterprise": 50, "pro": 20}.get(spec.plan, 5),
                max_api_keys={"enterprise": 100, "pro": 40}.get(spec.plan, 10),
                settings={"region": self.rng.choice(("eu-west-1", "us-east-1"))},
                created_at=created_at,
                updated_at=self._ago(dt.timedelta(0), self.now - created_at),
            )
            self.graph.tenants.append(tenant)
            self.graph.counts[f"{spec.status} tenants"] += 1
            if spec.slug in TENANT_ADMIN_SLUGS:
                demo_admin = demo[Role.TENANT_ADMIN] if spec.slug == "acme" else None
                self.graph.tenant_admins[tenant.id] = self._user(
                    role=Role.TENANT_ADMIN.value,
                    tenant=tenant,
                    email=demo_admin.email if demo_admin else None,
                    name="Demo Tenant Admin" if demo_admin else None,
                    password=demo_admin.password if demo_admin else OTHER_DEMO_PASSWORD,
                )
            for index in range(spec.regular_users):
                self.graph.tenant_users.append(self._regular_user(spec, tenant, index, demo))

    def _regular_user(
        self, spec: DemoTenant, tenant: Tenant, index: int, demo: dict[Role, DemoSignIn]
    ) -> GatewayUser:
        if spec.slug == "acme" and index == 0:
            sign_in = demo[Role.USER]
            return self._user(
                role=Role.USER.value,
                tenant=tenant,
                email=sign_in.email,
                name="Demo User",
                password=sign_in.password,
            )
        traits: dict[str, Any] = {}
        ban = BANS.get((spec.slug, index))
        if ban:
            traits[ban] = True
            traits["ban_reason"] = self.rng.choice(BAN_REASONS)
            if ban == "banned_expiring":
                traits["ban_expires"] = self.now + self.rng.uniform(2, 20) * DAY
            elif ban == "banned_expired":
                traits["ban_expires"] = self.now - self.rng.uniform(1, 5) * DAY
        if spec.status == TenantStatus.ARCHIVED:
            traits["inactive"] = True
        return self._user(role=Role.USER.value, tenant=tenant, traits=traits)

    def _sessions(self) -> None:
        """Live and expired sessions; none for banned users (a ban deletes them)."""
        # A suspended tenant's users cannot sign in: only their old sessions remain.
        locked_out = {
            t.id
            for t in self.graph.tenants
            if t.status in (TenantStatus.SUSPENDED, TenantStatus.ARCHIVED)
        }
        people = self.graph.staff + list(self.graph.tenant_admins.values())
        people += self.graph.tenant_users
        for user in people:
            if user.banned or not user.is_active:
                continue
            # Every platform staff member is signed in somewhere.
            least = 1 if user.tenant_id is None else 0
            live = 0 if user.tenant_id in locked_out else self.rng.randint(least, 2)
            for _ in range(live):
                created_at = self._ago(dt.timedelta(minutes=10), 6 * DAY)
                GatewaySessionFactory.create(
                    user=user,
                    created_at=created_at,
                    updated_at=created_at,
                    last_activity_at=self._ago(dt.timedelta(0), self.now - created_at),
                )
            expired = self.rng.randint(0, 2)
            for _ in range(expired):
                created_at = self._ago(8 * DAY, 29 * DAY)
                GatewaySessionFactory.create(
                    user=user,
                    created_at=created_at,
                    updated_at=created_at,
                    last_activity_at=created_at + self.rng.uniform(0, 6) * DAY,
                    is_active=self.rng.random() < 0.7,
                )
            self.graph.counts["live sessions"] += live
            self.graph.counts["expired sessions"] += expired
        admins = [user for user in self.graph.staff if user.role == Role.ADMIN.value]
        targets = [
            u for u in self.graph.tenant_users if not u.banned and u.is_active and u.tenant_id
        ]
        for n, started in enumerate(IMPERSONATIONS_STARTED):
            created_at = self.now - started
            ImpersonationSessionFactory.create(
                user=self.rng.choice(targets),
                impersonated_by=admins[n % len(admins)].id,
                created_at=created_at,
                updated_at=created_at,
                last_activity_at=created_at + dt.timedelta(minutes=5),
                user_agent=BROWSER_AGENTS[0],
            )
            self.graph.counts["impersonation sessions"] += 1

    def _registry(self) -> None:
        states = iter(HEALTH_PLAN * 10)
        checks: list[ServerHealthCheck] = []
        for tenant, spec in zip(self.graph.tenants, DEMO_TENANTS, strict=True):
            creator = self.graph.tenant_admins.get(tenant.id, self.graph.admin)
            for kind_name in spec.server_kinds:
                kind = SERVER_KINDS[kind_name]
                state = next(states)
                checks.extend(self._server(tenant, spec, kind_name, kind, state, creator))
        ServerHealthCheck.unscoped.bulk_create(checks)
        self.graph.counts["health checks"] = len(checks)

    def _server(
        self,
        tenant: Tenant,
        spec: DemoTenant,
        kind_name: str,
        kind: ServerKind,
        state: str,
        creator: GatewayUser,
    ) -> list[ServerHealthCheck]:
        health = ServerHealth.HEALTHY if state == "stale" else ServerHealth(state)
        last_check: dt.datetime | None = None
        if state == "stale":
            last_check = self._ago(dt.timedelta(hours=2), dt.timedelta(hours=6))
        elif state != "unknown":
            last_check = self._ago(dt.timedelta(seconds=5), dt.timedelta(seconds=150))
        latency = kind.latency_ms * SLOWDOWN[state]
        created_at = self._ago(BEFORE_HISTORY, self.now - tenant.created_at)
        server = McpServerFactory.create(
            tenant=tenant,
            name=kind_name,
            description=f"{kind_name.replace('-', ' ').title()} tools for {tenant.name}",
            endpoint_url=(
                f"stdio://{kind_name}"
                if kind.transport == TransportType.STDIO
                else f"https://mcp.{tenant.slug}.example/{kind_name}"
            ),
            transport_type=kind.transport,
            health_status=health,
            last_health_check_at=last_check,
            consecutive_failures=self.rng.randint(5, 9) if state == "unhealthy" else 0,
            avg_response_time_ms=None if last_check is None else round(latency, 1),
            version=f"{self.rng.randint(0, 2)}.{self.rng.randint(0, 12)}.{self.rng.randint(0, 9)}",
            tags=[kind_name, spec.plan],
            # A suspended tenant's servers were switched off with it.
            is_active=spec.status != TenantStatus.SUSPENDED,
            created_by=creator,
            created_at=created_at,
            updated_at=created_at,
        )
        plan = ServerPlan(server, state)
        for name, description, parameters in kind.tools:
            plan.tools.append(
                McpToolFactory.create(
                    server=server,
                    name=name,
                    description=description,
                    input_schema={
                        "type": "object",
                        "properties": {p: {"type": "string"} for p in parameters},
                        "required": [parameters[0]],
                    },
                    created_at=created_at,
                    updated_at=created_at,
                )
            )
        for uri, name, mime_type in kind.resources:
            McpResourceFactory.create(
                server=server,
                uri=uri,
                name=name,
                mime_type=mime_type,
                access_count=self.rng.randint(0, 5000),
                last_accessed_at=self._ago(dt.timedelta(minutes=1), 3 * DAY),
                created_at=created_at,
                updated_at=created_at,
            )
        self.graph.servers.append(plan)
        self.graph.counts[f"{state} servers"] += 1
        self.graph.counts["tools"] += len(kind.tools)
        self.graph.counts["resources"] += len(kind.resources)
        if last_check is None:
            return []
        return [
            self._health_check(server, state, latency, last_check, n, server.consecutive_failures)
            for n in range(HEALTH_CHECKS_PER_SERVER)
        ]

    def _health_check(
        self,
        server: McpServer,
        state: str,
        latency: float,
        last_check: dt.datetime,
        n: int,
        failures: int,
    ) -> ServerHealthCheck:
        """The n-th most recent check, consistent with the server's state now."""
        if state == "unhealthy" and n < failures:
            status = "unhealthy"
        elif state == "degraded" and n == 0:
            status = "degraded"
        else:
            status = self.rng.choices(
                ("healthy", "degraded", "unhealthy"),
                weights=(60, 30, 10) if state in ("degraded", "unhealthy") else (97, 3, 0),
            )[0]
        traits = {"degraded": {"degraded": True}, "unhealthy": {"unhealthy": True}}
        check: ServerHealthCheck = ServerHealthCheckFactory.build(
            server=server,
            checked_at=last_check - n * HEALTH_CHECK_INTERVAL,
            **traits.get(status, {}),
        )
        if status != "unhealthy":
            slow = 3 if status == "degraded" else 1
            check.response_time_ms = round(latency * slow * self.rng.uniform(0.7, 1.4))
        return check

    def _api_keys(self) -> None:
        for tenant in self.graph.tenants:
            owner = self.graph.tenant_admins.get(tenant.id)
            for state, name in KEY_PLAN[TenantStatus(tenant.status)]:
                created_at = self._ago(BEFORE_HISTORY, min(200 * DAY, self.now - tenant.created_at))
                traits: dict[str, Any] = {}
                if state == "active":
                    traits["expires_at"] = self.now + self.rng.uniform(30, 365) * DAY
                elif state == "expiring":
                    traits["expires_at"] = self.now + self.rng.uniform(0.5, 6.5) * DAY
                elif state == "expired":
                    traits["expires_at"] = self.now - self.rng.uniform(1, 12) * DAY
                    traits["last_used_at"] = traits["expires_at"] - self.rng.uniform(0, 2) * DAY
                    traits["usage_count"] = self.rng.randint(10, 90_000)
                elif state == "revoked":
                    revoked_at = self._ago(DAY, 12 * DAY)
                    traits.update(
                        revoked=True,
                        revoked_at=revoked_at,
                        # Staff revoke keys of suspended and archived tenants.
                        revoked_by=(
                            owner.id
                            if owner and tenant.status == TenantStatus.ACTIVE
                            else self.graph.admin.id
                        ),
                        last_used_at=revoked_at - self.rng.uniform(0, 3) * DAY,
                        usage_count=self.rng.randint(10, 90_000),
                    )
                else:
                    traits[state] = True
                key = ApiKeyFactory.create(
                    tenant=tenant,
                    created_by=owner,
                    name=name,
                    scopes=sorted(self.rng.sample(KEY_SCOPES, self.rng.randint(1, 4))),
                    rate_limit_per_minute={"enterprise": 600, "pro": 120}.get(tenant.plan, 60),
                    created_at=created_at,
                    updated_at=created_at,
                    **traits,
                )
                self.graph.api_keys.append(key)
                self.graph.counts[f"{state.replace('_', ' ')} API keys"] += 1


def history_windows(now: dt.datetime, days: int) -> list[tuple[dt.datetime, dt.datetime, bool]]:
    """Cut the last ``days`` days at UTC midnights: (start, end, whether a whole day)."""
    windows = []
    start = now - days * DAY
    while start < now:
        midnight = start.replace(hour=0, minute=0, second=0, microsecond=0)
        end = min(midnight + DAY, now)
        windows.append((start, end, start == midnight and end - start == DAY))
        start = end
    return windows


def split_rows(total: int, weights: list[float]) -> list[int]:
    """Share ``total`` rows out by weight, exactly (largest remainder)."""
    shares = [total * w / sum(weights) for w in weights]
    counts = [int(s) for s in shares]
    by_remainder = sorted(range(len(shares)), key=lambda i: shares[i] - counts[i], reverse=True)
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return counts


def slots(weighted: list[tuple[Any, int]]) -> list[Any]:
    """Repeat each value by its weight, so a uniform pick of a slot is a weighted pick."""
    return [value for value, weight in weighted for _ in range(weight)]


class LogLoader:
    """Loads audit and request log history with set-based SQL, day by day."""

    def __init__(self, graph: DemoGraph, rng: random.Random, now: dt.datetime) -> None:
        self.now = now
        self.windows = history_windows(now, HISTORY_DAYS)
        # Quieter weekends, and a little growth over the month.
        self.weights = [
            (end - start) / DAY * (0.55 if start.weekday() >= 5 else 1.0) * (1 + 0.01 * i)
            for i, (start, end, _) in enumerate(self.windows)
        ]
        hour_slots = slots(list(enumerate(HOURLY_WEIGHTS)))
        self.common = {"hour_slots": hour_slots, "hour_slot_count": len(hour_slots)}
        self.audit_params = self._audit_params(graph, rng)
        self.request_params = self._request_params(graph)

    def _audit_params(self, graph: DemoGraph, rng: random.Random) -> dict[str, Any]:
        action_slots = slots([(i + 1, entry[3]) for i, entry in enumerate(AUDIT_CATALOGUE)])
        # Users of archived tenants have been inactive for longer than the history.
        users = [u for u in graph.tenant_users + list(graph.tenant_admins.values()) if u.is_active]
        servers = [plan.server for plan in graph.servers]
        admin_id = graph.admin.id
        return {
            "action_slots": action_slots,
            "action_slot_count": len(action_slots),
            "actions": [str(entry[0]) for entry in AUDIT_CATALOGUE],
            "resource_types": [entry[1] for entry in AUDIT_CATALOGUE],
            "actor_types": [entry[2] for entry in AUDIT_CATALOGUE],
            "failure_rates": [entry[4] for entry in AUDIT_CATALOGUE],
            "denied_rates": [entry[5] for entry in AUDIT_CATALOGUE],
            "user_ids": [u.id for u in users],
            "user_tenant_ids": [u.tenant_id for u in users],
            "staff_ids": [u.id for u in graph.staff],
            "api_key_ids": [k.id for k in graph.api_keys],
            "api_key_tenant_ids": [k.tenant_id for k in graph.api_keys],
            "api_key_creator_ids": [k.created_by_id or admin_id for k in graph.api_keys],
            "server_ids": [s.id for s in servers],
            "server_tenant_ids": [s.tenant_id for s in servers],
            "server_creator_ids": [s.created_by_id or admin_id for s in servers],
            "tenant_ids": [t.id for t in graph.tenants],
            "ip_addresses": [
                f"{rng.choice((81, 92, 145, 185, 203))}.{rng.randint(0, 255)}."
                f"{rng.randint(0, 255)}.{rng.randint(1, 254)}"
                for _ in range(60)
            ],
            "browser_agents": list(BROWSER_AGENTS),
            "automation_agent": AUTOMATION_AGENT,
            "ban_reasons": list(BAN_REASONS),
            "ban_reason_count": len(BAN_REASONS),
        }

    def _request_params(self, graph: DemoGraph) -> dict[str, Any]:
        # Only tenants with active servers get traffic; servers numbered by tenant, tools by server.
        tenants = [
            t
            for t in graph.tenants
            if any(p.server.tenant_id == t.id and p.server.is_active for p in graph.servers)
        ]
        tenant_index = {t.id: i + 1 for i, t in enumerate(tenants)}
        servers = sorted(
            (p for p in graph.servers if p.server.tenant_id in tenant_index),
            key=lambda p: tenant_index[p.server.tenant_id],
        )
        starts: list[int] = []
        counts: list[int] = []
        tool_starts: list[int] = []
        tool_counts: list[int] = []
        tool_names: list[str] = []
        for tenant in tenants:
            own = [i for i, p in enumerate(servers) if p.server.tenant_id == tenant.id]
            starts.append(own[0] + 1)
            counts.append(len(own))
        for plan in servers:
            tool_starts.append(len(tool_names) + 1)
            tool_counts.append(len(plan.tools))
            tool_names.extend(tool.name for tool in plan.tools)
        callers: list[tuple[int, uuid.UUID | None, str | None]] = []
        for key in graph.callable_keys(self.now):
            if key.tenant_id in tenant_index:
                callers += [(tenant_index[key.tenant_id], key.id, None)] * 4
        for user in graph.tenant_users:
            if user.tenant_id in tenant_index and not user.banned and user.is_active:
                callers.append((tenant_index[user.tenant_id], None, user.id))
        method_slots = slots(list(REQUEST_METHODS))
        return {
            "tenant_ids": [t.id for t in tenants],
            "tenant_server_starts": starts,
            "tenant_server_counts": counts,
            "server_ids": [p.server.id for p in servers],
            "server_tool_starts": tool_starts,
            "server_tool_counts": tool_counts,
            "server_error_rates": [ERROR_RATE[p.state] for p in servers],
            "server_latencies": [
                SERVER_KINDS[p.server.name].latency_ms * SLOWDOWN[p.state] for p in servers
            ],
            "tool_names": tool_names,
            "caller_tenants": [c[0] for c in callers],
            "caller_api_key_ids": [c[1] for c in callers],
            "caller_user_ids": [c[2] for c in callers],
            "method_slots": method_slots,
            "method_slot_count": len(method_slots),
        }

    def load(self, cursor: Any, sql: str, params: dict[str, Any], total: int) -> None:
        """Insert ``total`` rows with ``sql``, one statement per window, oldest first."""
        for (start, end, full_day), rows in zip(
            self.windows, split_rows(total, self.weights), strict=True
        ):
            if rows:
                window = {"rows": rows, "window_start": start, "window_end": end}
                cursor.execute(sql, {**self.common, **params, **window, "full_day": full_day})


class Command(BaseCommand):
    help = (
        "Fill the database with demo data: tenants in every status, users of every role (some "
        "banned), sessions and impersonations, servers in every health state with tools, "
        "resources and health checks, API keys in every state, and 30 days of audit and request "
        "logs. Prints one sign-in per role. For dev and demo databases only."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--once", action="store_true", help="Do nothing if the demo is already seeded."
        )
        parser.add_argument(
            "--log-rows",
            type=int,
            default=DEFAULT_LOG_ROWS,
            help=f"Rows for each of audit_logs and request_logs (default {DEFAULT_LOG_ROWS}).",
        )
        parser.add_argument(
            "--seed", type=int, default=None, help="Random seed, for repeatability."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if GatewayUser.unscoped.filter(email=DEMO_SIGN_INS[0].email).exists():
            if options["once"]:
                self.stdout.write("The demo data is already seeded: nothing to do.")
                return
            raise CommandError(
                f"{DEMO_SIGN_INS[0].email} exists: this database is already seeded. "
                "Use --once to skip, or seed a fresh database."
            )
        log_rows, seed = options["log_rows"], options["seed"]
        if log_rows < 0:
            raise CommandError("--log-rows must be zero or more.")
        rng = random.Random(seed)
        fake = Faker("en_US")
        if seed is not None:
            factory.random.reseed_random(seed)
            fake.seed_instance(seed)
        now = dt.datetime.now(dt.UTC)
        started = time.perf_counter()

        # One transaction for everything: a failed run leaves nothing that --once would mistake
        # for a finished demo.
        with transaction.atomic():
            graph = DemoBuilder(rng, fake, now).build()
            self.stdout.write(f"Object graph created in {time.perf_counter() - started:.1f} s.")
            loader = LogLoader(graph, rng, now)
            with connection.cursor() as cursor:
                cursor.execute(DISABLE_STATEMENT_TIMEOUT)
                if seed is not None:
                    cursor.execute(SET_RANDOM_SEED, [(seed % 2**31) / 2**31])
                for table, sql, params in (
                    ("audit", INSERT_AUDIT_LOGS, loader.audit_params),
                    ("request", INSERT_REQUEST_LOGS, loader.request_params),
                ):
                    step = time.perf_counter()
                    loader.load(cursor, sql, params, log_rows)
                    self.stdout.write(
                        f"{log_rows} {table} log rows loaded in {time.perf_counter() - step:.1f} s."
                    )
                for statement in (SYNC_TOOL_USAGE, SYNC_SERVER_USAGE, SYNC_API_KEY_USAGE):
                    cursor.execute(statement)
        with connection.cursor() as cursor:
            for statement in ANALYZE_LOGS:
                cursor.execute(statement)

        self.stdout.write(
            "Created " + ", ".join(f"{n} {what}" for what, n in sorted(graph.counts.items())) + "."
        )
        self.stdout.write(f"Seeded in {time.perf_counter() - started:.1f} s.")
        self.stdout.write("Demo sign-ins (demo passwords, never use them anywhere real):")
        for sign_in in DEMO_SIGN_INS:
            self.stdout.write(f"  {sign_in.role.value:<13} {sign_in.email:<27} {sign_in.password}")
