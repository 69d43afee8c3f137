"""The per-request checks of a session, read in the signed-in user's own query.

Every request of a signed-in staff member checks two rows besides the user: the second-factor
device this session was verified with (django-otp; a reset must take effect at the next click)
and the session's licence (``StaffSession``; a session ended from elsewhere ends at its next
request). Each used to cost a round trip of its own. ``BetterAuthBackend.get_user`` now reads
both in the user's query (a LEFT JOIN each), keyed by what the session holds (the device's
persistent id, the digest of the session key), and ``SessionDeviceMiddleware`` and
``staff_sessions.check_session`` use what it read. Whatever was not read that way (another
backend, an async request, a key cycled since) is read as before, so each check still bites.

``get_user`` receives only a user id, so ``StaffAuthenticationMiddleware`` names the session
being read in a context variable for the duration of that one call.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.contrib.sessions.backends.base import SessionBase
from django.db.models import Model
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.middleware import OTPMiddleware
from django_otp.models import Device
from django_otp.plugins.otp_totp.models import TOTPDevice

from security.models import RecoveryCodeDevice, StaffSession

_READING_SESSION: ContextVar[SessionBase | None] = ContextVar("reading_session", default=None)

# The device kinds a session can be verified with, by django-otp's model label.
DEVICE_MODELS: dict[str, type[Device]] = {
    model.model_label(): model for model in (TOTPDevice, RecoveryCodeDevice)
}
# What django-otp's check needs of the device (owner, confirmed); the rest loads on access.
DEVICE_FIELDS = ("id", "user_id", "name", "confirmed")
# What ``check_session`` needs of the licence (key_digest is what it was found by).
LICENCE_FIELDS = ("id", "django_user_id", "signed_in_at", "last_active_at")


def key_digest(session_key: str) -> str:
    """What a session's licence is keyed by: the key itself is the cookie's secret."""
    return hashlib.sha256(session_key.encode()).hexdigest()


@contextlib.contextmanager
def reading_session(session: SessionBase) -> Iterator[None]:
    """Within this block, ``get_user`` reads ``session``'s device and licence with the user."""
    token = _READING_SESSION.set(session)
    try:
        yield
    finally:
        _READING_SESSION.reset(token)


@dataclass(frozen=True)
class SessionChecks:
    """What the user's query read for one session: None rows are gone (or never existed)."""

    device_id: str | None = None  # the persistent id the device was read for
    device: Device | None = None
    licence_digest: str | None = None  # the key digest the licence was read for
    licence: StaffSession | None = None


@dataclass(frozen=True)
class SessionKeys:
    """What the session being read names: its device (model and id) and its licence's digest."""

    device_model: type[Device] | None = None
    device_pk: int | None = None
    licence_digest: str | None = None

    @property
    def checks(self) -> SessionChecks:
        device_id = (
            f"{self.device_model.model_label()}/{self.device_pk}" if self.device_model else None
        )
        return SessionChecks(device_id=device_id, licence_digest=self.licence_digest)


def session_keys() -> SessionKeys:
    """The device and licence keys of the session ``reading_session`` names (none outside it)."""
    session = _READING_SESSION.get()
    if session is None:
        return SessionKeys()
    persistent_id = session.get(DEVICE_ID_SESSION_KEY)
    parsed = _parse_device_id(persistent_id) if isinstance(persistent_id, str) else None
    model, pk = parsed if parsed is not None else (None, None)
    digest = key_digest(session.session_key) if session.session_key else None
    return SessionKeys(model, pk, digest)


def checks_read(user: Model, keys: SessionChecks) -> SessionChecks:
    """The device and licence rows the user's query read for ``keys``, from its columns named
    ``session_device_<field>`` and ``session_licence_<field>``."""
    device = None
    if keys.device_id is not None:
        model, _ = _parse_device_id(keys.device_id) or (None, None)
        assert model is not None
        device = _instance(model, user, "session_device_", DEVICE_FIELDS, {})
    licence = None
    if keys.licence_digest is not None:
        licence = _instance(
            StaffSession,
            user,
            "session_licence_",
            LICENCE_FIELDS,
            {"key_digest": keys.licence_digest},
        )
    return SessionChecks(keys.device_id, device, keys.licence_digest, licence)


def _instance(
    model: type[Model], user: Model, prefix: str, names: tuple[str, ...], known: dict[str, Any]
) -> Any:
    values = {name: getattr(user, prefix + name, None) for name in names}
    if values["id"] is None:
        return None
    values.update(known)
    # A model instance as the ORM would load it with only these columns (the rest deferred).
    attnames = [f.attname for f in model._meta.concrete_fields if f.attname in values]
    return model.from_db(user._state.db, attnames, [values[name] for name in attnames])


def _parse_device_id(persistent_id: str) -> tuple[type[Device], int] | None:
    label, _, pk = OTPMiddleware._normalize_persistent_id(persistent_id).rpartition("/")
    model = DEVICE_MODELS.get(label)
    if model is None or not pk.isdigit() or int(pk) >= 2**63:  # beyond bigint: no such device
        return None
    return model, int(pk)


def device_read_for(user: Any, persistent_id: str) -> tuple[bool, Device | None]:
    """(True, device or None) if the user's query read ``persistent_id``, else (False, None)."""
    read: SessionChecks | None = getattr(user, "session_checks", None)
    parsed = _parse_device_id(persistent_id)
    if read is None or read.device_id is None or parsed is None:
        return False, None
    model, pk = parsed
    if read.device_id != model.model_label() + f"/{pk}":
        return False, None
    return True, read.device


def licence_read_for(user: Any, digest: str) -> tuple[bool, StaffSession | None]:
    """(True, licence or None) if the user's query read it for ``digest``, else (False, None)."""
    read: SessionChecks | None = getattr(user, "session_checks", None)
    if read is None or read.licence_digest != digest:
        return False, None
    return True, read.licence
