"""factory-boy factories for tenants, used by the tests and by ``manage.py seed_demo``."""

from __future__ import annotations

import datetime as dt
from typing import Any, TypeVar

import factory
from django.db import models
from factory.django import DjangoModelFactory

from tenants.models import Tenant, TenantStatus


def utc_now() -> dt.datetime:
    """An aware UTC "now": every factory timestamp starts from it, never from a naive value."""
    return dt.datetime.now(dt.UTC)


M = TypeVar("M", bound=models.Model)


class ContractModelFactory(DjangoModelFactory[M]):
    """Base of the factories for contract models: they save through ``unscoped``.

    The default manager of a tenant-owned model is empty until scoped to an actor (see
    ``backoffice.scoping``); factories have no actor, so they say so by using ``unscoped``.
    Typed code calls ``.create()``/``.build()``, which mypy knows return the model.
    """

    class Meta:
        abstract = True

    @classmethod
    def _get_manager(cls, model_class: type[models.Model]) -> Any:
        return getattr(model_class, "unscoped", model_class._default_manager)


class TenantFactory(ContractModelFactory[Tenant]):
    """An active tenant on the free plan; traits give the other statuses."""

    class Meta:
        model = Tenant

    class Params:
        trial = factory.Trait(status=TenantStatus.TRIAL, plan="trial")
        suspended = factory.Trait(
            status=TenantStatus.SUSPENDED,
            settings=factory.LazyFunction(lambda: {"suspension_reason": "Unpaid invoices"}),
        )
        archived = factory.Trait(status=TenantStatus.ARCHIVED, max_servers=0, max_api_keys=0)

    name = factory.Sequence(lambda n: f"Tenant {n}")
    slug = factory.Sequence(lambda n: f"tenant-{n}")
    status = TenantStatus.ACTIVE
    plan = "free"
    settings = factory.LazyFunction(dict)
    max_servers = 10
    max_api_keys = 25
    created_at = factory.LazyFunction(utc_now)
    updated_at = factory.SelfAttribute("created_at")
