"""``{{ user_agent|device }}``: a user agent in a few words ("Chrome on Windows") for tables."""

from __future__ import annotations

from django import template

from security.moderation.devices import device_summary

register = template.Library()


@register.filter
def device(user_agent: str | None) -> str:
    return device_summary(user_agent)
