"""Staff sign in with their gateway (Better-Auth) email or username and password.

The backend verifies the ``account`` row with ``provider_id = 'credential'`` exactly as
Better-Auth does, refuses banned, inactive and role-less users with a reason the sign-in form
shows, audits every refusal, and links the gateway user to a Django user in the back office's
schema (``StaffAccount``). Roles are never copied: ``StaffMiddleware`` re-reads them on every
request, so a role change or a ban in the gateway applies on the next click.
"""

from __future__ import annotations

import enum
from typing import Any, NamedTuple

from django.contrib.auth.backends import BaseBackend
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Model, Q
from django.http import HttpRequest
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import ActorType, AuditLog, AuditOutcome
from backoffice.audit_actions import AuditAction
from backoffice.models import StaffPreference
from backoffice.roles import BACKOFFICE_ROLES, parse_roles
from security.client_address import client_ip
from security.models import Account, GatewayUser, StaffAccount, StaffSession
from security.passwords import verify_password
from security.session_reads import (
    DEVICE_FIELDS,
    DEVICE_MODELS,
    LICENCE_FIELDS,
    checks_read,
    session_keys,
)

CREDENTIAL_PROVIDER = "credential"
# Longest identifier we look up; anything longer cannot be an email or username of the gateway.
MAX_IDENTIFIER_LENGTH = 320
# The Django user linked to a gateway user is named after it: "gw-<gateway user id>".
LINKED_USERNAME_PREFIX = "gw-"


class Refusal(enum.StrEnum):
    """Why a correct password still does not open the back office (shown to the person)."""

    BANNED = "This account is banned from the gateway."
    INACTIVE = "This account is deactivated."
    NO_ROLE = "This account has no back-office role."


def refusal_for(user: GatewayUser) -> Refusal | None:
    """The reason ``user`` may not use the back office now, or None. Used at every request."""
    if user.ban_in_force():
        return Refusal.BANNED
    if not user.is_active:
        return Refusal.INACTIVE
    if not (parse_roles(user.role) & BACKOFFICE_ROLES):
        return Refusal.NO_ROLE
    return None


def find_gateway_user(identifier: str) -> GatewayUser | None:
    """The gateway user an email or username names, ignoring case and surrounding spaces.

    Sign-in and the lockout counter both ask this, so they always agree on who is meant.
    """
    identifier = identifier.strip()
    if not identifier or len(identifier) > MAX_IDENTIFIER_LENGTH or "\x00" in identifier:
        return None
    return (
        GatewayUser.unscoped.filter(Q(email__iexact=identifier) | Q(username__iexact=identifier))
        .order_by("id")
        .first()
    )


def throttling_username(
    request: HttpRequest | None, credentials: dict[str, Any] | None
) -> str | None:
    """What django-axes counts failures against: the person, not what was typed.

    ``auditor``, ``Auditor@Gateway.Example `` and ``auditor@gateway.example`` all name one gateway
    user, so they share one counter, keyed by that user's email in lower case. A name that is
    nobody's is counted as typed, in lower case and without surrounding spaces, so spelling
    variations of it do not multiply the attempts either.
    """
    source = credentials if credentials else getattr(request, "POST", {})
    identifier = source.get("username") if source else None
    if not isinstance(identifier, str):
        return identifier
    typed = identifier.strip().lower()
    # Axes asks several times per attempt: look the person up once per request.
    known: dict[str, str] = getattr(request, "_throttling_usernames", None) or {}
    if typed not in known:
        person = find_gateway_user(typed)
        if person is None and typed.startswith(LINKED_USERNAME_PREFIX):
            # After a sign-in axes names the person by their Django user ("gw-<id>"), to reset
            # their failures: count that against the same person too.
            person = _linked_gateway_user(typed)
        known[typed] = person.email.strip().lower() if person is not None else typed
        if request is not None:
            request._throttling_usernames = known  # type: ignore[attr-defined]
    return known[typed]


def _linked_gateway_user(django_username: str) -> GatewayUser | None:
    link = StaffAccount.objects.filter(django_user__username__iexact=django_username).first()
    return GatewayUser.unscoped.filter(pk=link.gateway_user_id).first() if link else None


class BetterAuthBackend(BaseBackend):
    """Authenticate against the gateway's Better-Auth credential accounts."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: object,
    ) -> User | None:
        if not username or not password:
            return None
        identifier = username.strip()
        if len(identifier) > MAX_IDENTIFIER_LENGTH or "\x00" in identifier or "\x00" in password:
            return None
        gateway_user = find_gateway_user(identifier)
        if gateway_user is None:
            # Spend the time a real check would, so response time does not reveal who exists.
            verify_password(password, _DUMMY_HASH)
            return None
        account = Account.unscoped.filter(
            user_id=gateway_user.id, provider_id=CREDENTIAL_PROVIDER
        ).first()
        if account is None or not verify_password(password, account.password):
            if account is None:
                verify_password(password, _DUMMY_HASH)
            _audit_sign_in(request, gateway_user, AuditOutcome.FAILURE, "wrong password")
            return None
        refusal = refusal_for(gateway_user)
        if refusal is not None:
            _audit_sign_in(request, gateway_user, AuditOutcome.DENIED, refusal.name.lower())
            if request is not None:
                request.backoffice_refusal = refusal  # type: ignore[attr-defined]
            return None
        django_user = _link(gateway_user)
        _audit_sign_in(request, gateway_user, AuditOutcome.SUCCESS, "")
        return django_user

    def get_user(self, user_id: int) -> User | None:
        """The signed-in Django user, with its staff link, gateway user, second-factor device and
        session licence, in one query.

        Every request reads all of them (``security.staff.actor_for`` re-checks bans and roles,
        django-otp the device, ``check_session`` the licence), so they come in the session's user
        query instead of round trips of their own.
        """
        # The session's second-factor device and licence too, when a session is being read
        # (security/session_reads.py): the two checks every request makes, without round trips.
        keys = session_keys()
        sql = STAFF_USER_SQL[keys.device_model or TOTPDevice]
        params = {"user": user_id, "device": keys.device_pk, "digest": keys.licence_digest}
        user = next(iter(User.objects.raw(sql, params)), None)
        if user is not None:
            user.gateway_user_read = _gateway_user_read(user)  # type: ignore[attr-defined]
            user.session_checks = checks_read(user, keys.checks)  # type: ignore[attr-defined]
        return user


# Only what an Actor needs, read by primary key (index user_pkey) inside the user's query.
ACTOR_FIELDS = ("id", "name", "email", "role", "tenant_id", "banned", "ban_expires", "is_active")


def _columns(model: type[Model], alias: str, names: tuple[str, ...], prefix: str) -> str:
    column = {field.attname: field.column for field in model._meta.concrete_fields}
    return ", ".join(f'{alias}."{column[name]}" AS "{prefix}{name}"' for name in names)


def _staff_user_sql(device_model: type[Model]) -> str:
    """The signed-in user's query (see ``get_user``), reading ``device_model``'s table.

    Written as SQL rather than built by the ORM: compiling the ORM's version (sixteen
    subqueries) took more Python time than the database took to answer it, on every request.
    Table and column names come from the models, never from input.
    """
    user_columns = ", ".join(f'u."{f.column}"' for f in User._meta.concrete_fields)
    return f"""SELECT {user_columns},
       link."gateway_user_id" AS "staff_link",
       preference."time_zone" AS "staff_time_zone",
       {_columns(GatewayUser, "gateway", ACTOR_FIELDS, "gateway_")},
       {_columns(device_model, "device", DEVICE_FIELDS, "session_device_")},
       {_columns(StaffSession, "licence", LICENCE_FIELDS, "session_licence_")}
FROM "{User._meta.db_table}" AS u
LEFT JOIN "{StaffAccount._meta.db_table}" AS link ON link."django_user_id" = u."id"
LEFT JOIN "{GatewayUser._meta.db_table}" AS gateway ON gateway."id" = link."gateway_user_id"
LEFT JOIN "{StaffPreference._meta.db_table}" AS preference
       ON preference."django_user_id" = u."id"
LEFT JOIN "{device_model._meta.db_table}" AS device ON device."id" = %(device)s
LEFT JOIN "{StaffSession._meta.db_table}" AS licence ON licence."key_digest" = %(digest)s
WHERE u."id" = %(user)s AND u."is_active"
"""


# One query per kind of device a session can hold. Uses index: auth_user_pkey,
# security_staffaccount_django_user_id_key, user_pkey, staff_preferences_pkey, the device
# table's pkey, security_staffsession_key_digest_key.
STAFF_USER_SQL = {model: _staff_user_sql(model) for model in DEVICE_MODELS.values()}


class GatewayUserRead(NamedTuple):
    """What ``get_user`` read: the staff link (None: no link) and the gateway user (None: gone)."""

    gateway_user_id: str | None
    gateway_user: GatewayUser | None
    time_zone: str | None = None


def _gateway_user_read(user: User) -> GatewayUserRead:
    link = getattr(user, "staff_link", None)
    if link is None:
        return GatewayUserRead(None, None)
    time_zone = getattr(user, "staff_time_zone", None)
    values = {name: getattr(user, f"gateway_{name}") for name in ACTOR_FIELDS}
    if values["id"] is None:
        return GatewayUserRead(link, None, time_zone)
    return GatewayUserRead(link, GatewayUser(**values), time_zone)


# A well-formed hash of a random password, to verify against when there is no account.
_DUMMY_HASH = "0" * 32 + ":" + "0" * 128


def link_staff_account(gateway_user: GatewayUser) -> User:
    """The back-office user of ``gateway_user``, created or refreshed (sign-in, demo seed)."""
    return _link(gateway_user)


@transaction.atomic
def _link(gateway_user: GatewayUser) -> User:
    link = (
        StaffAccount.objects.select_related("django_user")
        .filter(gateway_user_id=gateway_user.id)
        .first()
    )
    if link is not None:
        user = link.django_user
    else:
        user = User(username=f"{LINKED_USERNAME_PREFIX}{gateway_user.id}"[:150])
        user.set_unusable_password()
        user.save()
        link = StaffAccount.objects.create(django_user=user, gateway_user_id=gateway_user.id)
    user.email = gateway_user.email
    user.first_name = (gateway_user.name or "")[:150]
    # Access is decided by the gateway roles on every request, never by Django's flags.
    user.is_staff = True
    user.is_superuser = False
    user.is_active = True
    user.save(update_fields=["email", "first_name", "is_staff", "is_superuser", "is_active"])
    return user


def _audit_sign_in(
    request: HttpRequest | None, user: GatewayUser, outcome: AuditOutcome, reason: str
) -> None:
    meta = request.META if request is not None else {}
    AuditLog.unscoped.create(
        tenant_id=user.tenant_id,
        actor_id=user.id,
        actor_type=ActorType.USER,
        action=AuditAction.STAFF_SIGN_IN,
        resource_type="user",
        resource_id=user.id,
        outcome=outcome,
        ip_address=client_ip(request),
        user_agent=(meta.get("HTTP_USER_AGENT") or "")[:500] or None,
        request_id=getattr(request, "request_id", None),
        details={"reason": reason} if reason else {},
    )


def audit_forced_sign_out(request: HttpRequest, refusal: Refusal) -> None:
    """Record that a signed-in staff member was signed out because the gateway took access away."""
    gateway_user_id = (
        StaffAccount.objects.filter(django_user_id=request.user.pk)
        .values_list("gateway_user_id", flat=True)
        .first()
    )
    user = GatewayUser.unscoped.filter(pk=gateway_user_id).first() if gateway_user_id else None
    if user is not None:
        _audit_sign_in(request, user, AuditOutcome.DENIED, f"signed out: {refusal.name.lower()}")
