"""Each tenant's API keys, in the states its status allows (``catalog.KEY_PLAN``)."""

from __future__ import annotations

from typing import Any

from backoffice.demo.catalog import BEFORE_HISTORY, DAY, KEY_PLAN, KEY_SCOPES
from backoffice.demo.graph import DemoBuilder
from security.factories import ApiKeyFactory
from tenants.models import TenantStatus


class ApiKeyBuilder(DemoBuilder):
    """Creates the API keys: active, expiring, expired and revoked, owned by tenant admins."""

    def create(self) -> None:
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
