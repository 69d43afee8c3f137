"""Back-office sessions: each one recorded, listed to its owner, ended by age, idleness or choice.

Every signed-in session has a ``StaffSession`` row keyed by a digest of its session key (the key
is the cookie's secret and is never stored, shown or logged). The row is the session's licence:
``StaffSessionMiddleware`` ends a session whose row is gone, so deleting rows signs those
sessions out at their next request, wherever they are. The session remembers the digest it was
recorded under, so a session that was never recorded (signed in just now, or before this
existed) is recorded instead of ended.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone

from security.client_address import client_ip
from security.models import StaffSession
from security.session_reads import key_digest, licence_read_for

logger = logging.getLogger("security.sessions")

# Where the session remembers the digest it was recorded under.
RECORDED_AS = "_backoffice_session"
# last_active_at is written at most this often per session: a write per click is not worth it.
TOUCH_EVERY = dt.timedelta(seconds=60)

ENDED_ELSEWHERE = "You were signed out: this session was ended from another one."


def current_digest(request: HttpRequest) -> str | None:
    session = getattr(request, "session", None)
    key = getattr(session, "session_key", None)
    return key_digest(key) if key else None


def check_session(request: HttpRequest) -> str | None:
    """Record or refresh this signed-in request's session; why it has ended, or None.

    An ended session's row is deleted here; the caller signs the person out.
    """
    user = getattr(request, "user", None)
    digest = current_digest(request)
    if user is None or not user.is_authenticated or digest is None:
        return None
    now = timezone.now()
    recorded = request.session.get(RECORDED_AS)
    if recorded is None:
        record_session(request, now)
        return None
    if recorded != digest and not follow_cycled_key(request, recorded, digest):
        # Recorded under its old key, and that row was deleted: ended from elsewhere.
        return ENDED_ELSEWHERE
    # Read with the user (security/session_reads.py), unless its row was just moved to this key.
    was_read, row = licence_read_for(user, digest) if recorded == digest else (False, None)
    if not was_read:
        row = StaffSession.objects.filter(key_digest=digest).first()
    if row is None:
        return ENDED_ELSEWHERE
    idle = dt.timedelta(minutes=settings.SESSION_IDLE_TIMEOUT_MINUTES)
    lifetime = dt.timedelta(hours=settings.SESSION_MAX_AGE_HOURS)
    reason = None
    if now - row.last_active_at > idle:
        reason = (
            f"You were signed out after {settings.SESSION_IDLE_TIMEOUT_MINUTES} minutes "
            "without activity."
        )
    elif now - row.signed_in_at > lifetime:
        reason = (
            f"You were signed out: sessions last at most {settings.SESSION_MAX_AGE_HOURS:g} "
            "hours. Sign in again."
        )
    if reason is not None:
        row.delete()
        return reason
    if now - row.last_active_at >= TOUCH_EVERY:
        try:
            with transaction.atomic():
                StaffSession.objects.filter(pk=row.pk).update(last_active_at=now)
        except DatabaseError:
            logger.warning("could not mark a back-office session active", exc_info=True)
    return None


def follow_cycled_key(request: HttpRequest, recorded: str, digest: str) -> bool:
    """Move the session's row to its new key after a key cycle; False when the row is gone.

    Django cycles the session key when someone signs in again or passes the second factor
    (django-otp's ``login``): the same session under a new key, its data carried over. Without
    this its old row would stay listed as a second, ghost session.
    """
    user_id = getattr(request.user, "pk", None)
    moved = StaffSession.objects.filter(key_digest=recorded, django_user_id=user_id).update(
        key_digest=digest
    )
    if moved:
        request.session[RECORDED_AS] = digest
    return bool(moved)


def record_session(request: HttpRequest, now: dt.datetime | None = None) -> None:
    """Record the request's (signed-in) session, which counts as signed in from now."""
    digest = current_digest(request)
    if digest is None:
        return
    now = now or timezone.now()
    try:
        # Bookkeeping must not cost the person their page: a database that refuses writes
        # (read-only, a statement timeout) leaves the session unrecorded until the next request.
        with transaction.atomic():
            _write_record(request, digest, now)
    except DatabaseError:
        logger.warning("could not record a back-office session; will retry", exc_info=True)
        return
    request.session[RECORDED_AS] = digest


def _write_record(request: HttpRequest, digest: str, now: dt.datetime) -> None:
    StaffSession.objects.update_or_create(
        key_digest=digest,
        defaults={
            "django_user_id": request.user.pk,
            "user_agent": (request.META.get("HTTP_USER_AGENT") or "").replace("\x00", "")[:500],
            "ip_address": client_ip(request),
            "signed_in_at": now,
            "last_active_at": now,
        },
    )


def forget_current_session(request: HttpRequest) -> None:
    """Drop the row of the request's session: signing out ends it in the list too."""
    digest = current_digest(request)
    if digest is not None:
        StaffSession.objects.filter(key_digest=digest).delete()


def end_sessions_of_user(django_user_id: int) -> int:
    """End every back-office session of one Django user (at their next request); how many."""
    deleted, _ = StaffSession.objects.filter(django_user_id=django_user_id).delete()
    return deleted


def end_sessions_of_gateway_user(gateway_user_id: str) -> int:
    """End every back-office session of the staff member linked to a gateway user (a ban)."""
    deleted, _ = StaffSession.objects.filter(
        django_user__staff_account__gateway_user_id=gateway_user_id
    ).delete()
    return deleted


@dataclass(frozen=True)
class SessionRow:
    """One line of the person's session list (no key, no digest: nothing to replay)."""

    pk: int
    user_agent: str
    ip_address: str | None
    signed_in_at: dt.datetime
    last_active_at: dt.datetime
    is_current: bool


def sessions_of(request: HttpRequest) -> list[SessionRow]:
    """The signed-in person's own live back-office sessions, most recently active first.

    Sessions that expired without another request (a closed laptop) are removed, not listed.
    """
    digest = current_digest(request)
    now = timezone.now()
    own = StaffSession.objects.filter(django_user_id=request.user.pk)
    idle_since = now - dt.timedelta(minutes=settings.SESSION_IDLE_TIMEOUT_MINUTES)
    born_before = now - dt.timedelta(hours=settings.SESSION_MAX_AGE_HOURS)
    own.filter(Q(last_active_at__lt=idle_since) | Q(signed_in_at__lt=born_before)).delete()
    rows = own.order_by("-last_active_at", "-pk")
    return [
        SessionRow(
            pk=row.pk,
            user_agent=row.user_agent,
            ip_address=row.ip_address,
            signed_in_at=row.signed_in_at,
            last_active_at=row.last_active_at,
            is_current=row.key_digest == digest,
        )
        for row in rows
    ]
