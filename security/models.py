"""Better-Auth's tables and the gateway's API keys, as the Drizzle contract defines them.

All unmanaged: the gateway's TypeScript side owns their shape. Better-Auth's timestamps are
``timestamp without time zone`` holding UTC (``UTCDateTimeField``) and have no database default:
whoever inserts or updates a row sets ``created_at``/``updated_at`` itself.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils import timezone
from django_otp.models import Device

from backoffice.contract.fields import UTCDateTimeField
from backoffice.scoping import TenantScopedManager
from tenants.models import Tenant


def ban_in_force(now: dt.datetime) -> Q:
    """Users whose ban still holds at ``now``.

    Better-Auth lifts a ban whose ``ban_expires`` has passed at the user's next sign-in, so until
    then the row still says ``banned``: such a ban is expired, not active.
    """
    return Q(banned=True) & (Q(ban_expires__isnull=True) | Q(ban_expires__gt=now))


class GatewayUser(models.Model):
    """A gateway user (Better-Auth ``user``); not Django's auth user."""

    id = models.TextField(primary_key=True)
    name = models.TextField()
    email = models.TextField(unique=True)
    email_verified = models.BooleanField(default=False)
    image = models.TextField(null=True, blank=True)
    created_at = UTCDateTimeField()
    updated_at = UTCDateTimeField()
    username = models.TextField(unique=True, null=True, blank=True)
    display_username = models.TextField(null=True, blank=True)
    # Comma-separated roles (admin, support, tenant_admin, auditor, user).
    role = models.TextField(null=True, blank=True, default="user")
    banned = models.BooleanField(null=True, default=False)
    ban_reason = models.TextField(null=True, blank=True)
    ban_expires = UTCDateTimeField(null=True, blank=True)
    # The database may hold an id with no tenant behind it (no FK in some gateway databases).
    tenant = models.ForeignKey(
        Tenant,
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        db_constraint=False,
        related_name="users",
    )
    user_metadata = models.JSONField(null=True, blank=True, default=dict)
    is_active = models.BooleanField(default=True)
    auth_provider = models.TextField(null=True, blank=True)
    last_login_at = UTCDateTimeField(null=True, blank=True)

    objects = TenantScopedManager(tenant_field="tenant_id")
    unscoped = models.Manager()

    class Meta:
        managed = False
        db_table = "user"
        ordering = ["-created_at"]
        verbose_name = "gateway user"

    def __str__(self) -> str:
        return self.email

    def ban_in_force(self, now: dt.datetime | None = None) -> bool:
        """True while the ban holds (see the module-level ``ban_in_force``)."""
        if not self.banned:
            return False
        return self.ban_expires is None or self.ban_expires > (now or timezone.now())


class GatewaySession(models.Model):
    """A Better-Auth session; an impersonation when ``impersonated_by`` is set."""

    id = models.TextField(primary_key=True)
    expires_at = UTCDateTimeField()
    token = models.TextField(unique=True)
    created_at = UTCDateTimeField()
    updated_at = UTCDateTimeField()
    ip_address = models.TextField(null=True, blank=True)
    user_agent = models.TextField(null=True, blank=True)
    user = models.ForeignKey(GatewayUser, on_delete=models.CASCADE, related_name="sessions")
    impersonated_by = models.TextField(null=True, blank=True)
    session_data = models.JSONField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    last_activity_at = UTCDateTimeField(null=True, blank=True)

    objects = TenantScopedManager(tenant_field="user__tenant_id")
    unscoped = models.Manager()

    class Meta:
        managed = False
        db_table = "session"
        ordering = ["-created_at"]
        verbose_name = "session"

    def __str__(self) -> str:
        return f"session {self.id}"


class Account(models.Model):
    """A sign-in method of a user; ``provider_id = 'credential'`` holds the scrypt hash."""

    id = models.TextField(primary_key=True)
    account_id = models.TextField()
    provider_id = models.TextField()
    user = models.ForeignKey(GatewayUser, on_delete=models.CASCADE, related_name="accounts")
    access_token = models.TextField(null=True, blank=True)
    refresh_token = models.TextField(null=True, blank=True)
    id_token = models.TextField(null=True, blank=True)
    access_token_expires_at = UTCDateTimeField(null=True, blank=True)
    refresh_token_expires_at = UTCDateTimeField(null=True, blank=True)
    scope = models.TextField(null=True, blank=True)
    password = models.TextField(null=True, blank=True)
    created_at = UTCDateTimeField()
    updated_at = UTCDateTimeField()

    objects = TenantScopedManager(tenant_field="user__tenant_id")
    unscoped = models.Manager()

    class Meta:
        managed = False
        db_table = "account"

    def __str__(self) -> str:
        return f"{self.provider_id} account"


class Verification(models.Model):
    id = models.TextField(primary_key=True)
    identifier = models.TextField()
    value = models.TextField()
    expires_at = UTCDateTimeField()
    created_at = UTCDateTimeField()
    updated_at = UTCDateTimeField()

    class Meta:
        managed = False
        db_table = "verification"

    def __str__(self) -> str:
        return self.identifier


class ApiKey(models.Model):
    """A tenant's API key: only its prefix and hash are stored, never the key itself."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="api_keys")
    created_by = models.ForeignKey(
        GatewayUser,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        db_column="user_id",
        related_name="api_keys",
    )
    name = models.TextField()
    key_prefix = models.TextField(unique=True)
    key_hash = models.TextField(unique=True)
    scopes = ArrayField(models.TextField(), default=list, blank=True)
    is_active = models.BooleanField(default=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    usage_count = models.BigIntegerField(default=0)
    rate_limit_per_minute = models.IntegerField(default=60)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.TextField(null=True, blank=True)
    created_at = models.DateTimeField(db_default=Now())
    updated_at = models.DateTimeField(db_default=Now())

    objects = TenantScopedManager(tenant_field="tenant_id")
    unscoped = models.Manager()

    class Meta:
        managed = False
        db_table = "api_keys"
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix})"


class StaffAccount(models.Model):
    """Links a back-office (Django) user to the gateway user they signed in as.

    Lives in the back office's own schema. Roles, tenant and ban state are not copied here: they
    are read from the gateway's ``user`` row on every request.
    """

    django_user = models.OneToOneField(
        "auth.User", on_delete=models.CASCADE, related_name="staff_account"
    )
    gateway_user_id = models.TextField(unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "staff account"

    def __str__(self) -> str:
        return self.gateway_user_id


class ImpersonationStatus(models.TextChoices):
    ACTIVE = "active"
    EXPIRED = "expired"
    ENDED = "ended"


class ImpersonationRecord(models.Model):
    """The back office's own record of one impersonation session, and its review.

    Better-Auth deletes an impersonation's ``session`` row when it stops or expires, so the
    gateway keeps no history; ``capture_impersonations`` copies every such session it sees here
    (never its token). Lives in the back office's schema.
    """

    session_id = models.TextField(unique=True)
    impersonator_id = models.TextField()
    impersonator_email = models.TextField(blank=True, default="")
    impersonated_user_id = models.TextField()
    impersonated_email = models.TextField(blank=True, default="")
    # The impersonated user's tenant when the session was seen (null: a platform user).
    tenant_id = models.UUIDField(null=True, blank=True)
    started_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    # Set when the session row disappeared before its expiry, or when staff ended it.
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.TextField(blank=True, default="")
    ip_address = models.TextField(blank=True, default="")
    user_agent = models.TextField(blank=True, default="")
    first_seen_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField()
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.TextField(blank=True, default="")
    review_note = models.TextField(blank=True, default="")

    objects = TenantScopedManager(tenant_field="tenant_id")
    unscoped = models.Manager()

    class Meta:
        ordering = ["-started_at"]
        verbose_name = "impersonation session"
        indexes = [
            models.Index(fields=["-started_at"], name="impersonation_started_idx"),
            models.Index(
                fields=["expires_at"],
                name="impersonation_open_idx",
                condition=models.Q(ended_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.impersonator_email or self.impersonator_id} as {self.impersonated_email}"

    @property
    def status(self) -> ImpersonationStatus:
        """Ended when its row went before expiry (or staff ended it); else active until expiry."""
        if self.ended_at is not None:
            return ImpersonationStatus.ENDED
        if self.expires_at <= timezone.now():
            return ImpersonationStatus.EXPIRED
        return ImpersonationStatus.ACTIVE


class IssuingFormClaim(models.Model):
    """A key-issuing form (create or rotate) already sent, so sending it again issues nothing.

    The create and rotate services insert this row, keyed by a digest of the form's one-time
    token, inside the transaction that issues the key: a second identical request waits on the
    primary key until the first commits, then fails on it and is told the key was issued. The
    token itself is not kept. Lives in the back office's schema; old claims are pruned.
    """

    token_digest = models.CharField(primary_key=True, max_length=64)
    # Filled in once the key exists, in the same transaction as the claim.
    key_id = models.UUIDField(null=True, blank=True)
    claimed_at = models.DateTimeField()

    class Meta:
        verbose_name = "issuing form claim"
        indexes = [models.Index(fields=["claimed_at"], name="issuing_form_claimed_idx")]

    def __str__(self) -> str:
        return self.token_digest


class KeyRotation(models.Model):
    """A key replaced by a rotation: the old key works until its grace period ends, then stops.

    Written by ``rotate_api_key`` in the transaction that issues the successor, so the lists
    and the dashboard can say "replaced by <prefix>" instead of raising an expiry alarm for a
    routine rotation. Lives in the back office's schema; the contract's ``apikey`` has no column
    for it.
    """

    old_key_id = models.UUIDField(primary_key=True)
    new_key_id = models.UUIDField()
    new_key_prefix = models.TextField()
    rotated_at = models.DateTimeField()

    class Meta:
        verbose_name = "key rotation"

    def __str__(self) -> str:
        return f"{self.old_key_id} -> {self.new_key_prefix}"


# --- The staff second factor (security/second_factor): back-office tables only ---------------


class RecoveryCodeDevice(Device):  # type: ignore[misc]  # django-otp ships no types
    """A staff member's set of one-time recovery codes, a django-otp device like their TOTP app.

    Only a SHA-256 digest of each code is kept: the codes are 60 random bits each, so a fast
    digest is as safe as a slow password hash here and checks one code with one indexed read.
    """

    class Meta(Device.Meta):  # type: ignore[misc]  # django-otp ships no types
        verbose_name = "recovery code set"

    def verify_token(self, token: object) -> bool:
        """Accept an unused code once: the update that marks it used is the check."""
        from security.second_factor.codes import recovery_code_digest

        digest = recovery_code_digest(str(token))
        if digest is None:
            return False
        used = RecoveryCode.objects.filter(
            device=self, code_digest=digest, used_at__isnull=True
        ).update(used_at=timezone.now())
        return used == 1


class RecoveryCode(models.Model):
    device = models.ForeignKey(RecoveryCodeDevice, on_delete=models.CASCADE, related_name="codes")
    code_digest = models.CharField(max_length=64)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "recovery code"
        constraints = [
            models.UniqueConstraint(
                fields=["device", "code_digest"], name="recovery_code_unique_per_device"
            )
        ]

    def __str__(self) -> str:
        return f"recovery code {self.pk}"


class SecondFactorThrottle(models.Model):
    """Wrong second-factor codes in a row for one staff member, and until when codes are refused.

    Counted per back-office user, whatever device the codes were meant for, so trying recovery
    codes does not escape the limit set on TOTP codes.
    """

    django_user = models.OneToOneField(
        "auth.User", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    failures = models.PositiveIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "second-factor throttle"

    def __str__(self) -> str:
        return f"second-factor throttle of user {self.pk}"


class SignInWindow(models.Model):
    """How many sign-in attempts one address made in one window (the per-address rate limit).

    Lives in the back office's schema so every server process counts together; one row per
    (address, window start), counted up with a single upsert. Old windows are pruned.
    """

    address = models.GenericIPAddressField()
    window_start = models.DateTimeField()
    attempts = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "sign-in window"
        constraints = [
            models.UniqueConstraint(
                fields=["address", "window_start"], name="sign_in_window_address_start_uniq"
            )
        ]
        indexes = [models.Index(fields=["window_start"], name="sign_in_window_start_idx")]

    def __str__(self) -> str:
        return f"{self.address} at {self.window_start:%H:%M}: {self.attempts}"


class StaffSession(models.Model):
    """One signed-in back-office session, so a person can list theirs and end them.

    Holds a SHA-256 digest of the Django session key, never the key: the key is the cookie's
    secret. A session whose row is gone (signed out everywhere, banned) is ended at its next
    request (``security.staff_sessions``). Lives in the back office's schema.
    """

    key_digest = models.CharField(max_length=64, unique=True)
    django_user = models.ForeignKey(
        "auth.User", on_delete=models.CASCADE, related_name="staff_sessions"
    )
    user_agent = models.TextField(blank=True, default="")
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    signed_in_at = models.DateTimeField()
    last_active_at = models.DateTimeField()

    class Meta:
        verbose_name = "staff session"
        ordering = ["-last_active_at"]

    def __str__(self) -> str:
        return f"session of user {self.django_user_id} since {self.signed_in_at:%Y-%m-%d %H:%M}"
