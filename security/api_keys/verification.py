"""How the gateway checks a key it receives, as the contract implies: prefix lookup, then hash.

The back office never serves API traffic; this function exists so the contract is proven from
this side too (the same prefix, the same hash, the same rules on revoked and expired keys); the
tests and the browser journey use it to check that a key shown once really works.
"""

from __future__ import annotations

from security.api_key_secrets import hash_api_key, hashes_match, prefix_of
from security.api_keys.selectors import usable
from security.models import ApiKey

# Compared against when no row matches, so a miss costs the same hashing as a hit.
_NO_KEY_HASH = hash_api_key("mcpgw_00000000_" + "0" * 43)


def verify_api_key(plaintext: str) -> ApiKey | None:
    """The usable key whose prefix and hash match ``plaintext``, or None.

    Usable means active, not revoked and not expired now. The hash comparison runs in constant
    time. Usage counters are the gateway's to update, not this function's.
    """
    prefix = prefix_of(plaintext)
    if prefix is None:
        return None
    # Unscoped: the gateway authenticates a caller before any tenant is known; the key decides it.
    # key_prefix is unique (api_keys_key_prefix_unique), so this reads at most one row.
    key = ApiKey.unscoped.filter(usable(), key_prefix=prefix).first()
    if key is None:
        hashes_match(plaintext, _NO_KEY_HASH)
        return None
    return key if hashes_match(plaintext, key.key_hash) else None
