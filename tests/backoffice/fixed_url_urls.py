"""A URLconf of its own for tests/backoffice/test_presentation.py: ``search`` elsewhere."""

from django.http import HttpResponse
from django.urls import path

urlpatterns = [path("elsewhere/search/", lambda request: HttpResponse(), name="search")]
