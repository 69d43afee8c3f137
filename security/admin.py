"""Admin pages of the security app; each concept registers its own."""

from django.contrib import admin
from django_otp.plugins.otp_totp.models import TOTPDevice

from security.api_keys import admin as api_keys_admin  # noqa: F401
from security.moderation import admin as moderation_admin  # noqa: F401

# django-otp registers its TOTP devices, with their keys and QR codes, in the admin: secrets
# never reach a page twice, and resets go through the audited reset page.
if admin.site.is_registered(TOTPDevice):
    admin.site.unregister(TOTPDevice)
