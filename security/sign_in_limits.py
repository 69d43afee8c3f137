"""Limits on signing in: the per-address rate limit, and the page and audit row of a lockout.

django-axes locks a (person, address) pair after ``AXES_FAILURE_LIMIT`` wrong passwords; that
alone would let one address try every staff member in turn, so each address may also make only
``SIGN_IN_RATE_LIMIT`` attempts per ``SIGN_IN_RATE_WINDOW_SECONDS``, whatever names it types.
Both answer 429 with a page in the back office's look, and both are audited once per event (the
attempt that locks, the first attempt over the limit in a window), so a flood of attempts cannot
flood the trail.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import uuid
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from audit.models import ActorType, AuditLog, AuditOutcome
from backoffice.audit_actions import AuditAction
from backoffice.errors import ErrorText, error_page
from security.authentication import find_gateway_user
from security.client_address import client_ip
from security.models import SignInWindow

logger = logging.getLogger("security.sign_in")

LOCKED_OUT = ErrorText(
    "Account locked",
    (
        "Account locked: too many login attempts. Please try again later.",
        "Sign-in from this address is paused for this account; it opens again by itself, or an "
        "administrator can lift it sooner.",
    ),
)
TOO_MANY_ATTEMPTS = ErrorText(
    "Too many sign-in attempts",
    (
        "Too many sign-in attempts from your address. Wait a minute, then try again.",
        "Nothing was checked: the password was not tried.",
    ),
)

_TABLE = connection.ops.quote_name(SignInWindow._meta.db_table)
# Uses index: sign_in_window_address_start_uniq (the conflict target).
COUNT_ATTEMPT = f"""
INSERT INTO {_TABLE} (address, window_start, attempts) VALUES (%s, %s, 1)
ON CONFLICT (address, window_start) DO UPDATE SET attempts = {_TABLE}.attempts + 1
RETURNING attempts
"""
# Uses index: sign_in_window_start_idx
PRUNE_WINDOWS = f"DELETE FROM {_TABLE} WHERE window_start < %s"


def refuse_if_too_many(request: HttpRequest) -> HttpResponse | None:
    """Count this sign-in attempt against its address; the 429 page once over the limit."""
    address = client_ip(request)
    if address is None:
        return None
    window = settings.SIGN_IN_RATE_WINDOW_SECONDS
    now = timezone.now()
    start = dt.datetime.fromtimestamp(math.floor(now.timestamp() / window) * window, tz=dt.UTC)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(COUNT_ATTEMPT, [address, start])
            attempts = cursor.fetchone()[0]
            if attempts == 1:
                cursor.execute(PRUNE_WINDOWS, [start - dt.timedelta(seconds=window)])
        limit = settings.SIGN_IN_RATE_LIMIT
        if attempts <= limit:
            return None
        if attempts == limit + 1:
            logger.warning(
                "sign-in rate limit: %s made more than %d attempts in %d s", address, limit, window
            )
            _audit(
                request,
                AuditAction.STAFF_SIGN_IN_RATE_LIMITED,
                {"attempts": attempts, "limit": limit, "window_seconds": window},
            )
    response = error_page(request, 429, TOO_MANY_ATTEMPTS)
    retry_after = max(1, math.ceil((start + dt.timedelta(seconds=window) - now).total_seconds()))
    response["Retry-After"] = str(retry_after)
    return response


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict[str, Any] | None
) -> HttpResponse:
    """``AXES_LOCKOUT_CALLABLE``: the lockout page; the audit row on the attempt that locks."""
    if getattr(request, "axes_failures_since_start", None) == settings.AXES_FAILURE_LIMIT:
        typed = (credentials or {}).get("username") or request.POST.get("username") or ""
        person = find_gateway_user(typed) if isinstance(typed, str) else None
        with transaction.atomic():
            _audit(
                request,
                AuditAction.STAFF_LOCKOUT,
                {
                    "failures": settings.AXES_FAILURE_LIMIT,
                    "cooloff_minutes": round(settings.AXES_COOLOFF_TIME * 60, 2),
                    # A name that is nobody's is not written: it may be a mistyped password.
                    "person": "known" if person is not None else "unknown",
                },
                person_id=person.id if person is not None else None,
                tenant_id=person.tenant_id if person is not None else None,
            )
    return error_page(request, 429, LOCKED_OUT)


def _audit(
    request: HttpRequest,
    action: AuditAction,
    details: dict[str, Any],
    *,
    person_id: str | None = None,
    tenant_id: uuid.UUID | str | None = None,
) -> None:
    AuditLog.unscoped.create(
        tenant_id=tenant_id,
        actor_id=person_id,
        actor_type=ActorType.USER if person_id else ActorType.SYSTEM,
        action=action,
        resource_type="user" if person_id else None,
        resource_id=person_id,
        outcome=AuditOutcome.DENIED,
        ip_address=client_ip(request),
        user_agent=(request.META.get("HTTP_USER_AGENT") or "").replace("\x00", "")[:500] or None,
        request_id=getattr(request, "request_id", None),
        details=details,
    )
