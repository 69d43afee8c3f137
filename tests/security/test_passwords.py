"""Better-Auth credential hashing: the back office writes and reads exactly what the gateway does.

Every scrypt call costs about a tenth of a second, so each test hashes as little as it can.
"""

from __future__ import annotations

import hashlib
import re

import pytest

from security.passwords import _derive, hash_password, verify_password

# Written by Better-Auth 1.7.25's own ``hashPassword`` (better-auth/crypto, node:crypto scrypt)
# and checked with its pure-JS @noble/hashes implementation too.
BETTER_AUTH_HASH = (
    "5a1f7becde9fe5dd010f5b975d748ed1:"
    "df59f40b97b5664fbf6491bc403b23634dfcc99af53a824cf97915191f1d195a"
    "71fdcbabe615c3eb4d1cd24008cc6462b40a3dfc9bf5881c6b7ef951cc9d258f"
)
BETTER_AUTH_PASSWORD = "correct horse battery staple"

# Better-Auth hashed the full-width "Ｐａｓｓｗｏｒｄ①ﬁ"; under NFKC that is "Password1fi".
BETTER_AUTH_FULL_WIDTH_HASH = (
    "317779da37e76e7799550b1210e2d6b0:"
    "d1bba4e317462d20797a99df97cfc34e8f6dc493acf95e928551e0550d450f6c"
    "51a698767443c8c6145d66ed3b8072bebcf63bc56311d9627a5ce26ad942547f"
)

STORED_FORMAT = re.compile(r"[0-9a-f]{32}:[0-9a-f]{128}")


def test_a_password_hashed_by_better_auth_verifies() -> None:
    assert verify_password(BETTER_AUTH_PASSWORD, BETTER_AUTH_HASH)


def test_a_wrong_password_against_better_auths_hash_is_refused() -> None:
    assert not verify_password("correct horse battery stapler", BETTER_AUTH_HASH)


def test_passwords_are_compared_after_nfkc_normalisation() -> None:
    assert verify_password("Password1fi", BETTER_AUTH_FULL_WIDTH_HASH)


def test_derive_uses_better_auths_parameters_and_the_salt_as_hex_text() -> None:
    salthex = "000102030405060708090a0b0c0d0e0f"
    # Written out longhand so that a drift in the module's parameters fails here.
    expected = hashlib.scrypt(
        b"hunter2",
        salt=b"000102030405060708090a0b0c0d0e0f",
        n=16384,
        r=16,
        p=1,
        maxmem=128 * 16384 * 16 * 2,
        dklen=64,
    )
    assert _derive("hunter2", salthex) == expected
    assert verify_password("hunter2", f"{salthex}:{expected.hex()}")


def test_hash_password_writes_better_auths_format_and_round_trips() -> None:
    stored = hash_password("s3cret-Passw0rd")
    assert STORED_FORMAT.fullmatch(stored)
    assert verify_password("s3cret-Passw0rd", stored)
    assert not verify_password("s3cret-passw0rd", stored)


def test_each_hash_gets_a_fresh_salt() -> None:
    first = hash_password("same password")
    second = hash_password("same password")
    assert first.split(":")[0] != second.split(":")[0]


VALID_SALT = BETTER_AUTH_HASH.split(":")[0]
VALID_KEY = BETTER_AUTH_HASH.split(":")[1]


@pytest.mark.parametrize(
    "stored",
    [
        pytest.param(None, id="none"),
        pytest.param("", id="empty"),
        pytest.param(":", id="only-colon"),
        pytest.param(VALID_SALT + VALID_KEY, id="no-colon"),
        pytest.param(f"{VALID_SALT}:", id="no-key"),
        pytest.param(f":{VALID_KEY}", id="no-salt"),
        pytest.param(f"{VALID_SALT}:{VALID_KEY}:", id="trailing-colon"),
        pytest.param(f"{VALID_SALT}:{VALID_KEY}\n", id="trailing-newline"),
        pytest.param(f" {VALID_SALT}:{VALID_KEY}", id="leading-space"),
        pytest.param(f"{VALID_SALT[:-2]}:{VALID_KEY}", id="short-salt"),
        pytest.param(f"{VALID_SALT}00:{VALID_KEY}", id="long-salt"),
        pytest.param(f"{VALID_SALT}:{VALID_KEY[:-2]}", id="short-key"),
        pytest.param(f"{VALID_SALT}:{VALID_KEY}00", id="long-key"),
        pytest.param(f"{VALID_SALT}:{VALID_KEY[:-1]}", id="odd-key"),
        pytest.param(f"{VALID_SALT}:{VALID_KEY[:-2]}zz", id="non-hex-key"),
        pytest.param(f"{VALID_SALT[:-2]}zz:{VALID_KEY}", id="non-hex-salt"),
        pytest.param(f"{VALID_SALT}:{VALID_KEY.upper()}", id="uppercase-key"),
        pytest.param(f"{VALID_SALT[:-1]}\x00:{VALID_KEY}", id="nul-byte"),
        pytest.param(f"{VALID_SALT[:-1]}٣:{VALID_KEY}", id="non-ascii-digit"),
        pytest.param("scrypt:" + BETTER_AUTH_HASH, id="foreign-prefix"),
        pytest.param("a" * 10_000_000, id="huge"),
        pytest.param(b"not text", id="bytes"),
        pytest.param(12345, id="number"),
    ],
)
def test_malformed_stored_hashes_are_refused_before_any_scrypt_work(
    stored: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_scrypt_expected(password: str, salthex: str) -> bytes:
        raise AssertionError("a malformed hash reached scrypt")

    monkeypatch.setattr("security.passwords._derive", no_scrypt_expected)
    assert verify_password(BETTER_AUTH_PASSWORD, stored) is False  # type: ignore[arg-type]


def test_a_password_with_a_lone_surrogate_is_refused_without_raising() -> None:
    assert verify_password("\ud800", BETTER_AUTH_HASH) is False


def test_a_password_that_is_not_text_is_refused() -> None:
    assert verify_password(None, BETTER_AUTH_HASH) is False  # type: ignore[arg-type]
