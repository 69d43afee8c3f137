"""Error pages in the back office's look (``handler400`` ... ``handler500``), and the 503 page.

Every page renders ``errors/base.html`` without the request's context processors: the admin's
base template asks for the signed-in user, and the database behind that may be what failed.
They show with ``DEBUG`` on too (the demo runs with it): ``ErrorPageReporter`` stands in for
Django's technical 500 and 400 pages, and ``backoffice.middleware.ErrorPagesMiddleware`` for its
technical 404; a developer who wants Django's pages sets ``TECHNICAL_ERROR_PAGES=1``. The
503 page names what is wrong with the database (unreachable, read-only, full, busy), says that
nothing was changed (every service runs in one transaction, which the failure rolled back), sends
``Retry-After`` and, for a page that was only being read, reloads itself after a few seconds.
"""

from __future__ import annotations

import enum
import sys
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template import loader
from django.utils.safestring import SafeString, mark_safe
from django.views.debug import ExceptionReporter
from psycopg import errors as pg_errors

RETRY_AFTER_SECONDS = 5
HOME_URL = "/"


@dataclass(frozen=True)
class ErrorText:
    title: str
    paragraphs: tuple[str, ...]


PAGES = {
    400: ErrorText(
        "Bad request",
        ("The back office could not understand this request. Check the address and try again.",),
    ),
    403: ErrorText(
        "You cannot open this page",
        (
            "Your role does not allow this page or action. Ask an administrator if you need it.",
            "If you were filling in a form, it may have expired: go back, reload it and try again.",
        ),
    ),
    404: ErrorText(
        "Page not found",
        ("There is nothing at this address, or it is not yours to see.",),
    ),
    405: ErrorText(
        "This page cannot do that",
        (
            "This page is for reading: it does not take forms or changes sent to it. Open it "
            "again from the menu.",
        ),
    ),
    500: ErrorText(
        "Something went wrong",
        (
            "The back office hit an unexpected error and has logged it. Changes are made in one "
            "transaction each, so nothing was half written.",
        ),
    ),
}


class DatabaseTrouble(enum.Enum):
    """What a database error says about the database, in the words of the 503 page."""

    UNREACHABLE = ErrorText(
        "The database is unavailable",
        (
            "The back office cannot reach its database right now; it may be restarting.",
            "Nothing was changed. Try again in a few seconds.",
        ),
    )
    READ_ONLY = ErrorText(
        "The database is read-only",
        (
            "The database accepts reads only right now (a failover or maintenance is under way).",
            "Your change was not saved, and nothing was half written. Try again later.",
        ),
    )
    FULL = ErrorText(
        "The database is full",
        (
            "The database server has run out of disk space, so it cannot save changes.",
            "Your change was not saved, and nothing was half written. An operator must free "
            "space first.",
        ),
    )
    BUSY = ErrorText(
        "The database is busy",
        (
            "The database could not finish this request. Nothing was changed. "
            "Try again in a few seconds.",
        ),
    )


def database_trouble(exception: BaseException | None) -> DatabaseTrouble | None:
    """The 503 a database error deserves, or None for errors that are the request's own.

    A query cancelled by ``statement_timeout`` has its own page (``QueryTimeoutMiddleware``).
    """
    if not isinstance(exception, DatabaseError):
        return None
    cause = exception.__cause__
    if isinstance(cause, pg_errors.QueryCanceled):
        return None
    if isinstance(cause, pg_errors.ReadOnlySqlTransaction):
        return DatabaseTrouble.READ_ONLY
    if isinstance(cause, pg_errors.DiskFull):
        return DatabaseTrouble.FULL
    sqlstate = getattr(cause, "sqlstate", None)
    # No SQLSTATE: the connection itself failed. 08: connection exception. 57: shutdown,
    # restart, "the database system is starting up".
    if isinstance(exception, InterfaceError) or (
        isinstance(exception, OperationalError)
        and (sqlstate is None or sqlstate[:2] in ("08", "57"))
    ):
        return DatabaseTrouble.UNREACHABLE
    # 40: deadlock, serialisation failure. 53: out of memory, too many connections. 55: lock wait.
    if sqlstate is not None and sqlstate[:2] in ("40", "53", "55"):
        return DatabaseTrouble.BUSY
    return None


def error_page(
    request: HttpRequest | None,
    status: int,
    text: ErrorText,
    *,
    retry: bool = False,
) -> HttpResponse:
    response = HttpResponse(error_page_html(request, status, text, retry=retry), status=status)
    if retry:
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def error_page_html(
    request: HttpRequest | None, status: int, text: ErrorText, *, retry: bool = False
) -> str:
    reading = request is not None and request.method in ("GET", "HEAD")
    context = {
        "status": status,
        "title": text.title,
        "paragraphs": text.paragraphs,
        "home_url": HOME_URL,
        # A page that was being read reloads itself; a form is never sent again unasked.
        "refresh_seconds": RETRY_AFTER_SECONDS if retry and reading else None,
        "retry_url": request.get_full_path() if retry and request is not None else None,
        "request_id": getattr(request, "request_id", None),
    }
    return loader.render_to_string("errors/base.html", context)


def database_unavailable(request: HttpRequest, trouble: DatabaseTrouble) -> HttpResponse:
    response = error_page(request, 503, trouble.value, retry=True)
    response["Cache-Control"] = "no-store"
    return response


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_page(request, 400, PAGES[400])


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_page(request, 403, PAGES[403])


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_page(request, 404, PAGES[404])


def server_error(request: HttpRequest) -> HttpResponse:
    # Called while the exception is being handled, so it is still the current one.
    trouble = database_trouble(sys.exc_info()[1])
    if trouble is not None:
        return database_unavailable(request, trouble)
    return error_page(request, 500, PAGES[500])


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """``CSRF_FAILURE_VIEW``: Django's reason is for developers; the page says what to do."""
    return error_page(request, 403, PAGES[403])


def method_not_allowed(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """Django's bare 405 (``require_safe`` and friends), as a page, keeping its ``Allow``."""
    page = error_page(request, 405, PAGES[405])
    page["Allow"] = response.get("Allow", "")
    return page


def technical_pages_wanted() -> bool:
    """Whether a developer asked for Django's technical error pages (only ever with DEBUG)."""
    return bool(settings.DEBUG and getattr(settings, "TECHNICAL_ERROR_PAGES", False))


class ErrorPageReporter(ExceptionReporter):
    """``DEFAULT_EXCEPTION_REPORTER``: with DEBUG on, Django renders an uncaught exception (500)
    or a suspicious request (400) with this class instead of calling ``handler500``/``400``;
    it answers with the back office's page unless ``TECHNICAL_ERROR_PAGES`` asks for Django's.
    The exception is logged by Django either way."""

    def _status(self) -> int:
        suspicious = self.exc_type is not None and issubclass(self.exc_type, SuspiciousOperation)
        return 400 if suspicious else 500

    def get_traceback_html(self) -> SafeString:
        if technical_pages_wanted():
            return super().get_traceback_html()
        status = self._status()
        return mark_safe(error_page_html(self.request, status, PAGES[status]))  # noqa: S308 - a rendered template

    def get_traceback_text(self) -> SafeString:
        if technical_pages_wanted():
            return super().get_traceback_text()
        text = PAGES[self._status()]
        request_id = getattr(self.request, "request_id", None)
        plain = "\n\n".join((text.title, *text.paragraphs))
        plain += f"\n\nrequest {request_id}\n" if request_id else "\n"
        # Served as text/plain: nothing here is HTML.
        return mark_safe(plain)  # noqa: S308
