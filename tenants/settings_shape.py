"""The documented shape of ``tenants.settings`` (jsonb), and its validation.

The gateway reads a tenant's settings; the back office edits them. A key documented here is
checked for its type; a key the gateway added on its own (not documented here) is kept as it is,
unchecked, and may be removed; a new undocumented key is refused, so a typo (``regoin``) never
lands silently. README "Tenants" documents the same table.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MAX_SETTINGS_BYTES = 16_384
_SLUG = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,189}\.[^@\s]{1,60}")


@dataclass(frozen=True)
class Setting:
    name: str
    description: str
    check: Callable[[Any], str | None]  # the problem with a value, or None


def _text(limit: int) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if not isinstance(value, str):
            return "must be text"
        if len(value) > limit:
            return f"must be at most {limit} characters"
        return None

    return check


def _slug(value: Any) -> str | None:
    if not isinstance(value, str) or not _SLUG.fullmatch(value):
        return "must be lower-case letters, digits, '-', '_' or '.', at most 64 characters"
    return None


def _email(value: Any) -> str | None:
    if not isinstance(value, str) or not _EMAIL.fullmatch(value):
        return "must be an email address"
    return None


def _features(value: Any) -> str | None:
    if not isinstance(value, list) or len(value) > 50:
        return "must be a list of at most 50 feature names"
    if any(_slug(item) for item in value):
        return "must list feature names such as 'audit-export' (lower-case, at most 64 characters)"
    return None


SETTINGS: dict[str, Setting] = {
    setting.name: setting
    for setting in (
        Setting("region", "where the tenant's data lives, e.g. eu-west-1", _slug),
        Setting("contact_email", "who the platform contacts about the tenant", _email),
        Setting("features", 'feature flags switched on, e.g. ["audit-export"]', _features),
        Setting("notes", "staff notes, at most 2,000 characters", _text(2000)),
        Setting("suspension_reason", "why it is suspended (set by Suspend)", _text(500)),
    )
}


class SettingsProblem(ValueError):
    """The settings text is not the documented shape; the message says what to fix."""


def parse_settings(text: str, current: dict[str, Any]) -> dict[str, Any]:
    """The settings ``text`` (a JSON object) checked against the documented shape.

    Keys already in ``current`` that are not documented are the gateway's: accepted as they are.
    """
    if "\x00" in text or "\\u0000" in text:
        raise SettingsProblem("Settings cannot contain NUL characters.")
    if len(text.encode()) > MAX_SETTINGS_BYTES:
        raise SettingsProblem(f"Settings must be at most {MAX_SETTINGS_BYTES:,} bytes of JSON.")
    try:
        value = json.loads(text or "{}")
    except json.JSONDecodeError as error:
        raise SettingsProblem(
            f"Settings are not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})."
        ) from error
    if not isinstance(value, dict):
        raise SettingsProblem('Settings must be a JSON object, such as {"region": "eu-west-1"}.')
    problems = []
    for key, item in value.items():
        setting = SETTINGS.get(key)
        if setting is None:
            if key not in current:
                known = ", ".join(SETTINGS)
                problems.append(f"Unknown setting {key[:40]!r}: the documented ones are {known}.")
            continue
        problem = setting.check(item)
        if problem:
            problems.append(f"{key} {problem}.")
    if problems:
        raise SettingsProblem(" ".join(problems))
    return value
