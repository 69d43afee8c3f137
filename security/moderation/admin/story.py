"""The story sections of a user's page: counts with "see all" links, bans over time, requests
and impersonations (reads in ``security.moderation.story``)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest
from django.urls import reverse

from audit.history import explorer_url
from backoffice.roles import Actor, Capability
from security.models import GatewayUser, ImpersonationRecord
from security.moderation import story
from security.moderation.onward_links import admin_page_url


def story_context(
    request: HttpRequest, actor: Actor, user: GatewayUser, api_keys: list[dict[str, Any]]
) -> dict[str, Any]:
    """What ``_story.html`` shows; ``api_keys``: the user's keys as the page already read them."""
    by_user, about_user = story.audit_counts(actor, user)
    may_explore = actor.can(Capability.VIEW_AUDIT_LOGS)
    ledger = story.ban_ledger(actor, user)
    for line in ledger:
        line.url = reverse("audit:audit_log_detail", args=[line.id]) if may_explore else None
    requests, request_counts = story.key_requests([key["id"] for key in api_keys])
    key_names = {str(key["id"]): key for key in api_keys}
    for row in requests:
        key = key_names.get(str(row["api_key_id"]), {})
        row["key_label"] = f"{key.get('name', '')} ({key.get('key_prefix', '')})"
        row["url"] = reverse("audit:request_log_detail", args=[row["id"]]) if may_explore else None
    for key in api_keys:
        key["requests"] = request_counts.get(str(key["id"]))
        key["requests_url"] = _requests_url(actor, api_key=str(key["id"]))
    impersonations = story.impersonations(actor, user)
    for record in impersonations:
        record.url = admin_page_url(request, ImpersonationRecord, record.pk)  # type: ignore[attr-defined]
        record.direction = "by them" if record.impersonator_id == user.pk else "of them"  # type: ignore[attr-defined]
    impersonation_list = reverse("admin:security_impersonationrecord_changelist")
    may_review = actor.can(Capability.REVIEW_IMPERSONATIONS)
    return {
        "story": {
            "sections": [
                {
                    "name": "audit-by",
                    "label": "Audit entries by them",
                    "count": str(by_user),
                    "url": explorer_url(actor, {"actor": user.pk}),
                },
                {
                    "name": "audit-about",
                    "label": "Audit entries about them",
                    "count": str(about_user),
                    "url": explorer_url(actor, {"resource_type": "user", "resource_id": user.pk}),
                },
                {
                    "name": "bans",
                    "label": "Bans and unbans",
                    "count": f"{len(ledger)}{'+' if len(ledger) >= story.LEDGER_SHOWN else ''}",
                    "url": explorer_url(
                        actor, {"action": "user.", "resource_type": "user", "resource_id": user.pk}
                    ),
                },
                {
                    "name": "requests",
                    "label": "Requests in the last 24 hours (by user id)",
                    "count": None,
                    "url": _requests_url(actor, user=user.pk, period="24h"),
                },
                {
                    "name": "impersonations-by",
                    "label": "Impersonations by them",
                    "count": None,
                    "url": f"{impersonation_list}?{urlencode({'impersonator': user.pk})}"
                    if may_review
                    else None,
                },
                {
                    "name": "impersonations-of",
                    "label": "Impersonations of them",
                    "count": None,
                    "url": f"{impersonation_list}?{urlencode({'impersonated': user.pk})}"
                    if may_review
                    else None,
                },
            ],
            "may_explore": may_explore,
            "ledger": ledger,
            "requests": requests,
            "requests_shown": story.REQUESTS_SHOWN,
            "impersonations": impersonations,
            "may_review": may_review,
        }
    }


def _requests_url(actor: Actor, **filters: str) -> str | None:
    if not actor.can(Capability.VIEW_AUDIT_LOGS):
        return None
    return reverse("audit:request_log_list") + "?" + urlencode(filters)
