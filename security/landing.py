"""Where a staff member lands after signing in: the page their role works from.

Used when the sign-in form carries no ``next``, or one that is not this site's own (an open
redirect would send a phished person on to a look-alike page after a real sign-in).
"""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from backoffice.roles import Actor, Role

# First role held wins: someone who is both auditor and tenant admin lands on the audit log.
ROLE_LANDINGS: tuple[tuple[Role, str], ...] = (
    (Role.ADMIN, "monitoring:home"),  # the dashboard: everything that needs attention
    (Role.SUPPORT, "admin:security_gatewayuser_changelist"),  # the users to moderate
    (Role.AUDITOR, "audit:audit_log_list"),  # the audit log explorer
    (Role.TENANT_ADMIN, "admin:security_apikey_changelist"),  # their tenant's API keys
)


def landing_url(actor: Actor | None) -> str:
    """The page ``actor``'s role works from; the dashboard when no role names one."""
    roles = actor.roles if actor is not None else frozenset()
    for role, url_name in ROLE_LANDINGS:
        if role in roles:
            return reverse(url_name)
    return reverse("monitoring:home")


def safe_next(request: HttpRequest, value: str | None) -> str | None:
    """``value`` when it is a page of this site (same host, no other scheme), else None."""
    if not value:
        return None
    allowed = url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return value if allowed else None
