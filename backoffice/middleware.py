"""Turn a cancelled runaway query into a friendly page; keep a person's reads on the primary
right after they change something."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.db import OperationalError
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from psycopg import errors

from backoffice import reads


class QueryTimeoutMiddleware:
    """``statement_timeout`` cancels slow queries; tell the person to narrow their filters."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, OperationalError) and isinstance(
            exception.__cause__, errors.QueryCanceled
        ):
            response = TemplateResponse(request, "backoffice/query_timeout.html", status=503)
            response["Retry-After"] = "5"
            return response.render()
        return None


class PrimaryAfterWriteMiddleware:
    """Pin a person's heavy reads to the primary for a while after any change they make.

    Every request that may change something (POST and the like) sets a short-lived signed cookie;
    ``backoffice.reads.heavy_reads`` reads the primary while it is valid, so the page after a ban
    or an export shows its audit row even when the replica has not replayed it yet. Nothing is
    set when no replica is configured.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.method not in reads.SAFE_METHODS and reads.replica_configured():
            seconds = reads.replica_pin_seconds()
            response.set_signed_cookie(
                reads.PIN_COOKIE,
                "1",
                salt=reads.PIN_SALT,
                max_age=int(seconds) + 1,
                httponly=True,
                samesite="Lax",
                secure=settings.SESSION_COOKIE_SECURE,
            )
        return response
