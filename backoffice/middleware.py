"""Turn a cancelled runaway query into a friendly page instead of a server error."""

from __future__ import annotations

from collections.abc import Callable

from django.db import OperationalError
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from psycopg import errors


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
