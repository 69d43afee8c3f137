"""API key material: the gateway finds a key by its hash, and people recognise it by its prefix."""

from __future__ import annotations

import dataclasses
import re
import string

import pytest

from security.api_key_secrets import (
    generate_api_key,
    hash_api_key,
    hashes_match,
    prefix_of,
)

# Computed by Better-Auth's own ``defaultKeyHasher`` (@better-auth/api-key 1.7.5).
BETTER_AUTH_KEY_HASHES = [
    ("abc", "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0"),
    ("", "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU"),
    (
        "mcpgw_k3x9q2ab_7Qm2xYpL0cVfT9bN4hJs8WuE1rKdG6aZ-_o5iMvXn3y",
        "IknYRrG2iSplKi1apq3k35vClwzBmiFWwcv39jLrYnw",
    ),
    # JavaScript reads a surrogate pair as one character and a lone surrogate as U+FFFD.
    ("\ud83d\ude00", "8EQ6NCxe9UeDoRG1G6Vsk45HTDIyTZDDpgycjjo34tk"),
    ("a\ud800b", "BQh4Ezku_Bb-j_RIkgxjKOU6-GXfOUGUNmWdn_2pD3s"),
]
SAMPLE_KEY, SAMPLE_HASH = BETTER_AUTH_KEY_HASHES[2]

KEY_FORMAT = re.compile(r"mcpgw_([a-z0-9]{8})_([A-Za-z0-9_-]+)")
URL_SAFE_ALPHABET = set(string.ascii_letters + string.digits + "-_")


@pytest.mark.parametrize(("plaintext", "expected"), BETTER_AUTH_KEY_HASHES)
def test_hash_matches_better_auths_key_hasher(plaintext: str, expected: str) -> None:
    assert hash_api_key(plaintext) == expected


def test_the_emoji_hashes_like_its_surrogate_pair() -> None:
    assert hash_api_key("😀") == hash_api_key("\ud83d\ude00")


def test_a_new_key_has_the_product_prefix_and_its_stored_parts() -> None:
    key = generate_api_key()
    match = KEY_FORMAT.fullmatch(key.plaintext)
    assert match is not None
    assert key.prefix == f"mcpgw_{match.group(1)}"
    assert key.plaintext.startswith(key.prefix + "_")
    assert prefix_of(key.plaintext) == key.prefix
    assert key.hash == hash_api_key(key.plaintext)
    assert hashes_match(key.plaintext, key.hash)


def test_a_new_keys_secret_carries_at_least_256_bits() -> None:
    key = generate_api_key()
    secret = key.plaintext.removeprefix(key.prefix + "_")
    assert set(secret) <= URL_SAFE_ALPHABET
    assert len(secret) * 6 >= 256


def test_a_thousand_new_keys_are_all_different() -> None:
    keys = [generate_api_key() for _ in range(1000)]
    assert len({key.plaintext for key in keys}) == 1000
    assert len({key.hash for key in keys}) == 1000
    assert len({key.prefix for key in keys}) == 1000
    assert all(prefix_of(key.plaintext) == key.prefix for key in keys)


def test_the_plaintext_never_shows_in_repr_or_str() -> None:
    key = generate_api_key()
    secret = key.plaintext.removeprefix(key.prefix + "_")
    for shown in (repr(key), str(key), f"{key}", f"{key!r}"):
        assert secret not in shown
        assert key.prefix in shown


def test_a_new_key_cannot_be_altered() -> None:
    key = generate_api_key()
    with pytest.raises(dataclasses.FrozenInstanceError):
        key.plaintext = "mcpgw_changed0_x"  # type: ignore[misc]


def test_prefix_of_reads_a_known_key() -> None:
    assert prefix_of(SAMPLE_KEY) == "mcpgw_k3x9q2ab"


SAMPLE_SECRET = SAMPLE_KEY.removeprefix("mcpgw_k3x9q2ab_")


@pytest.mark.parametrize(
    "plaintext",
    [
        pytest.param(None, id="none"),
        pytest.param("", id="empty"),
        pytest.param("mcpgw_", id="product-prefix-only"),
        pytest.param("mcpgw_k3x9q2ab", id="no-secret"),
        pytest.param("mcpgw_k3x9q2ab_", id="empty-secret"),
        pytest.param(f"sk_k3x9q2ab_{SAMPLE_SECRET}", id="other-product"),
        pytest.param(f"MCPGW_k3x9q2ab_{SAMPLE_SECRET}", id="uppercase-product"),
        pytest.param(f"mcpgw_K3X9Q2AB_{SAMPLE_SECRET}", id="uppercase-id"),
        pytest.param(f"mcpgw_k3x9q2a_{SAMPLE_SECRET}", id="short-id"),
        pytest.param(f"mcpgw_k3x9q2abc_{SAMPLE_SECRET}", id="long-id"),
        pytest.param(f"mcpgw_k3x9q2ab-{SAMPLE_SECRET}", id="wrong-separator"),
        pytest.param(f"mcpgw_k3x9q2ab_{SAMPLE_SECRET[:-1]}", id="short-secret"),
        pytest.param(f"mcpgw_k3x9q2ab_{SAMPLE_SECRET}A", id="long-secret"),
        pytest.param(f"mcpgw_k3x9q2ab_{SAMPLE_SECRET[:-1]}=", id="padding"),
        pytest.param(f"mcpgw_k3x9q2ab_{SAMPLE_SECRET[:-1]}+", id="non-url-safe"),
        pytest.param(f"mcpgw_k3x9q2ab_{SAMPLE_SECRET[:-1]}\x00", id="nul-byte"),
        pytest.param(f"mcpgw_k3x9q2ab_{SAMPLE_SECRET[:-1]}é", id="non-ascii"),
        pytest.param(f"mcpgw_k3x9q2ab_{SAMPLE_SECRET[:-1]}\ud800", id="lone-surrogate"),
        pytest.param(f"mcpgw_k3x9q2ab_{SAMPLE_SECRET[:-1]}\n", id="trailing-newline"),
        pytest.param(f" mcpgw_k3x9q2ab_{SAMPLE_SECRET[:-1]}", id="leading-space"),
        pytest.param(f"mcpgw_k3x9q2ab_{SAMPLE_SECRET}" * 200_000, id="huge"),
        pytest.param(SAMPLE_KEY.encode(), id="bytes"),
    ],
)
def test_prefix_of_refuses_malformed_keys_without_raising(plaintext: object) -> None:
    assert prefix_of(plaintext) is None  # type: ignore[arg-type]


def test_hashes_match_accepts_the_right_key() -> None:
    assert hashes_match(SAMPLE_KEY, SAMPLE_HASH) is True


@pytest.mark.parametrize(
    ("plaintext", "stored_hash"),
    [
        pytest.param(SAMPLE_KEY[:-1] + "x", SAMPLE_HASH, id="other-key"),
        pytest.param(SAMPLE_KEY, SAMPLE_HASH + "=", id="padded-hash"),
        pytest.param(SAMPLE_KEY, SAMPLE_HASH[:-1], id="truncated-hash"),
        pytest.param(SAMPLE_KEY, "", id="empty-hash"),
        pytest.param(SAMPLE_KEY, "é" * 43, id="non-ascii-hash"),
        pytest.param(SAMPLE_KEY, "\ud800" * 43, id="lone-surrogate-hash"),
        pytest.param(SAMPLE_KEY, None, id="no-hash"),
        pytest.param("\ud800", SAMPLE_HASH, id="lone-surrogate-key"),
        pytest.param(None, SAMPLE_HASH, id="no-key"),
        pytest.param(SAMPLE_KEY.encode(), SAMPLE_HASH, id="bytes-key"),
    ],
)
def test_hashes_match_refuses_everything_else_without_raising(
    plaintext: object, stored_hash: object
) -> None:
    assert hashes_match(plaintext, stored_hash) is False  # type: ignore[arg-type]
