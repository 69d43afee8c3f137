"""Run one action from several threads at the same moment, each on its own database connection.

For the races the services guard against (row locks, claims): the tests using it commit for
real, so they are marked ``django_db(transaction=True)``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

from django.db import connections

T = TypeVar("T")


def at_once(
    action: Callable[[int], T],
    times: int,
    *,
    refusals: tuple[type[BaseException], ...] = (),
) -> tuple[list[T], list[BaseException]]:
    """Call ``action(0)`` ... ``action(times - 1)`` together; their results and refusals.

    An exception of a type in ``refusals`` is an expected answer; any other fails the test.
    """
    barrier = threading.Barrier(times)
    results: list[T] = []
    refused: list[BaseException] = []
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            barrier.wait()
            results.append(action(n))
        except refusals as exc:
            refused.append(exc)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [], errors
    return results, refused


# What a transaction waiting on another one's lock is stuck behind (PostgreSQL's own lock graph).
WAITING_BEHIND_SQL = """
SELECT count(*) FROM pg_stat_activity
WHERE pid <> pg_backend_pid() AND %s = ANY(pg_blocking_pids(pid))
"""
# How long the lock graph is polled before the test gives up: the waiters usually show within
# milliseconds; this only bounds a broken test. The poll interval is not a guess at an order.
GIVE_UP_AFTER = 30.0
POLL_EVERY = 0.005


def wait_until_blocked_behind(
    blocker_pid: int,
    waiters: int,
    *,
    or_until: Callable[[], bool] = lambda: False,
) -> bool:
    """Wait until ``waiters`` other backends wait on a lock held by ``blocker_pid``.

    This is the barrier for "the others arrive while this transaction runs": PostgreSQL's lock
    graph says they are waiting, so the overlap the test claims has really happened. Returns
    False as soon as ``or_until()`` holds instead (the others finished without waiting, which
    is what a missing lock looks like), and fails the test if neither happens. It polls on a
    connection of its own, so it can be called from inside the blocking transaction's thread.
    """
    deadline = time.monotonic() + GIVE_UP_AFTER
    watcher = connections["default"].copy()  # a connection of its own, in autocommit
    try:
        with watcher.cursor() as cursor:
            while time.monotonic() < deadline:
                cursor.execute(WAITING_BEHIND_SQL, [blocker_pid])
                if cursor.fetchone()[0] >= waiters:
                    return True
                if or_until():
                    return False
                threading.Event().wait(POLL_EVERY)
    finally:
        watcher.close()
    raise AssertionError(f"{waiters} backend(s) never waited behind pid {blocker_pid}")


def backend_pid() -> int:
    """The PostgreSQL backend of this thread's default connection."""
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])
