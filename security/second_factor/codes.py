"""Recovery codes: how they are made and how they are compared, without keeping them."""

from __future__ import annotations

import hashlib
import secrets

# Crockford's base 32: no I, L, O or U, so a code read aloud or copied by hand stays right.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 12  # 60 random bits
CODES_PER_SET = 10


def new_recovery_codes(count: int = CODES_PER_SET) -> list[str]:
    """Fresh codes as shown to the person once: ``XXXX-XXXX-XXXX``."""
    codes = []
    for _ in range(count):
        raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
        codes.append("-".join(raw[i : i + 4] for i in range(0, CODE_LENGTH, 4)))
    return codes


def recovery_code_digest(typed: str) -> str | None:
    """The stored digest of a code as typed (any case, spaces and dashes ignored), or None when
    it cannot be a recovery code at all."""
    normalized = "".join(ch for ch in typed.upper() if ch not in " -\t")
    if len(normalized) != CODE_LENGTH or any(ch not in ALPHABET for ch in normalized):
        return None
    return hashlib.sha256(normalized.encode()).hexdigest()
