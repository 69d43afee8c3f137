"""Ban gateway users as a staff member would from the user page (same service, same audit)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from backoffice.roles import Actor
from security.moderation import rules, services
from security.moderation.commands import ModerationCommand


class Command(ModerationCommand):
    help = (
        "Ban users (by email, username or id): deletes all their sessions, as Better-Auth does. "
        "A user already banned keeps the ban, with this reason and end instead."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("users", nargs="+", help="Email, username or id of each user.")
        parser.add_argument(
            "--reason", required=True, help="Why; kept with the ban (required, not blank)."
        )
        length = parser.add_mutually_exclusive_group()
        length.add_argument("--days", type=int, help="Ban for this many days.")
        length.add_argument(
            "--until",
            help=(
                "Ban until this ISO time, e.g. 2030-01-31T18:00Z or 2030-01-31T18:00+09:00; "
                "a time without an offset is read as UTC."
            ),
        )
        parser.add_argument(
            "--revoke-keys",
            action="store_true",
            help="Also revoke every working API key they created, in the same transaction.",
        )

    def act(self, actor: Actor, **options: Any) -> None:
        expires_at = _ban_end(options["days"], options["until"])
        users = [self.user(actor, who) for who in options["users"]]
        outcome = services.ban_users(
            actor=actor,
            user_ids=[user.pk for user in users],
            reason=options["reason"],
            expires_at=expires_at,
            revoke_keys=options["revoke_keys"],
        )
        self.report(outcome, "Banned", "already banned")
        if outcome.impersonations_ended:
            self.stdout.write(f"Impersonations they ran, ended: {outcome.impersonations_ended}")
        if outcome.keys_revoked:
            self.stdout.write(f"API keys revoked: {outcome.keys_revoked}")
        if outcome.keys_left_working:
            self.stdout.write(
                self.style.WARNING(
                    f"API keys they created that still work: {outcome.keys_left_working} "
                    "(use --revoke-keys to revoke them with the ban)"
                )
            )


def _ban_end(days: int | None, until: str | None) -> dt.datetime | None:
    if days is not None:
        if not 1 <= days <= 36500:
            raise CommandError("--days must be between 1 and 36500.")
        return timezone.now() + dt.timedelta(days=days)
    if until is None:
        return None
    try:
        moment = parse_datetime(until)
    except ValueError:
        moment = None
    if moment is None:
        raise CommandError(f"--until {until!r} is not a time: use e.g. 2030-01-31T18:00Z.")
    if timezone.is_naive(moment):
        # UTC, as the help says: never the server's TIME_ZONE, which nobody typing sees.
        moment = moment.replace(tzinfo=dt.UTC)
    # The same bounds as the ban form and the service, said about the option.
    problem = rules.ban_end_problem(moment)
    if problem is not None:
        raise CommandError(f"--until {until}: {problem}")
    return moment
