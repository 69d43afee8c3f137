"""``manage.py staff_otp_code <email>``: the code a demo staff member's app would show now.

For the demo and local development only, where nobody scanned the seeded staff's secrets:
refused under production settings. It prints the current code, never the secret.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from security.models import GatewayUser, StaffAccount


class Command(BaseCommand):
    help = "Print the current second-factor code of a demo staff member (refused in production)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email", help="Email of the gateway staff member.")

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("Refused: staff_otp_code is for the demo only, not in production.")
        user = GatewayUser.unscoped.filter(email__iexact=options["email"].strip()).first()
        link = (
            StaffAccount.objects.filter(gateway_user_id=user.pk).first()
            if user is not None
            else None
        )
        device = (
            TOTPDevice.objects.filter(user_id=link.django_user_id, confirmed=True).first()
            if link is not None
            else None
        )
        if device is None:
            raise CommandError(f"{options['email']} has no second factor enrolled here.")
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits)
        self.stdout.write(f"{totp.token():0{device.digits}d}")
