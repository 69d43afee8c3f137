"""The demo object graph as the log loader sees it, and what every part of its builder shares."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections import defaultdict
from dataclasses import dataclass, field

from faker import Faker

from registry.models import McpServer, McpTool
from security.models import ApiKey, GatewayUser
from tenants.models import Tenant


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
    """Base of the builders: the seeded ``rng`` and ``fake``, the run's ``now``, the graph to fill.

    The builders share one of each, so that one seed gives one demo and all of it agrees on "now".
    """

    def __init__(self, rng: random.Random, fake: Faker, now: dt.datetime, graph: DemoGraph) -> None:
        self.rng = rng
        self.fake = fake
        self.now = now
        self.graph = graph

    def _ago(self, low: dt.timedelta, high: dt.timedelta) -> dt.datetime:
        seconds = self.rng.uniform(low.total_seconds(), high.total_seconds())
        return self.now - dt.timedelta(seconds=seconds)
