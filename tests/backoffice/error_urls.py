"""The back office's URLs and error handlers, plus views that fail on purpose."""

from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, path

from backoffice import urls
from backoffice.urls import handler400, handler403, handler404, handler500


def crash(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug")


def suspicious(request: HttpRequest) -> HttpResponse:
    raise SuspiciousOperation("a forged header")


urlpatterns: list[URLPattern | URLResolver] = [
    path("test-crash/", crash),
    path("test-suspicious/", suspicious),
    *urls.urlpatterns,
]
__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]
