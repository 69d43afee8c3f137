"""One log line per request: who (the staff member), what (method and path), how it ended.

Second in ``MIDDLEWARE``, so it sees the response every other middleware settled on (a 503
page included). It hands each request the id that the staff audit trail writes into
``audit_logs.request_id`` (``security.middleware.StaffMiddleware`` keeps it), so a log line and the
audit rows of one request are found by one search; the response carries it as ``X-Request-ID``.
The line holds the path, never the query string: people paste things into search boxes.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from backoffice.log_format import redact

logger = logging.getLogger("backoffice.request")


class RequestLogMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = uuid.uuid4()
        request.request_id = request_id  # type: ignore[attr-defined]
        started = time.monotonic()
        response = self.get_response(request)
        # For a streamed export: the time to its first byte, not to its last.
        duration_ms = round((time.monotonic() - started) * 1000, 1)
        actor = getattr(request, "actor", None)
        staff = actor.display_name if actor is not None else "-"
        path = redact(request.path)
        status = response.status_code
        level = logging.ERROR if status >= 500 else logging.INFO
        logger.log(
            level,
            "%s %s %s %sms request=%s staff=%s",
            request.method,
            path,
            status,
            duration_ms,
            request_id,
            staff,
            extra={
                "request_id": str(request_id),
                "staff": staff,
                "method": request.method,
                "path": path,
                "status": status,
                "duration_ms": duration_ms,
            },
        )
        response["X-Request-ID"] = str(request_id)
        return response
