"""Who is acting: the ``Actor`` for a signed-in Django user, rebuilt from the gateway each time."""

from __future__ import annotations

import hashlib
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.http import HttpRequest

from backoffice.roles import Actor, Role, parse_roles
from security.authentication import ACTOR_FIELDS, GatewayUserRead, Refusal, refusal_for
from security.client_address import client_ip
from security.models import GatewayUser, StaffAccount


def actor_for(
    user: AbstractBaseUser | AnonymousUser, request: HttpRequest | None = None
) -> tuple[Actor | None, Refusal | None]:
    """The actor behind ``user`` now, or the reason they may no longer use the back office."""
    if not user.is_authenticated or not user.is_active:
        return None, None
    context = _request_context(request)
    # Read with the user by the sign-in backend on this request; otherwise read it now.
    read = getattr(user, "gateway_user_read", None) or _read_gateway_user(user)
    link = read.gateway_user_id
    time_zone = read.time_zone
    if link is None:
        if getattr(user, "is_superuser", False):
            # Break-glass: a local superuser created with createsuperuser (rare: one more read).
            time_zone = (
                get_user_model()
                .objects.filter(pk=user.pk)
                .values_list("staff_preference__time_zone", flat=True)
                .first()
            )
            return Actor(
                display_name=f"{user.get_username()} (local superuser)",
                roles=frozenset({Role.ADMIN}),
                local_username=user.get_username(),
                time_zone=time_zone,
                **context,
            ), None
        return None, Refusal.NO_ROLE
    gateway_user = read.gateway_user
    if gateway_user is None:
        return None, Refusal.INACTIVE
    refusal = refusal_for(gateway_user)
    if refusal is not None:
        return None, refusal
    return Actor(
        display_name=gateway_user.email,
        roles=parse_roles(gateway_user.role),
        tenant_id=gateway_user.tenant_id,
        gateway_user_id=gateway_user.id,
        time_zone=time_zone,
        **context,
    ), None


def _read_gateway_user(user: AbstractBaseUser) -> GatewayUserRead:
    row = (
        StaffAccount.objects.filter(django_user_id=user.pk)
        .values_list("gateway_user_id", "django_user__staff_preference__time_zone")
        .first()
    )
    if row is None:
        return GatewayUserRead(None, None)
    link, time_zone = row
    gateway_user = GatewayUser.unscoped.only(*ACTOR_FIELDS).filter(pk=link).first()
    return GatewayUserRead(link, gateway_user, time_zone)


def _request_context(request: HttpRequest | None) -> dict[str, Any]:
    if request is None:
        return {}
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    context: dict[str, Any] = {
        "ip_address": client_ip(request),
        "user_agent": (request.META.get("HTTP_USER_AGENT") or "")[:500] or None,
        "session_ref": (
            hashlib.sha256(session_key.encode()).hexdigest()[:16] if session_key else None
        ),
    }
    request_id = getattr(request, "request_id", None)
    if request_id is not None:
        context["request_id"] = request_id
    return context


def command_actor(email_or_username: str) -> Actor:
    """The actor for a management command run on behalf of a gateway staff user."""
    gateway_user = GatewayUser.unscoped.filter(email__iexact=email_or_username).first() or (
        GatewayUser.unscoped.filter(username__iexact=email_or_username).first()
    )
    if gateway_user is None:
        raise LookupError(f"No gateway user {email_or_username!r}.")
    refusal = refusal_for(gateway_user)
    if refusal is not None:
        raise PermissionError(refusal.value)
    return Actor(
        display_name=gateway_user.email,
        roles=parse_roles(gateway_user.role),
        tenant_id=gateway_user.tenant_id,
        gateway_user_id=gateway_user.id,
        user_agent="manage.py",
    )
