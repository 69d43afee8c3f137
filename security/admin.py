"""Admin pages of the security app; each concept registers its own."""

from security.api_keys import admin as api_keys_admin  # noqa: F401
from security.moderation import admin as moderation_admin  # noqa: F401
