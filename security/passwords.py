"""Better-Auth's credential hashing, so a password set here works at the gateway's sign-in.

Better-Auth stores ``<salt>:<key>`` in ``account.password`` (provider_id 'credential'): the salt is
16 random bytes written as 32 lowercase hex characters, and that hex *text* (not the bytes it
spells) is the scrypt salt; the key is scrypt(NFKC(password), N=16384, r=16, p=1) in 64 bytes,
written as 128 lowercase hex characters. Mirrors better-auth ``src/crypto/password.ts`` (now
``@better-auth/utils/password``).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata

SCRYPT_N = 16384
SCRYPT_R = 16
SCRYPT_P = 1
KEY_BYTES = 64
SALT_BYTES = 16

# Better-Auth allows scrypt 128 * N * r * 2 bytes (64 MiB); OpenSSL needs about 128 * r * (N + 2),
# just above Python's 32 MiB default, so the default would refuse these parameters.
_SCRYPT_MAXMEM = 128 * SCRYPT_N * SCRYPT_R * 2

# Lowercase only: Better-Auth writes lowercase hex and compares the key as hex text.
_STORED_PASSWORD = re.compile(r"([0-9a-f]{32}):([0-9a-f]{128})")
_STORED_PASSWORD_LENGTH = 2 * SALT_BYTES + 1 + 2 * KEY_BYTES


def hash_password(password: str) -> str:
    """Return the ``account.password`` value Better-Auth would write for this password."""
    salthex = secrets.token_hex(SALT_BYTES)
    return f"{salthex}:{_derive(password, salthex).hex()}"


def verify_password(password: str, stored: str | None) -> bool:
    """Tell whether the password matches a stored Better-Auth hash.

    Anything that is not a well-formed hash (missing, truncated, tampered with) is a plain
    "no", never an exception, and is rejected before any scrypt work is spent on it.
    """
    if not isinstance(password, str) or not isinstance(stored, str):
        return False
    if len(stored) != _STORED_PASSWORD_LENGTH:
        return False
    match = _STORED_PASSWORD.fullmatch(stored)
    if match is None:
        return False
    salthex, keyhex = match.groups()
    return hmac.compare_digest(_derive(password, salthex), bytes.fromhex(keyhex))


def _derive(password: str, salthex: str) -> bytes:
    """Derive the 64-byte scrypt key exactly as Better-Auth's ``generateKey`` does."""
    normalised = unicodedata.normalize("NFKC", _as_javascript_string(password))
    return hashlib.scrypt(
        normalised.encode("utf-8"),
        salt=salthex.encode("utf-8"),
        n=SCRYPT_N,
        r=SCRYPT_R,
        p=SCRYPT_P,
        maxmem=_SCRYPT_MAXMEM,
        dklen=KEY_BYTES,
    )


def _as_javascript_string(text: str) -> str:
    """Read text as JavaScript would: surrogate pairs join, lone surrogates become U+FFFD.

    Python strings may hold lone surrogates that UTF-8 refuses to encode; Node's TextEncoder
    replaces them instead, so doing the same keeps hashes equal and never raises.
    """
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
