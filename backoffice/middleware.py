"""Database failures as pages that say what happened, instead of a bare server error.

``QueryTimeoutMiddleware`` turns a query cancelled by ``statement_timeout`` into advice to narrow
the filters. ``DatabaseUnavailableMiddleware`` turns a database that is down, read-only, full or
busy into the 503 page of ``backoffice.errors``, with ``DEBUG`` on or off, wherever the error
was raised: a view's error reaches ``process_exception``; an error in a middleware (the session,
the signed-in user, the staff lookup) is turned into a 500 response by Django before any outer
middleware sees it, so ``got_request_exception`` (sent for every uncaught exception, while it is
still the current one) marks the request, and the 500 is replaced on its way out.

``ErrorPagesMiddleware`` shows the back office's 404 page with ``DEBUG`` on too.

``PrimaryAfterWriteMiddleware`` keeps a person's heavy reads on the primary right after they
change something (see ``backoffice.reads``).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.signals import got_request_exception
from django.db import OperationalError
from django.dispatch import receiver
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import is_valid_path
from psycopg import errors

from backoffice import reads
from backoffice.errors import (
    database_trouble,
    database_unavailable,
    method_not_allowed,
    page_not_found,
    technical_pages_wanted,
)

TROUBLE_ATTRIBUTE = "database_trouble"


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


class MethodNotAllowedPageMiddleware:
    """A read-only page sent a form answers 405 in the back office's look, not an empty body."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        bare = not getattr(response, "streaming", False) and not response.content
        if response.status_code == 405 and bare:
            return method_not_allowed(request, response)
        return response


class DatabaseUnavailableMiddleware:
    """Early in ``MIDDLEWARE`` (outside sessions and sign-in): the database's 503 page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        trouble = getattr(request, TROUBLE_ATTRIBUTE, None)
        if trouble is not None and response.status_code == 500:
            return database_unavailable(request, trouble)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        trouble = database_trouble(exception)
        if trouble is None:
            return None
        return database_unavailable(request, trouble)


@receiver(got_request_exception, dispatch_uid="backoffice.database_trouble")
def _remember_database_trouble(
    sender: Any, request: HttpRequest | None = None, **kwargs: Any
) -> None:
    trouble = database_trouble(sys.exc_info()[1])
    if request is not None and trouble is not None:
        setattr(request, TROUBLE_ATTRIBUTE, trouble)


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


class ErrorPagesMiddleware:
    """With DEBUG on, the back office's 404 page where Django would show its technical one: for
    an address no URL matches, and for a view's ``Http404`` (another tenant's object).

    Outside ``CommonMiddleware``, so an address that only lacks its slash is still redirected.
    Without DEBUG, Django calls ``handler404`` itself and this does nothing.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code == 404
            and settings.DEBUG
            and not technical_pages_wanted()
            and not is_valid_path(request.path_info, getattr(request, "urlconf", None))
        ):
            return page_not_found(request)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, Http404) and settings.DEBUG and not technical_pages_wanted():
            return page_not_found(request, exception)
        return None
