"""Fixtures for the second-factor tests: a signed-in staff member who gave only their password."""

from __future__ import annotations

import re

from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.conftest import Persona, totp_code

VERIFY_URL = "/security/second-factor/"
ENROL_URL = "/security/second-factor/enrol/"
# Seven digits: never one of the six-digit codes an app shows, whatever the clock.
WRONG_CODE = "1234567"


def password_only_client(persona: Persona) -> Client:
    """Signed in with the password, no code yet: what the sign-in form leaves behind."""
    client = Client()
    client.force_login(persona.django_user, backend="security.authentication.BetterAuthBackend")
    return client


def enrol(client: Client) -> tuple[TOTPDevice, list[str]]:
    """Go through enrolment like a person: open the page, read the key, type the app's code."""
    page = client.get(ENROL_URL).content.decode()
    assert 'id="second-factor-qr"' in page
    device = TOTPDevice.objects.get(confirmed=False, user_id=int(client.session["_auth_user_id"]))
    response = client.post(ENROL_URL, {"code": totp_code(device)})
    assert response.status_code == 200, response.content.decode()[:500]
    codes = re.findall(r"<li><code>([0-9A-Z-]{14})</code></li>", response.content.decode())
    return TOTPDevice.objects.get(pk=device.pk), codes
