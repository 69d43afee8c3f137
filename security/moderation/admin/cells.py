"""People by email (linked) in the moderation pages' audit tables; times and emails are written by
``backoffice.presentation``, like on every other page.
"""

from __future__ import annotations

from typing import Any

from django.contrib.admin.utils import quote
from django.urls import reverse

from backoffice import presentation
from backoffice.roles import Capability
from security.selectors import user_emails


def name_people(actor: Any, capability: Capability, entries: list[Any]) -> None:
    """Give each audit entry ``by`` and ``on`` ({email, url}) where its ids are gateway users.

    One query for the whole page; ids that are no user (an API key, a server) stay as they are.
    """

    def field(entry: Any, name: str) -> Any:
        return entry[name] if isinstance(entry, dict) else getattr(entry, name)

    def person(user_id: str | None) -> dict[str, Any] | None:
        if not user_id or user_id not in emails:
            return None
        url = reverse("admin:security_gatewayuser_change", args=[quote(user_id)])
        return {
            "email": emails[user_id],
            "label": presentation.breakable(emails[user_id]),
            "url": url,
        }

    ids = {field(entry, "actor_id") for entry in entries} | {
        field(entry, "resource_id") for entry in entries if field(entry, "resource_type") == "user"
    }
    emails = user_emails(actor, capability, ids)
    for entry in entries:
        by = person(field(entry, "actor_id"))
        on = (
            person(field(entry, "resource_id")) if field(entry, "resource_type") == "user" else None
        )
        if isinstance(entry, dict):
            entry["by"], entry["on"] = by, on
        else:
            entry.by, entry.on = by, on
