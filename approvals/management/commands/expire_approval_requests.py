"""Mark four-eyes requests past their end expired, each with its ``approval.expire`` audit row.

An expired request can never be approved whether or not this ran (approving checks the time);
this keeps the list and the audit trail honest. Run it on a schedule (e.g. every minute).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from approvals import services
from backoffice.roles import Actor

# No person decides an expiry: the audit rows name this command (actor id "local:<name>").
SCHEDULE = Actor(
    display_name="expire_approval_requests (schedule)",
    roles=frozenset(),
    local_username="expire_approval_requests",
    user_agent="manage.py",
)


class Command(BaseCommand):
    help = "Mark pending four-eyes requests past their end expired (audited)."

    def handle(self, *args: Any, **options: Any) -> None:
        expired = services.expire_overdue(actor=SCHEDULE)
        self.stdout.write(f"Expired {len(expired)} approval request(s).")
