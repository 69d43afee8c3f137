"""API key material: making a new key, and the hash and prefix the gateway stores for it.

A key reads ``mcpgw_<id>_<secret>``: ``mcpgw_`` names the product (so a leaked key is easy to
recognise and to scan for), ``<id>`` is 8 random lowercase letters and digits, and ``<secret>`` is
``secrets.token_urlsafe(32)``: 43 URL-safe characters carrying 256 random bits.

``api_keys.key_prefix`` holds ``mcpgw_<id>``, the key's own opening characters, so a person can
match a row to the key they hold by eye. It is unique in the database; with 36**8 ids a clash is
rare but possible, and whoever inserts the row retries with a fresh key on an IntegrityError.
``api_keys.key_hash`` holds the SHA-256 of the whole key in base64url without padding, exactly as
Better-Auth's API-key plugin (``defaultKeyHasher``) hashes, so the gateway finds the row by hashing
the key it receives. The plaintext is shown once, at creation, and never stored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import string
from dataclasses import dataclass, field

PRODUCT_PREFIX = "mcpgw_"
KEY_ID_LENGTH = 8
KEY_ID_ALPHABET = string.ascii_lowercase + string.digits
SECRET_BYTES = 32

# token_urlsafe(32) is base64url of 32 bytes without padding: always 43 characters.
_SECRET_LENGTH = 43
_API_KEY = re.compile(
    rf"({re.escape(PRODUCT_PREFIX)}[a-z0-9]{{{KEY_ID_LENGTH}}})_[A-Za-z0-9_-]{{{_SECRET_LENGTH}}}"
)
_API_KEY_LENGTH = len(PRODUCT_PREFIX) + KEY_ID_LENGTH + 1 + _SECRET_LENGTH


@dataclass(frozen=True)
class NewApiKey:
    """A freshly made key: the plaintext to show once, and the prefix and hash to store."""

    # Kept out of repr so that logging or printing the object never leaks the key.
    plaintext: str = field(repr=False)
    prefix: str
    hash: str


def generate_api_key() -> NewApiKey:
    """Make a new random API key with its ``key_prefix`` and ``key_hash``."""
    key_id = "".join(secrets.choice(KEY_ID_ALPHABET) for _ in range(KEY_ID_LENGTH))
    prefix = f"{PRODUCT_PREFIX}{key_id}"
    plaintext = f"{prefix}_{secrets.token_urlsafe(SECRET_BYTES)}"
    return NewApiKey(plaintext=plaintext, prefix=prefix, hash=hash_api_key(plaintext))


def hash_api_key(plaintext: str) -> str:
    """Return ``api_keys.key_hash`` for a key: the same value Better-Auth's key hasher computes."""
    # Read as JavaScript's TextEncoder would, so odd input hashes as at the gateway, never raises.
    text = plaintext.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def prefix_of(plaintext: str) -> str | None:
    """Return the ``key_prefix`` of a well-formed key, or None for anything else."""
    if not isinstance(plaintext, str) or len(plaintext) != _API_KEY_LENGTH:
        return None
    match = _API_KEY.fullmatch(plaintext)
    return match.group(1) if match else None


def hashes_match(plaintext: str, stored_hash: str) -> bool:
    """Tell, in constant time, whether a key hashes to the stored ``key_hash``."""
    if not isinstance(plaintext, str) or not isinstance(stored_hash, str):
        return False
    expected = hash_api_key(plaintext).encode("ascii")
    return hmac.compare_digest(expected, stored_hash.encode("utf-8", "surrogatepass"))
