"""The presentation layer in templates: ``{% load present %}``.

- ``{{ moment|when }}`` ``2026-12-03 14:05 JST`` (``|when:"seconds"``, ``|when:"date"``);
- ``{% when moment %}`` the same in a ``<time>`` element whose tooltip is the UTC instant, with
  how long ago beside it (``{% when moment relative=False %}`` without);
- ``{{ moment|ago }}`` ``3 min ago``;
- ``{{ rows|length|count:"entry" }}`` ``1 entry``, ``12 entries``;
- ``{% person email url %}`` an email (breakable before its "@"), linked when ``url`` is given;
- ``{% active_zone %}`` the zone times are shown and typed in (what a label says);
- ``{% fixed_url "admin:index" %}`` ``{% url %}`` for a URL without arguments, reversed once
  per process (``presentation.fixed_url``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from backoffice import presentation

register = template.Library()


@register.filter(name="when")
def when_filter(value: dt.datetime | None, shape: str = "") -> str:
    return presentation.when(value, seconds=shape == "seconds", date_only=shape == "date")


@register.simple_tag(name="when")
def when_tag(value: dt.datetime | None, relative: bool = True, seconds: bool = False) -> str:
    return presentation.when_html(value, relative=relative, seconds=seconds)


@register.simple_tag(name="fixed_url")
def fixed_url_tag(name: str) -> str:
    return presentation.fixed_url(name)


@register.filter
def ago(value: dt.datetime | None) -> str:
    return presentation.ago(value)


@register.filter(name="count")
def count_filter(amount: Any, noun: str) -> str:
    return presentation.count(amount, noun)


@register.simple_tag
def person(email: str | None, url: str | None = None, fallback: str = "") -> SafeString | str:
    if not email:
        return fallback or presentation.MISSING
    label = presentation.breakable(email)
    if url:
        return format_html('<a href="{}">{}</a>', url, label)
    return label


@register.simple_tag
def active_zone() -> str:
    return presentation.active_zone_name()


@register.simple_tag
def person_id(people: dict[str, str], user_id: str | None, linked: bool = False) -> str:
    """A gateway user named by id, written as their email when ``people`` (id -> email, from
    ``security.selectors.user_emails``) has it, linked to their page when ``linked``; an id
    nobody could name is shown as it is, saying so."""
    if not user_id:
        return presentation.MISSING
    email = people.get(user_id)
    if email is None:
        return format_html('<span title="No user you may see has this id">{}</span>', user_id)
    if not linked:
        return presentation.breakable(email)
    # Imported here: URL resolution is only ready once the apps are loaded.
    from django.contrib.admin.utils import quote
    from django.urls import reverse

    url = reverse("admin:security_gatewayuser_change", args=[quote(user_id)])
    return format_html('<a href="{}">{}</a>', url, presentation.breakable(email))
