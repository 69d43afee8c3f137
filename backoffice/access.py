"""Access to the back office's own pages and admin actions, declared where they are defined.

``@staff_view(Capability.X)`` makes a view require a signed-in staff member (through the admin's
login) who holds the capability, records a denied attempt, and labels the view with its
capability so the permission-matrix test can check every URL. ``@staff_action`` does the same for
admin actions: the action is offered only to people holding its capability.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse

from backoffice.audit_actions import AuditAction
from backoffice.operations import Refused
from backoffice.roles import Actor, Capability
from backoffice.staff_audit import record_denied

View = Callable[..., HttpResponse]


def staff_view(capability: Capability) -> Callable[[View], View]:
    """Decorate a view: sign-in required, ``capability`` required (403 and audited otherwise)."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            actor: Actor | None = getattr(request, "actor", None)
            if actor is None or not actor.can(capability):
                if actor is not None:
                    record_denied(
                        actor=actor,
                        action=AuditAction.STAFF_ACCESS,
                        resource_type=f"page:{view.__module__}.{view.__name__}",
                        details={"path": request.path[:500], "method": request.method},
                    )
                raise Refused("Your role does not allow this page.")
            return view(request, *args, **kwargs)

        wrapped = admin.site.admin_view(checked)
        wrapped.capability = capability  # type: ignore[attr-defined]
        return wrapped

    return decorate


def staff_action(
    *, capability: Capability, description: str
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate an admin action: offered only to actors holding ``capability``.

    The ModelAdmin must inherit ``ScopedModelAdmin``, which filters actions by capability.
    """

    def decorate(action: Callable[..., Any]) -> Callable[..., Any]:
        action.capability = capability  # type: ignore[attr-defined]
        action.short_description = description  # type: ignore[attr-defined]
        return action

    return decorate
