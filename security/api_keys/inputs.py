"""What a key's settings may be: the bounds the forms, the commands and the services share.

Each ``clean_*`` returns the value as stored, or raises ``Invalid`` with what to fix.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.utils import timezone

from backoffice.operations import Invalid
from security.api_keys import scopes as scope_catalog

MAX_NAME_LENGTH = 200
MAX_REASON_LENGTH = 500
MIN_RATE_LIMIT = 1
MAX_RATE_LIMIT = 100_000
# A key that outlives ten years is a key nobody remembers; the form offers at most that.
MAX_LIFETIME = dt.timedelta(days=3653)


def clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise Invalid("Give the key a name, e.g. the system that will use it.")
    if "\x00" in name:
        raise Invalid("A key name cannot contain a NUL character.")
    if len(name) > MAX_NAME_LENGTH:
        raise Invalid(f"A key name has at most {MAX_NAME_LENGTH} characters.")
    return name


def clean_scopes(scopes: Sequence[str], also_allowed: Sequence[str] = ()) -> list[str]:
    chosen = list(dict.fromkeys(scopes))
    if not chosen:
        raise Invalid("Choose at least one scope: a key without scopes can do nothing.")
    unknown = [s for s in chosen if s not in scope_catalog.SCOPE_VALUES and s not in also_allowed]
    if unknown:
        shown = ", ".join(s.replace("\x00", "")[:40] for s in unknown)
        raise Invalid(f"Not a scope of the catalog: {shown}.")
    return chosen


def clean_expiry(expires_at: dt.datetime | None) -> dt.datetime | None:
    if expires_at is None:
        return None
    if timezone.is_naive(expires_at):
        raise Invalid("An expiry needs a time zone.")
    now = timezone.now()
    if expires_at <= now:
        raise Invalid("The expiry must be in the future.")
    if expires_at > now + MAX_LIFETIME:
        raise Invalid("A key can be valid for at most ten years.")
    return expires_at


def clean_rate_limit(rate_limit: int) -> int:
    if not isinstance(rate_limit, int) or not MIN_RATE_LIMIT <= rate_limit <= MAX_RATE_LIMIT:
        raise Invalid(
            f"The rate limit is a whole number of requests per minute, "
            f"{MIN_RATE_LIMIT} to {MAX_RATE_LIMIT}."
        )
    return rate_limit


def clean_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("Say why the key is revoked; the reason is kept in the audit log.")
    if "\x00" in reason:
        raise Invalid("A reason cannot contain a NUL character.")
    if len(reason) > MAX_REASON_LENGTH:
        raise Invalid(f"A reason has at most {MAX_REASON_LENGTH} characters.")
    return reason
