"""factory-boy factories for Better-Auth's tables and the gateway's API keys.

Better-Auth rows get what Better-Auth itself would write: 32-character alphanumeric text ids and
explicit ``created_at``/``updated_at`` (the columns are NOT NULL with no database default). Every
timestamp is an aware UTC datetime; ``UTCDateTimeField`` stores it as naive UTC.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import string
from typing import Any

import factory
import factory.random
from django.contrib.auth.hashers import make_password

from backoffice.roles import Role
from security.api_key_secrets import generate_api_key
from security.models import (
    Account,
    ApiKey,
    GatewaySession,
    GatewayUser,
    ImpersonationRecord,
    IssuingFormClaim,
    KeyRotation,
    RecoveryCode,
    RecoveryCodeDevice,
    SecondFactorThrottle,
    SignInWindow,
    StaffAccount,
    StaffSession,
    Verification,
)
from security.passwords import hash_password
from tenants.factories import ContractModelFactory, TenantFactory, utc_now

BETTER_AUTH_ID_ALPHABET = string.ascii_letters + string.digits
BETTER_AUTH_ID_LENGTH = 32
# Better-Auth's admin plugin gives an impersonation session one hour by default.
IMPERSONATION_LIFETIME = dt.timedelta(hours=1)
# Better-Auth's default session lifetime.
SESSION_LIFETIME = dt.timedelta(days=7)


def better_auth_id() -> str:
    """A text id shaped like Better-Auth's ``generateId()``: 32 random letters and digits.

    Drawn from factory-boy's random generator, so ``reseed_random`` makes demo ids repeatable.
    """
    return "".join(
        factory.random.randgen.choice(BETTER_AUTH_ID_ALPHABET) for _ in range(BETTER_AUTH_ID_LENGTH)
    )


def session_token() -> str:
    """A session token from ``secrets``: a bearer credential, so never from a seedable PRNG."""
    return "".join(secrets.choice(BETTER_AUTH_ID_ALPHABET) for _ in range(BETTER_AUTH_ID_LENGTH))


def _ago(**delta: float) -> Any:
    return factory.LazyFunction(lambda: utc_now() - dt.timedelta(**delta))


def _from_now(**delta: float) -> Any:
    return factory.LazyFunction(lambda: utc_now() + dt.timedelta(**delta))


class GatewayUserFactory(ContractModelFactory[GatewayUser]):
    """A verified gateway user with role ``user`` in a new tenant.

    Traits: ``admin``, ``support``, ``auditor`` (platform roles, no tenant), ``tenant_admin``;
    ``banned_permanent``, ``banned_expiring`` (lifted in a week), ``banned_expired`` (its expiry
    passed; Better-Auth lifts it at the next sign-in); ``inactive``.
    """

    class Meta:
        model = GatewayUser

    class Params:
        admin = factory.Trait(role=Role.ADMIN.value, tenant=None)
        support = factory.Trait(role=Role.SUPPORT.value, tenant=None)
        auditor = factory.Trait(role=Role.AUDITOR.value, tenant=None)
        tenant_admin = factory.Trait(role=Role.TENANT_ADMIN.value)
        banned_permanent = factory.Trait(banned=True, ban_reason="Spam", ban_expires=None)
        banned_expiring = factory.Trait(
            banned=True, ban_reason="Abusive requests", ban_expires=_from_now(days=7)
        )
        banned_expired = factory.Trait(
            banned=True, ban_reason="Cooling-off period", ban_expires=_ago(days=1)
        )
        inactive = factory.Trait(is_active=False)

    id = factory.LazyFunction(better_auth_id)
    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"user{n}@example.com")
    email_verified = True
    username = factory.Sequence(lambda n: f"user{n}")
    display_username = factory.SelfAttribute("username")
    role = Role.USER.value
    tenant = factory.SubFactory(TenantFactory)
    banned = False
    ban_reason = None
    ban_expires = None
    user_metadata = factory.LazyFunction(dict)
    is_active = True
    auth_provider = "credential"
    last_login_at = None
    created_at = factory.LazyFunction(utc_now)
    updated_at = factory.SelfAttribute("created_at")


class GatewaySessionFactory(ContractModelFactory[GatewaySession]):
    """A live seven-day session of a new user. Traits: ``expired``, ``signed_out``."""

    class Meta:
        model = GatewaySession

    class Params:
        expired = factory.Trait(
            created_at=_ago(days=10),
            expires_at=factory.LazyAttribute(lambda o: o.created_at + SESSION_LIFETIME),
            last_activity_at=factory.LazyAttribute(lambda o: o.created_at + dt.timedelta(hours=2)),
        )
        signed_out = factory.Trait(is_active=False)

    id = factory.LazyFunction(better_auth_id)
    token = factory.LazyFunction(session_token)
    user = factory.SubFactory(GatewayUserFactory)
    created_at = factory.LazyFunction(utc_now)
    updated_at = factory.SelfAttribute("created_at")
    expires_at = factory.LazyAttribute(lambda o: o.created_at + SESSION_LIFETIME)
    ip_address = factory.Faker("ipv4_public")
    user_agent = factory.Faker("user_agent")
    session_data = None
    is_active = True
    last_activity_at = factory.SelfAttribute("created_at")


class _UserIdOf(factory.SubFactory):
    """Like ``SubFactory`` but gives the user's id, for text columns with no foreign key.

    Only evaluated when the caller passes no value, so passing ``impersonated_by=admin.id``
    creates nothing extra.
    """

    def evaluate(self, instance: Any, step: Any, extra: Any) -> str:
        return super().evaluate(instance, step, extra).id


class ImpersonationSessionFactory(GatewaySessionFactory):
    """An admin's live impersonation of a user: one hour, as Better-Auth's admin plugin gives.

    Pass ``impersonated_by=<admin id>``; without it a new admin is created. Trait ``expired``:
    started three hours ago, ended two hours ago.
    """

    class Params:
        expired = factory.Trait(
            created_at=_ago(hours=3),
            expires_at=factory.LazyAttribute(lambda o: o.created_at + IMPERSONATION_LIFETIME),
            last_activity_at=factory.LazyAttribute(
                lambda o: o.created_at + dt.timedelta(minutes=20)
            ),
        )

    impersonated_by = _UserIdOf(GatewayUserFactory, admin=True)
    expires_at = factory.LazyAttribute(lambda o: o.created_at + IMPERSONATION_LIFETIME)


class _AccountFieldsFactory(ContractModelFactory[Account]):
    """What every account has; the two factories below differ in the sign-in method."""

    class Meta:
        model = Account
        abstract = True

    id = factory.LazyFunction(better_auth_id)
    refresh_token = None
    id_token = None
    access_token_expires_at = None
    refresh_token_expires_at = None
    created_at = factory.LazyFunction(utc_now)
    updated_at = factory.SelfAttribute("created_at")


class AccountFactory(_AccountFieldsFactory):
    """A GitHub (OAuth) sign-in of a new user; ``CredentialAccountFactory`` for passwords."""

    account_id = factory.Sequence(lambda n: str(1_000_000 + n))
    provider_id = "github"
    user = factory.SubFactory(GatewayUserFactory, auth_provider="github")
    access_token = factory.LazyFunction(lambda: f"gho_{secrets.token_urlsafe(27)}")
    scope = "read:user,user:email"
    password = None


class CredentialAccountFactory(_AccountFieldsFactory):
    """An email-and-password account whose ``password`` Better-Auth would accept.

    The hash is scrypt and costs ~0.1 s; pass ``raw_password`` to choose the password, or
    ``password=<an existing hash>`` to skip hashing.
    """

    class Params:
        raw_password = "correct horse battery staple"  # noqa: S105 (test and demo data)

    account_id = factory.SelfAttribute("user.id")
    provider_id = "credential"
    user = factory.SubFactory(GatewayUserFactory)
    access_token = None
    scope = None
    password = factory.LazyAttribute(lambda o: hash_password(o.raw_password))


class VerificationFactory(ContractModelFactory[Verification]):
    """A pending password-reset token, as Better-Auth stores it (identifier, user id as value)."""

    class Meta:
        model = Verification

    id = factory.LazyFunction(better_auth_id)
    identifier = factory.LazyFunction(lambda: f"reset-password:{session_token()}")
    value = factory.LazyFunction(better_auth_id)
    created_at = factory.LazyFunction(utc_now)
    updated_at = factory.SelfAttribute("created_at")
    expires_at = factory.LazyAttribute(lambda o: o.created_at + dt.timedelta(hours=1))


class ApiKeyFactory(ContractModelFactory[ApiKey]):
    """An active key with 90 days left, made by a tenant admin of its tenant.

    Only the prefix and the hash are stored; the plaintext is dropped. A test that needs it passes
    its own ``material=generate_api_key()``.
    Traits: ``expiring`` (3 days left), ``expired``, ``revoked`` (inactive, with ``revoked_at``
    and ``revoked_by``, by default its creator), ``never_expires``.
    """

    class Meta:
        model = ApiKey

    class Params:
        material = factory.LazyFunction(generate_api_key)
        expiring = factory.Trait(expires_at=_from_now(days=3))
        expired = factory.Trait(expires_at=_ago(days=2))
        never_expires = factory.Trait(expires_at=None)
        revoked = factory.Trait(
            is_active=False,
            revoked_at=_ago(days=1),
            revoked_by=factory.LazyAttribute(lambda o: o.created_by.id if o.created_by else None),
        )

    tenant = factory.SubFactory(TenantFactory)
    created_by = factory.SubFactory(
        GatewayUserFactory, tenant=factory.SelfAttribute("..tenant"), tenant_admin=True
    )
    name = factory.Sequence(lambda n: f"Key {n}")
    key_prefix = factory.SelfAttribute("material.prefix")
    key_hash = factory.SelfAttribute("material.hash")
    scopes = factory.LazyFunction(lambda: ["tools:call", "resources:read"])
    is_active = True
    expires_at = _from_now(days=90)
    last_used_at = None
    usage_count = 0
    rate_limit_per_minute = 60
    revoked_at = None
    revoked_by = None
    created_at = factory.LazyFunction(utc_now)
    updated_at = factory.SelfAttribute("created_at")


# --- The back office's own tables ------------------------------------------------------------


class StaffAccountFactory(ContractModelFactory[StaffAccount]):
    """The link between a back-office (Django) user and the gateway user they sign in as."""

    class Meta:
        model = StaffAccount

    django_user = factory.SubFactory("security.factories.DjangoUserFactory")
    gateway_user_id = factory.LazyAttribute(lambda _: GatewayUserFactory.create().id)


class DjangoUserFactory(factory.django.DjangoModelFactory):
    """The back-office user behind a staff account: no usable password (the gateway's counts)."""

    class Meta:
        model = "auth.User"

    username = factory.Sequence(lambda n: f"gw-staff-{n}")
    is_staff = True
    # ``make_password(None)``: an unusable password, as sign-in's own link gives them.
    password = factory.LazyFunction(lambda: make_password(None))


class ImpersonationRecordFactory(ContractModelFactory[ImpersonationRecord]):
    """The back office's copy of an impersonation session, as ``capture_impersonations`` keeps."""

    class Meta:
        model = ImpersonationRecord

    session_id = factory.LazyFunction(better_auth_id)
    impersonator_id = factory.LazyFunction(better_auth_id)
    impersonator_email = factory.Sequence(lambda n: f"admin{n}@gateway.example")
    impersonated_user_id = factory.LazyFunction(better_auth_id)
    impersonated_email = factory.Sequence(lambda n: f"user{n}@example.com")
    tenant_id = None
    started_at = _ago(minutes=10)
    expires_at = factory.LazyAttribute(lambda r: r.started_at + IMPERSONATION_LIFETIME)
    last_seen_at = factory.LazyFunction(utc_now)
    ip_address = "203.0.113.7"
    user_agent = "Mozilla/5.0"


class IssuingFormClaimFactory(ContractModelFactory[IssuingFormClaim]):
    """A key-issuing form already sent: only a digest of its one-time token is kept."""

    class Meta:
        model = IssuingFormClaim

    token_digest = factory.LazyFunction(lambda: hashlib.sha256(secrets.token_bytes(32)).hexdigest())
    key_id = None
    claimed_at = factory.LazyFunction(utc_now)


class KeyRotationFactory(ContractModelFactory[KeyRotation]):
    """A rotation: ``old`` replaced by ``new`` (both keys made by ``ApiKeyFactory``)."""

    class Meta:
        model = KeyRotation
        exclude = ("old", "new")

    old = factory.SubFactory(ApiKeyFactory)
    new = factory.SubFactory(ApiKeyFactory, tenant=factory.SelfAttribute("..old.tenant"))
    old_key_id = factory.SelfAttribute("old.pk")
    new_key_id = factory.SelfAttribute("new.pk")
    new_key_prefix = factory.SelfAttribute("new.key_prefix")
    rotated_at = factory.LazyFunction(utc_now)


class RecoveryCodeDeviceFactory(ContractModelFactory[RecoveryCodeDevice]):
    """A staff member's set of recovery codes (the codes themselves: ``RecoveryCodeFactory``)."""

    class Meta:
        model = RecoveryCodeDevice

    user = factory.SubFactory(DjangoUserFactory)
    name = "Recovery codes"
    confirmed = True


class RecoveryCodeFactory(ContractModelFactory[RecoveryCode]):
    """One recovery code, as stored: only its digest (of a random code nobody is shown)."""

    class Meta:
        model = RecoveryCode

    device = factory.SubFactory(RecoveryCodeDeviceFactory)
    code_digest = factory.LazyFunction(lambda: hashlib.sha256(secrets.token_bytes(32)).hexdigest())
    used_at = None


class SecondFactorThrottleFactory(ContractModelFactory[SecondFactorThrottle]):
    """Wrong second-factor codes in a row for one staff member."""

    class Meta:
        model = SecondFactorThrottle

    django_user = factory.SubFactory(DjangoUserFactory)
    failures = 0
    locked_until = None


class SignInWindowFactory(ContractModelFactory[SignInWindow]):
    """One address's count of sign-in attempts in one rate-limit window."""

    class Meta:
        model = SignInWindow

    address = factory.Sequence(lambda n: f"192.0.2.{n % 250 + 1}")
    window_start = factory.LazyFunction(lambda: utc_now().replace(second=0, microsecond=0))
    attempts = 1


class StaffSessionFactory(ContractModelFactory[StaffSession]):
    """A recorded back-office session: a digest of a made-up key, never a real one."""

    class Meta:
        model = StaffSession

    key_digest = factory.LazyFunction(lambda: hashlib.sha256(secrets.token_bytes(32)).hexdigest())
    django_user = factory.SubFactory("security.factories.DjangoUserFactory")
    user_agent = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"
    ip_address = "203.0.113.7"
    signed_in_at = factory.LazyFunction(utc_now)
    last_active_at = factory.LazyFunction(utc_now)
