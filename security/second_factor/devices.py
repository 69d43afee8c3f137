"""Enrolment and checks of a staff member's second factor, throttled and audited.

A staff member has one confirmed TOTP device (django-otp) and one set of recovery codes. Every
code typed, at sign-in, at enrolment or at a step-up, goes through ``check_code``: wrong codes
are counted per person (``SecondFactorThrottle``) and refused for a cool-off after
``SECOND_FACTOR_FAILURE_LIMIT`` in a row; each check writes a ``staff.second_factor`` row.
"""

from __future__ import annotations

import datetime as dt
import enum
import io
import time
from dataclasses import dataclass
from typing import Any, cast

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, User
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp import login as otp_login
from django_otp.models import Device
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import AuditOutcome
from backoffice.audit_actions import AuditAction
from backoffice.roles import Actor
from backoffice.staff_audit import record_staff_action
from security.models import RecoveryCode, RecoveryCodeDevice, SecondFactorThrottle
from security.second_factor.codes import new_recovery_codes, recovery_code_digest

# When the last code was accepted in this session (seconds since the epoch): step-up reads it.
VERIFIED_AT_KEY = "second_factor_verified_at"
# The unconfirmed device whose secret the enrolment page showed, awaiting its first code.
PENDING_DEVICE_KEY = "second_factor_pending_device"
TOTP_DEVICE_NAME = "Authenticator app"
MAX_CODE_LENGTH = 40


class Verdict(enum.Enum):
    ACCEPTED = "accepted"
    WRONG = "That code is not right (or was already used). Try the current one."
    LOCKED = "Too many wrong codes: codes are refused for a while. Try again later."


@dataclass(frozen=True)
class Check:
    verdict: Verdict
    device: Device | None = None
    method: str = ""


def is_enrolled(user: AbstractBaseUser) -> bool:
    enrolled: bool = TOTPDevice.objects.filter(user_id=user.pk, confirmed=True).exists()
    return enrolled


def verified_recently(request: HttpRequest, max_age_seconds: int | None = None) -> bool:
    """True when this session's second factor was checked within ``max_age_seconds``."""
    if max_age_seconds is None:
        max_age_seconds = settings.STEP_UP_MAX_AGE_SECONDS
    if not _is_verified(request):
        return False
    at = request.session.get(VERIFIED_AT_KEY)
    return isinstance(at, int | float) and time.time() - at <= max_age_seconds


def verified_session_data(device: Device, at: float | None = None) -> dict[str, Any]:
    """What a session holds once ``device`` was checked at ``at`` (now): for sign-in and tests."""
    return {
        DEVICE_ID_SESSION_KEY: device.persistent_id,
        VERIFIED_AT_KEY: time.time() if at is None else at,
    }


def _is_verified(request: HttpRequest) -> bool:
    is_verified = getattr(request.user, "is_verified", None)
    return bool(is_verified and is_verified())


# --- Enrolment ---------------------------------------------------------------------------------


def start_enrolment(request: HttpRequest) -> TOTPDevice:
    """A new secret for the person to scan; any earlier unconfirmed one is dropped."""
    user = request.user
    with transaction.atomic():
        TOTPDevice.objects.filter(user_id=user.pk, confirmed=False).delete()
        device = TOTPDevice.objects.create(user_id=user.pk, name=TOTP_DEVICE_NAME, confirmed=False)
    request.session[PENDING_DEVICE_KEY] = device.pk
    return device


def pending_device(request: HttpRequest) -> TOTPDevice | None:
    pk = request.session.get(PENDING_DEVICE_KEY)
    if not isinstance(pk, int):
        return None
    return TOTPDevice.objects.filter(pk=pk, user_id=request.user.pk, confirmed=False).first()


def finish_enrolment(request: HttpRequest, device: TOTPDevice, code: str) -> Check | list[str]:
    """Confirm ``device`` with its first code: the new recovery codes (to show once), or why not."""
    actor = _actor(request)
    with transaction.atomic():
        throttle = _throttle(_user(request))
        if _locked(throttle):
            _record(actor, AuditOutcome.DENIED, "enrolment", "totp", reason="locked")
            return Check(Verdict.LOCKED)
        if not _plausible(code) or not device.verify_token(code.strip()):
            return _count_failure(actor, throttle, "enrolment", "totp")
        _reset(throttle)
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user_id=request.user.pk).exclude(pk=device.pk).delete()
        codes = replace_recovery_codes(_user(request))
        record_staff_action(
            actor=actor,
            action=AuditAction.STAFF_SECOND_FACTOR_ENROL,
            resource_type="staff",
            resource_id=actor.actor_id,
            details={"method": "totp", "recovery_codes": len(codes)},
        )
    request.session.pop(PENDING_DEVICE_KEY, None)
    _sign_in_with(request, device)
    return codes


def replace_recovery_codes(user: AbstractBaseUser) -> list[str]:
    """A fresh set of recovery codes for ``user`` (the old set stops working); kept as digests."""
    RecoveryCodeDevice.objects.filter(user_id=user.pk).delete()
    device = RecoveryCodeDevice.objects.create(user_id=user.pk, name="Recovery codes")
    codes = new_recovery_codes()
    RecoveryCode.objects.bulk_create(
        RecoveryCode(device=device, code_digest=str(recovery_code_digest(code))) for code in codes
    )
    return codes


def enrol_without_code(user: AbstractBaseUser) -> TOTPDevice:
    """A confirmed TOTP device made without a code: for the demo seed and benchmark personas only,
    whose codes come from ``manage.py staff_otp_code`` (refused in production)."""
    TOTPDevice.objects.filter(user_id=user.pk).delete()
    return TOTPDevice.objects.create(user_id=user.pk, name=TOTP_DEVICE_NAME, confirmed=True)


def qr_code_svg(data: str) -> str:
    """``data`` as an inline SVG QR code, drawn here: the secret never leaves the server."""
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    out = io.BytesIO()
    image.save(out)
    svg = out.getvalue().decode()
    return svg[svg.index("<svg") :]


# --- Checking a code ---------------------------------------------------------------------------


def check_code(request: HttpRequest, code: str, *, purpose: str) -> Check:
    """Check a TOTP or recovery code of the signed-in person; on success the session is verified
    now. ``purpose`` ("sign-in", or the step-up's operation) goes in the audit row."""
    actor = _actor(request)
    user = _user(request)
    with transaction.atomic():
        throttle = _throttle(user)
        if _locked(throttle):
            _record(actor, AuditOutcome.DENIED, purpose, "", reason="locked")
            return Check(Verdict.LOCKED)
        device, method = _matching_device(user, code) if _plausible(code) else (None, "")
        if device is None:
            return _count_failure(actor, throttle, purpose, method)
        _reset(throttle)
        details: dict[str, Any] = {}
        if method == "recovery_code":
            details["recovery_codes_left"] = RecoveryCode.objects.filter(
                device__user_id=user.pk, used_at__isnull=True
            ).count()
        _record(actor, AuditOutcome.SUCCESS, purpose, method, **details)
    _sign_in_with(request, device)
    return Check(Verdict.ACCEPTED, device, method)


def _matching_device(user: AbstractBaseUser, code: str) -> tuple[Device | None, str]:
    code = code.strip()
    if code.isdigit():
        for device in TOTPDevice.objects.select_for_update().filter(
            user_id=user.pk, confirmed=True
        ):
            if device.verify_token(code):
                return device, "totp"
        return None, "totp"
    for recovery in RecoveryCodeDevice.objects.filter(user_id=user.pk, confirmed=True):
        if recovery.verify_token(code):
            return recovery, "recovery_code"
    return None, "recovery_code"


def _sign_in_with(request: HttpRequest, device: Device) -> None:
    # A new session key on every check, like Django's own login: a fixed key cannot be reused.
    request.session.cycle_key()
    otp_login(request, device)
    request.session[VERIFIED_AT_KEY] = time.time()


def _plausible(code: str) -> bool:
    return 0 < len(code) <= MAX_CODE_LENGTH and "\x00" not in code


def _throttle(user: AbstractBaseUser) -> SecondFactorThrottle:
    SecondFactorThrottle.objects.get_or_create(django_user_id=user.pk)
    return SecondFactorThrottle.objects.select_for_update().get(django_user_id=user.pk)


def _locked(throttle: SecondFactorThrottle) -> bool:
    return throttle.locked_until is not None and throttle.locked_until > timezone.now()


def _reset(throttle: SecondFactorThrottle) -> None:
    if throttle.failures or throttle.locked_until:
        throttle.failures, throttle.locked_until = 0, None
        throttle.save(update_fields=["failures", "locked_until"])


def _count_failure(
    actor: Actor, throttle: SecondFactorThrottle, purpose: str, method: str
) -> Check:
    throttle.failures += 1
    locked = throttle.failures >= settings.SECOND_FACTOR_FAILURE_LIMIT
    if locked:
        throttle.failures = 0
        throttle.locked_until = timezone.now() + dt.timedelta(
            minutes=settings.SECOND_FACTOR_COOLOFF_MINUTES
        )
    throttle.save(update_fields=["failures", "locked_until"])
    _record(actor, AuditOutcome.FAILURE, purpose, method, reason="wrong code", locked=locked)
    return Check(Verdict.LOCKED if locked else Verdict.WRONG)


def _record(actor: Actor, outcome: AuditOutcome, purpose: str, method: str, **details: Any) -> None:
    record_staff_action(
        actor=actor,
        action=AuditAction.STAFF_SECOND_FACTOR,
        resource_type="staff",
        resource_id=actor.actor_id,
        outcome=outcome,
        details={"purpose": purpose, **({"method": method} if method else {}), **details},
    )


def _user(request: HttpRequest) -> User:
    """The signed-in user: every caller runs behind the admin's sign-in check."""
    return cast(User, request.user)


def _actor(request: HttpRequest) -> Actor:
    actor: Actor | None = getattr(request, "actor", None)
    if actor is None:  # StaffMiddleware signs out anyone without one before this runs
        raise PermissionError("No staff member is signed in.")
    return actor
