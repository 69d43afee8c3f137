"""The request log history, routed through the seeded registry, and the counters kept beside it."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from backoffice.demo.catalog import ERROR_RATE, REQUEST_METHODS, SERVER_KINDS, SLOWDOWN
from backoffice.demo.graph import DemoGraph
from backoffice.demo.logs import slots

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


def request_log_params(graph: DemoGraph, now: dt.datetime) -> dict[str, Any]:
    """What ``INSERT_REQUEST_LOGS`` draws from: callers, their servers and tools, by tenant."""
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
    for key in graph.callable_keys(now):
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


def sync_usage_counters(cursor: Any) -> None:
    """Bring the tools', servers' and API keys' usage counters in line with the request logs."""
    for statement in (SYNC_TOOL_USAGE, SYNC_SERVER_USAGE, SYNC_API_KEY_USAGE):
        cursor.execute(statement)
