"""Tenants in every status, staff and tenant users with their accounts, sessions and bans.

Every demo sign-in of ``catalog.DEMO_SIGN_INS`` is created here with its password; everyone else
signs in with ``OTHER_DEMO_PASSWORD`` or through GitHub or Google.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from typing import Any

from faker import Faker

from backoffice.demo.catalog import (
    BAN_REASONS,
    BANS,
    BEFORE_HISTORY,
    BROWSER_AGENTS,
    DAY,
    DEMO_SIGN_INS,
    DEMO_TENANTS,
    IMPERSONATIONS_STARTED,
    OTHER_DEMO_PASSWORD,
    TENANT_ADMIN_SLUGS,
    DemoSignIn,
    DemoTenant,
)
from backoffice.demo.graph import DemoBuilder, DemoGraph
from backoffice.roles import Role
from security.factories import (
    AccountFactory,
    CredentialAccountFactory,
    GatewaySessionFactory,
    GatewayUserFactory,
    ImpersonationSessionFactory,
    VerificationFactory,
)
from security.models import GatewayUser
from tenants.factories import TenantFactory
from tenants.models import Tenant, TenantStatus


class PeopleBuilder(DemoBuilder):
    """Creates the tenants and the people of the demo, then their sessions and verifications."""

    def __init__(self, rng: random.Random, fake: Faker, now: dt.datetime, graph: DemoGraph) -> None:
        super().__init__(rng, fake, now, graph)
        self._local_parts: set[str] = set()

    def create_tenants_and_users(self) -> None:
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

    def create_sessions(self) -> None:
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

    def create_verifications(self) -> None:
        """Pending password resets of tenant users, as Better-Auth keeps them."""
        for _ in range(3):
            VerificationFactory.create(value=self.rng.choice(self.graph.tenant_users).id)
        self.graph.counts["verifications"] = 3
