"""Sample objects (in tenant A) and URL arguments for the permission matrix.

Every model registered in the admin needs a sample here, and every back-office URL that takes
arguments needs its kwargs: the matrix test refuses pages it cannot visit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import models

from tenants.models import Tenant


def _tenant(tenant: Tenant) -> Tenant:
    return tenant


SAMPLE_OBJECTS: dict[type[models.Model], Callable[[Tenant], models.Model]] = {
    Tenant: _tenant,
}


def kwargs_for(model: type[models.Model], **names: str) -> Callable[[dict], dict[str, Any]]:
    """URL kwargs taken from the sample object of ``model`` (``name=attribute``)."""

    def build(objects: dict) -> dict[str, Any]:
        return {name: getattr(objects[model], attr) for name, attr in names.items()}

    build.model = model  # type: ignore[attr-defined]
    return build


SAMPLE_URL_KWARGS: dict[str, Callable[[dict], dict[str, Any]]] = {}
