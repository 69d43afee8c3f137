"""Record every impersonation session the gateway has now; run it on a schedule (e.g. cron).

Better-Auth deletes an impersonation's session row when it stops or expires, so whatever this
does not see in time leaves only the audit log's ``impersonation.*`` events behind.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from security.moderation import impersonation_capture


class Command(BaseCommand):
    help = "Copy current impersonation sessions into the back office's records."

    def handle(self, *args: Any, **options: Any) -> None:
        # No --as: this observes the gateway and changes nothing in it, so no person acts.
        result = impersonation_capture.capture_impersonations()
        self.stdout.write(
            f"Seen {result.seen} impersonation session(s): {result.recorded} new, "
            f"{result.ended} ended since the last capture."
        )
