"""Admin pages of moderation: the gateway users a support person lives in, and impersonations.

Both pages are read-only admin pages (changes go through the services, via confirmation pages
and bulk actions). Filters accept only their own parameters: anything else in a URL, an
impossible page number or a malformed date becomes a message, never a server error.
"""

from security.moderation.admin import impersonations, users

__all__ = ["impersonations", "users"]
