"""Reads about gateway users that more than one part of the back office needs."""

from __future__ import annotations

from django.db.models import OuterRef, Subquery

from backoffice.roles import Actor, Capability
from security.models import GatewayUser


def user_emails(actor: Actor | None, capability: Capability, user_ids: set[str]) -> dict[str, str]:
    """The email of each of these ids that is a gateway user ``actor`` may see, in one query.

    Logs and audit tables name people by Better-Auth id; people read emails.
    """
    ids = {pk for pk in user_ids if pk and "\x00" not in pk}
    if not ids:
        return {}
    # Uses index: user_pkey
    return dict(
        GatewayUser.objects.visible_to(actor, capability)
        .filter(pk__in=ids)
        .values_list("id", "email")
    )


def email_of(actor: Actor | None, capability: Capability, column: str) -> Subquery:
    """The email of the gateway user whose id is in the outer query's ``column``, if ``actor``
    may see that user: for a page's own query, so naming its people costs no query of its own.
    """
    # Uses index: user_pkey (one probe per row of the page)
    return Subquery(
        GatewayUser.objects.visible_to(actor, capability)
        .filter(pk=OuterRef(column))
        .order_by()
        .values("email")[:1]
    )
