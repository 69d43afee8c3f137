"""Links from a moderation page to other back-office pages, only where the viewer may follow."""

from __future__ import annotations

import uuid

from django.contrib import admin
from django.contrib.admin.utils import quote
from django.db import models
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse


def admin_page_url(
    request: HttpRequest, model: type[models.Model], pk: int | str | uuid.UUID
) -> str | None:
    """The admin page of one object when it has one this person may open; otherwise None."""
    model_admin = admin.site._registry.get(model)
    if model_admin is None or not model_admin.has_view_permission(request):
        return None
    opts = model._meta
    try:
        return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[quote(pk)])
    except NoReverseMatch:
        return None
