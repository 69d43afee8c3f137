"""Run one action from several threads at the same moment, each on its own database connection.

For the races the services guard against (row locks, claims): the tests using it commit for
real, so they are marked ``django_db(transaction=True)``.
"""

from __future__ import annotations

import threading
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
