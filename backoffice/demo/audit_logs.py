"""The audit log history: one INSERT of generated events, and the parameters it draws from."""

from __future__ import annotations

import random
from typing import Any

from backoffice.demo.catalog import AUDIT_CATALOGUE, AUTOMATION_AGENT, BAN_REASONS, BROWSER_AGENTS
from backoffice.demo.graph import DemoGraph
from backoffice.demo.logs import slots

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


def audit_log_params(graph: DemoGraph, rng: random.Random) -> dict[str, Any]:
    """What ``INSERT_AUDIT_LOGS`` draws from: actions by weight, the graph's ids, addresses."""
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
