"""``manage.py seed_demo``: fill a dev or demo database with a realistic gateway.

The demo itself is made by ``backoffice.demo``; this command reads the options, refuses a
database that is already seeded and prints one sign-in per role. The demo passwords printed at
the end are public: never seed a database that real people can reach.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from backoffice.demo.catalog import DEMO_SIGN_INS
from backoffice.demo.seeding import seed_demo
from backoffice.roles import BACKOFFICE_ROLES
from security.authentication import link_staff_account
from security.models import GatewayUser
from security.second_factor.devices import enrol_without_code

DEFAULT_LOG_ROWS = 200_000


class Command(BaseCommand):
    help = (
        "Fill the database with demo data: tenants in every status, users of every role (some "
        "banned), sessions and impersonations, servers in every health state with tools, "
        "resources and health checks, API keys in every state, and 30 days of audit and request "
        "logs. Prints one sign-in per role. For dev and demo databases only."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--once", action="store_true", help="Do nothing if the demo is already seeded."
        )
        parser.add_argument(
            "--log-rows",
            type=int,
            default=DEFAULT_LOG_ROWS,
            help=f"Rows for each of audit_logs and request_logs (default {DEFAULT_LOG_ROWS}).",
        )
        parser.add_argument(
            "--seed", type=int, default=None, help="Random seed, for repeatability."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if GatewayUser.unscoped.filter(email=DEMO_SIGN_INS[0].email).exists():
            if options["once"]:
                self.stdout.write("The demo data is already seeded: nothing to do.")
                return
            raise CommandError(
                f"{DEMO_SIGN_INS[0].email} exists: this database is already seeded. "
                "Use --once to skip, or seed a fresh database."
            )
        log_rows, seed = options["log_rows"], options["seed"]
        if log_rows < 0:
            raise CommandError("--log-rows must be zero or more.")
        seed_demo(log_rows=log_rows, seed=seed, write=self.stdout.write)
        enrolled = _enrol_demo_staff()
        self.stdout.write("Demo sign-ins (demo passwords, never use them anywhere real):")
        for sign_in in DEMO_SIGN_INS:
            self.stdout.write(f"  {sign_in.role.value:<13} {sign_in.email:<27} {sign_in.password}")
        self.stdout.write(
            f"Second factor: {', '.join(enrolled)} are enrolled. After the password, type the "
            "code printed by: python manage.py staff_otp_code <email> (refused in production)."
        )


def _enrol_demo_staff() -> list[str]:
    """Enrol every demo sign-in with a back-office role, so the demo asks for codes like prod."""
    enrolled = []
    for sign_in in DEMO_SIGN_INS:
        if sign_in.role not in BACKOFFICE_ROLES:
            continue
        gateway_user = GatewayUser.unscoped.get(email=sign_in.email)
        enrol_without_code(link_staff_account(gateway_user))
        enrolled.append(sign_in.email)
    return enrolled
