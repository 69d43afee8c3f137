"""Probes for a load balancer or an orchestrator: ``/healthz`` (alive) and ``/readyz`` (can serve).

``HealthProbeMiddleware`` sits first in ``MIDDLEWARE`` and answers both paths itself, before the
HTTPS redirect, the host check, sessions and sign-in: a probe arrives over plain HTTP with the
balancer's own Host header, and must cost neither a session read nor a log line every second.

``/healthz`` never touches the database: a process that answers it is alive, and restarting it
would not bring a database back. ``/readyz`` asks the database on every call (``SELECT 1``), but
the contract check behind it (pending Drizzle migrations, schema drift: a dozen catalog queries)
runs at most once per ``SCHEMA_CHECK_SECONDS`` per process. Both answer with fixed words only:
no exception text (it can name hosts and users), no setting.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import DatabaseError, connections
from django.http import HttpRequest, HttpResponse

from backoffice.contract.report import contract_report

HEALTH_PATH = "/healthz"
READY_PATH = "/readyz"
SCHEMA_CHECK_SECONDS = 30.0


@dataclass(frozen=True)
class ContractStatus:
    """What the live database lacks of the contract: the part of readiness worth caching."""

    pending_migrations: int
    unknown_migrations: bool
    drift_errors: int

    @property
    def problems(self) -> dict[str, str]:
        problems = {}
        if self.unknown_migrations:
            problems["migrations"] = "the database records migrations this release does not know"
        elif self.pending_migrations:
            problems["migrations"] = f"{self.pending_migrations} Drizzle migration(s) not applied"
        if self.drift_errors:
            problems["schema"] = f"{self.drift_errors} difference(s) from the models"
        return problems


def contract_status(using: str = "default") -> ContractStatus:
    """Readiness from the one contract report (the Contract page and ``schema_drift`` read it too).

    Pending migrations and drift errors, counted; warnings (a json column where jsonb is
    expected) do not keep the back office from serving, nor does a database ahead of this
    release (the gateway shipped a migration first).
    """
    report = contract_report(using)
    errors = sum(1 for drift in report.drift if drift.severity == "error")
    return ContractStatus(
        pending_migrations=len(report.migrations.pending),
        unknown_migrations=bool(report.migrations.unknown),
        drift_errors=errors,
    )


class _ContractStatusCache:
    """``contract_status`` remembered for a short while, per process, shared by its threads."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._lock = threading.Lock()
        self._value: ContractStatus | None = None
        self._checked_at = 0.0

    def get(self, using: str = "default") -> ContractStatus:
        with self._lock:
            if self._value is None or time.monotonic() - self._checked_at >= self.seconds:
                self._value = contract_status(using)
                self._checked_at = time.monotonic()
            return self._value

    def forget(self) -> None:
        with self._lock:
            self._value = None


contract_status_cache = _ContractStatusCache(SCHEMA_CHECK_SECONDS)


def readiness(using: str = "default") -> dict[str, str]:
    """Why this process cannot serve now, by check; empty when it can."""
    try:
        with connections[using].cursor() as cursor:
            cursor.execute("SELECT 1")
        return contract_status_cache.get(using).problems
    except DatabaseError:
        # The next probe asks again: a database that comes back may come back migrated.
        contract_status_cache.forget()
        return {"database": "unreachable"}


def _json(status: int, body: dict[str, object]) -> HttpResponse:
    response = HttpResponse(json.dumps(body), status=status, content_type="application/json")
    response["Cache-Control"] = "no-store"
    return response


def health_response() -> HttpResponse:
    return _json(200, {"status": "alive"})


def ready_response() -> HttpResponse:
    problems = readiness()
    if problems:
        response = _json(503, {"status": "unavailable", "problems": problems})
        response["Retry-After"] = "5"
        return response
    return _json(200, {"status": "ready"})


class HealthProbeMiddleware:
    """First in ``MIDDLEWARE``: answers probes before anything that needs a host or a session."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method in ("GET", "HEAD"):
            if request.path == HEALTH_PATH:
                return health_response()
            if request.path == READY_PATH:
                return ready_response()
        return self.get_response(request)
