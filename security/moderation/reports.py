"""What a ban says it did: the people banned, the sessions and keys it stopped, and what of
theirs still works. The user page's ban and the list's bulk ban say it in the same words."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest

from security.moderation.blast_radius import plural
from security.moderation.services import Outcome


def report_ban(request: HttpRequest, outcome: Outcome) -> None:
    """Say what a ban did, and what of the banned users' still works."""
    done = []
    changed = sorted(outcome.changed)
    if changed:
        who = changed[0] if len(changed) == 1 else plural(len(changed), "user")
        shown = "" if len(changed) == 1 else ": " + ", ".join(changed[:10])
        done.append(f"Banned {who}{shown}{', …' if len(changed) > 10 else ''}")
    if outcome.amended:
        done.append(f"Changed the ban of {', '.join(outcome.amended[:10])}; it stays in force")
    if outcome.changed or outcome.sessions_deleted:
        done.append(f"signed out {plural(outcome.sessions_deleted, 'session')}")
    if outcome.impersonations_ended:
        done.append(f"ended {plural(outcome.impersonations_ended, 'impersonation')} they ran")
    if outcome.keys_revoked:
        done.append(f"revoked {plural(outcome.keys_revoked, 'key')}")
    if done:
        messages.success(request, "; ".join(done) + ".")
    if outcome.unchanged:
        messages.info(
            request,
            f"Nothing changed: {', '.join(outcome.unchanged[:10])} "
            f"{'is' if len(outcome.unchanged) == 1 else 'are'} already banned like this.",
        )
    if outcome.keys_left_working:
        keys = plural(outcome.keys_left_working, "API key")
        verb = "still works" if outcome.keys_left_working == 1 else "still work"
        messages.warning(
            request, f"{keys} they created {verb}: revoke them from the API keys pages."
        )
