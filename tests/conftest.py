"""Shared test set-up: a real PostgreSQL test database with the Drizzle contract applied first.

pytest-django would create no tables for unmanaged models, so the test database is created
empty, the contract is applied with ``drizzle_migrate`` (as on a dev database), and only then do
Django's own migrations run, into the back office's schema.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command
from django.db import connections

# The server's 15 s guard against runaway queries, raised for the test run only: loading a
# plan test's rows or emptying the contract after a committing test is a moment's work, but a
# machine shared with other work can stretch it past 15 s and fail a test that proves nothing
# about time. Tests of the timeout page set their own short timeout.
TEST_STATEMENT_TIMEOUT_MS = 300_000


def _with_test_statement_timeout(options: str) -> str:
    return re.sub(
        r"statement_timeout=\d+", f"statement_timeout={TEST_STATEMENT_TIMEOUT_MS}", options
    )


@pytest.fixture(scope="session")
def django_db_setup(django_test_environment: None, django_db_blocker) -> Iterator[None]:
    connection = connections["default"]
    database_options = connection.settings_dict.setdefault("OPTIONS", {})
    database_options["options"] = _with_test_statement_timeout(database_options.get("options", ""))
    creation = connection.creation
    old_name = connection.settings_dict["NAME"]
    test_name = creation._get_test_db_name()  # type: ignore[attr-defined]
    if test_name == old_name:
        raise RuntimeError("The test database name must differ from the real one.")
    with django_db_blocker.unblock():
        # Drops a leftover test database of the same name, never the real one.
        creation._create_test_db(verbosity=0, autoclobber=True, keepdb=False)  # type: ignore[attr-defined]
        connection.close()
        settings.DATABASES["default"]["NAME"] = test_name
        connection.settings_dict["NAME"] = test_name
        call_command("drizzle_migrate", verbosity=0, stdout=_Null())
        call_command("migrate", verbosity=0, interactive=False)
    yield
    with django_db_blocker.unblock():
        creation.destroy_test_db(old_name, verbosity=0)


TRUNCATE_CONTRACT_SQL = """
DO $$
DECLARE tables text;
BEGIN
    SELECT string_agg(format('%I.%I', schemaname, tablename), ', ') INTO tables
    FROM pg_tables WHERE schemaname = 'public';
    IF tables IS NOT NULL THEN
        EXECUTE 'TRUNCATE ' || tables || ' RESTART IDENTITY CASCADE';
    END IF;
END $$;
"""


@pytest.fixture(autouse=True)
def _empty_contract_after_committing_tests(request, django_db_blocker) -> Iterator[None]:
    """Transactional tests commit for real and Django's flush skips unmanaged tables: empty them."""
    yield
    marker = request.node.get_closest_marker("django_db")
    commits = (
        "transactional_db" in request.fixturenames
        or "live_server" in request.fixturenames
        or (marker is not None and marker.kwargs.get("transaction"))
    )
    if commits:
        with django_db_blocker.unblock(), connections["default"].cursor() as cursor:
            cursor.execute(TRUNCATE_CONTRACT_SQL)


class _Null:
    def write(self, *args: object) -> None:
        pass

    def flush(self) -> None:
        pass


# --- Personas: one per role, in two tenants -------------------------------------------------

import datetime as dt  # noqa: E402
import functools  # noqa: E402
import secrets  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402

from django.contrib.auth.models import User  # noqa: E402
from django.test import Client  # noqa: E402
from django_otp.oath import TOTP  # noqa: E402
from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: E402

from backoffice.roles import Actor, parse_roles  # noqa: E402
from security.models import Account, GatewayUser, StaffAccount, StaffSession  # noqa: E402
from security.passwords import hash_password  # noqa: E402
from security.second_factor.devices import verified_session_data  # noqa: E402
from security.session_reads import key_digest  # noqa: E402
from security.staff_sessions import RECORDED_AS  # noqa: E402
from tenants.models import Tenant  # noqa: E402

PERSONA_PASSWORD = "correct horse battery staple"


@functools.cache
def persona_password_hash() -> str:
    """One scrypt hash for every persona: hashing costs ~70 ms, so do it once per run."""
    return hash_password(PERSONA_PASSWORD)


@dataclass
class Persona:
    gateway_user: GatewayUser
    django_user: User

    @property
    def actor(self) -> Actor:
        return Actor(
            display_name=self.gateway_user.email,
            roles=parse_roles(self.gateway_user.role),
            tenant_id=self.gateway_user.tenant_id,
            gateway_user_id=self.gateway_user.id,
            ip_address="127.0.0.1",
            user_agent="pytest",
        )

    @property
    def totp_device(self) -> TOTPDevice:
        return TOTPDevice.objects.get(user=self.django_user, confirmed=True)

    def client(self, *, verified_at: float | None = None) -> Client:
        """A client signed in with password and second factor (checked ``verified_at``, now)."""
        client = Client()
        client.force_login(self.django_user, backend="security.authentication.BetterAuthBackend")
        session = client.session
        session.update(verified_session_data(self.totp_device, verified_at))
        # As a real sign-in does, record the session now rather than on the first page.
        assert session.session_key is not None
        digest = key_digest(session.session_key)
        now = dt.datetime.now(dt.UTC)
        StaffSession.objects.create(
            key_digest=digest,
            django_user=self.django_user,
            ip_address="127.0.0.1",
            signed_in_at=now,
            last_active_at=now,
        )
        session[RECORDED_AS] = digest
        session.save()
        return client

    def totp_code(self, steps_ahead: int | None = None) -> str:
        """A code of the persona's app that the back office accepts now (see ``totp_code``)."""
        return totp_code(self.totp_device, steps_ahead)


def totp_code(device: TOTPDevice, steps_ahead: int | None = None) -> str:
    """The code an authenticator app shows for ``device``, computed by django-otp's TOTP.

    ``steps_ahead`` 30-second steps from now; by default the current step, or the next one when
    the current step's code was already used (a code is accepted once, one step either side).
    """
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits)
    totp.time = time.time()
    if steps_ahead is None:
        device.refresh_from_db(fields=["last_t"])
        steps_ahead = max(0, device.last_t + 1 - totp.t())
        assert steps_ahead <= 1, "no code left within the tolerance: sign in less often"
    totp.time += steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def totp_device_of(email: str) -> TOTPDevice:
    """The confirmed TOTP device of the staff member signing in as ``email``."""
    gateway_user_id = GatewayUser.unscoped.get(email=email).pk
    link = StaffAccount.objects.get(gateway_user_id=gateway_user_id)
    return TOTPDevice.objects.get(user_id=link.django_user_id, confirmed=True)


def make_persona(
    role: str, tenant: Tenant | None = None, email: str | None = None, *, enrolled: bool = True
) -> Persona:
    """A gateway user with a credential account, already linked to a back-office user and (unless
    ``enrolled=False``) with a confirmed TOTP device."""
    now = dt.datetime.now(dt.UTC)
    user_id = secrets.token_hex(16)
    gateway_user = GatewayUser.unscoped.create(
        id=user_id,
        name=f"{role.title()} Person",
        email=email or f"{role.replace(',', '-')}-{user_id[:6]}@example.com",
        email_verified=True,
        role=role,
        tenant=tenant,
        created_at=now,
        updated_at=now,
    )
    Account.unscoped.create(
        id=secrets.token_hex(16),
        account_id=user_id,
        provider_id="credential",
        user=gateway_user,
        password=persona_password_hash(),
        created_at=now,
        updated_at=now,
    )
    django_user = User.objects.create(username=f"gw-{user_id}", is_staff=True)
    StaffAccount.objects.create(django_user=django_user, gateway_user_id=user_id)
    if enrolled:
        TOTPDevice.objects.create(user=django_user, name="Authenticator app", confirmed=True)
    return Persona(gateway_user, django_user)


@pytest.fixture
def tenant_a(db) -> Tenant:
    return Tenant.unscoped.create(name="Tenant A", slug="tenant-a")


@pytest.fixture
def tenant_b(db) -> Tenant:
    return Tenant.unscoped.create(name="Tenant B", slug="tenant-b")


@pytest.fixture
def admin(db) -> Persona:
    return make_persona("admin")


@pytest.fixture
def support(db) -> Persona:
    return make_persona("support")


@pytest.fixture
def auditor(db) -> Persona:
    return make_persona("auditor")


@pytest.fixture
def tenant_admin_a(tenant_a) -> Persona:
    return make_persona("tenant_admin", tenant=tenant_a)


@pytest.fixture
def tenant_admin_b(tenant_b) -> Persona:
    return make_persona("tenant_admin", tenant=tenant_b)


@pytest.fixture
def plain_user(tenant_a) -> Persona:
    return make_persona("user", tenant=tenant_a)


@pytest.fixture(autouse=True)
def _analytics_results_in_the_table(settings) -> None:
    """Tests keep analytics results in the table (rolled back with the test) unless a test picks
    Redis itself: a developer's REDIS_URL must not carry results from one test to the next."""
    settings.ANALYTICS_CACHE_URL = ""


@pytest.fixture(autouse=True)
def _empty_process_cache() -> Iterator[None]:
    """Each test starts with an empty per-process cache (the explorers' filter choices): the
    previous test's tenants are rolled back, their cached names must go with them."""
    cache.clear()
    yield
    cache.clear()
