"""Which database a heavy read goes to: the streaming replica when one is configured and fresh.

Everything reads and writes the primary (``default``) unless a page asks otherwise: the router
below sends every ORM query to it, so writes, audit rows, row locks, sign-in and sessions never
leave it. The explorers, their exports, the analytics and the heavy monitoring reads ask
``heavy_reads(request)`` for the alias to use and pass it on with ``.using()`` or
``connections[alias]``. It answers the replica only when all of these hold:

- ``DATABASE_REPLICA_URL`` configured a ``replica`` alias (without it there is no second alias);
- the request is a safe one (GET/HEAD) and the person made no change in the last
  ``replica_pin_seconds()`` (``PrimaryAfterWriteMiddleware`` sets a signed cookie on every
  other request), so a page read right after a change shows the change;
- the replica answers, and is at most ``REPLICA_MAX_LAG_SECONDS`` behind. The lag is measured on
  the replica itself at most every ``REPLICA_CHECK_SECONDS`` per process, and each page first
  sends it a ``SELECT 1``, so a stopped replica is noticed at the next page, not by its reads.

Otherwise it answers the primary with a note for the page saying why, never an error page.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, Error, connections
from django.http import HttpRequest

PRIMARY = DEFAULT_DB_ALIAS
REPLICA = "replica"
PIN_COOKIE = "backoffice_primary_reads"
PIN_SALT = "backoffice.reads.pin"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# Seconds the replica is behind. Zero when it has replayed everything it received while its WAL
# receiver streams (an idle primary commits nothing, so the last replayed commit can be old);
# otherwise the age of the last replayed commit (NULL: none replayed since it started). On a
# server that is not in recovery (a promoted replica) there is no lag to measure.
REPLICA_LAG_SQL = """
SELECT CASE
    WHEN NOT pg_is_in_recovery() THEN 0
    WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn()
         AND EXISTS (SELECT FROM pg_stat_wal_receiver WHERE status = 'streaming') THEN 0
    ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8
END
"""


class PrimaryRouter:
    """Every ORM query to the primary: the replica is only read where a selector says so."""

    def db_for_read(self, model: type, **hints: Any) -> str:
        return PRIMARY

    def db_for_write(self, model: type, **hints: Any) -> str:
        return PRIMARY

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True  # the replica holds the primary's rows: same objects

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db == PRIMARY


@dataclass(frozen=True)
class ReplicaState:
    """What the last check of the replica found: its lag in seconds, or why it was unusable."""

    checked_at: float
    lag_seconds: float | None = None
    unreachable: bool = False

    @property
    def fresh_enough(self) -> bool:
        return (
            not self.unreachable
            and self.lag_seconds is not None
            and self.lag_seconds <= settings.REPLICA_MAX_LAG_SECONDS
        )

    @property
    def note(self) -> str | None:
        """What a page read from the primary instead says, or None when the replica is fine."""
        if self.fresh_enough:
            return None
        if self.unreachable:
            why = "the replica is unreachable"
        elif self.lag_seconds is None:
            why = "the replica's lag is unknown"
        else:
            why = f"the replica is {lag_text(self.lag_seconds)} behind"
        return f"Reading from the primary: {why}."


def lag_text(seconds: float) -> str:
    return f"{seconds:.1f} s" if seconds < 10 else f"{seconds:,.0f} s"


@dataclass(frozen=True)
class HeavyReads:
    """The alias for a page's heavy reads, and its note when the replica was passed over."""

    alias: str
    note: str | None = None

    @property
    def on_replica(self) -> bool:
        return self.alias == REPLICA


_state: ReplicaState | None = None
_state_lock = threading.Lock()


def replica_configured() -> bool:
    return REPLICA in connections


def replica_pin_seconds() -> float:
    """How long after a change a person's pages read the primary.

    Long enough that the replica, lagging at most ``REPLICA_MAX_LAG_SECONDS`` as last measured up
    to ``REPLICA_CHECK_SECONDS`` ago, has replayed the change by then.
    """
    seconds: float = settings.REPLICA_MAX_LAG_SECONDS + settings.REPLICA_CHECK_SECONDS + 1
    return seconds


def heavy_reads(request: HttpRequest | None = None) -> HeavyReads:
    """Where this request's heavy reads go; see the module docstring for the rules."""
    if not replica_configured():
        return HeavyReads(PRIMARY)
    if request is not None and (request.method not in SAFE_METHODS or pinned_to_primary(request)):
        return HeavyReads(PRIMARY)
    state = replica_state()
    if state.fresh_enough and not _answers():
        state = _remember(ReplicaState(checked_at=time.monotonic(), unreachable=True))
    if not state.fresh_enough:
        return HeavyReads(PRIMARY, state.note)
    return HeavyReads(REPLICA)


def pinned_to_primary(request: HttpRequest) -> bool:
    """Whether this person made a change recently enough that the replica may not show it."""
    value = request.get_signed_cookie(
        PIN_COOKIE, default=None, salt=PIN_SALT, max_age=dt.timedelta(seconds=replica_pin_seconds())
    )
    return value is not None


def replica_state() -> ReplicaState:
    """The replica's lag, measured on it at most every ``REPLICA_CHECK_SECONDS`` per process."""
    state = _state
    now = time.monotonic()
    if state is not None and now - state.checked_at < settings.REPLICA_CHECK_SECONDS:
        return state
    try:
        with connections[REPLICA].cursor() as cursor:
            cursor.execute(REPLICA_LAG_SQL)
            (lag,) = cursor.fetchone()
    except Error:
        connections[REPLICA].close()  # reconnect at the next check, not reuse a broken one
        return _remember(ReplicaState(checked_at=now, unreachable=True))
    return _remember(ReplicaState(checked_at=now, lag_seconds=lag))


def forget_replica_state() -> None:
    """Measure the replica again at the next heavy read (tests, and after a failover)."""
    global _state
    with _state_lock:
        _state = None


def _remember(state: ReplicaState) -> ReplicaState:
    global _state
    with _state_lock:
        _state = state
    return state


def _answers() -> bool:
    """Whether the kept replica connection still answers: one ``SELECT 1`` per page, so a replica
    stopped since the last lag check is noticed before the page's reads rather than by them."""
    try:
        with connections[REPLICA].cursor() as cursor:
            cursor.execute("SELECT 1")
    except Error:
        connections[REPLICA].close()
        return False
    return True
