"""MCP servers in every health state, with their tools, resources and health check history."""

from __future__ import annotations

import datetime as dt

from backoffice.demo.catalog import (
    BEFORE_HISTORY,
    DAY,
    DEMO_TENANTS,
    HEALTH_CHECK_INTERVAL,
    HEALTH_CHECKS_PER_SERVER,
    HEALTH_PLAN,
    SERVER_KINDS,
    SLOWDOWN,
    DemoTenant,
    ServerKind,
)
from backoffice.demo.graph import DemoBuilder, ServerPlan
from registry.factories import (
    McpResourceFactory,
    McpServerFactory,
    McpToolFactory,
    ServerHealthCheckFactory,
)
from registry.models import McpServer, ServerHealth, ServerHealthCheck, TransportType
from security.models import GatewayUser
from tenants.models import Tenant, TenantStatus


class ServerBuilder(DemoBuilder):
    """Creates each tenant's servers from its server kinds, cycling through the health states."""

    def create(self) -> None:
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
