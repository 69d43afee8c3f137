"""Without DATABASE_REPLICA_URL there is one database: every read and write uses the primary."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from django.db import connections, router
from django.urls import reverse

from audit.models import AuditLog
from backoffice import reads
from security.factories import GatewayUserFactory
from security.models import GatewayUser

PROJECT = Path(__file__).resolve().parents[2]


def test_the_router_keeps_every_query_on_the_primary() -> None:
    for model in (AuditLog, GatewayUser):
        assert router.db_for_read(model) == "default"
        assert router.db_for_write(model) == "default"
    assert router.allow_migrate("replica", "audit") is False
    assert router.allow_migrate("default", "audit") is True


def test_no_pin_cookie_without_a_replica(support, tenant_a, settings) -> None:
    assert reads.REPLICA not in connections  # the suite runs without DATABASE_REPLICA_URL
    member = GatewayUserFactory.create(tenant=tenant_a)
    response = support.client().post(
        reverse("security:user_ban", args=[member.pk]), {"reason": "Spam", "length": "permanent"}
    )
    assert response.status_code == 302
    assert reads.PIN_COOKIE not in response.cookies


SHOW_DATABASES = """
import json, django
django.setup()
from django.conf import settings
from backoffice.reads import heavy_reads
reads = heavy_reads()  # no request: the rules that need none
print(json.dumps({
    "databases": {alias: {k: db[k] for k in ("ENGINE", "HOST", "PORT", "NAME", "TEST", "OPTIONS")}
                  for alias, db in settings.DATABASES.items()},
    "heavy_reads": [reads.alias, reads.note],
}))
"""


def show_databases(**urls: str) -> dict:
    """What the settings make of these URLs, in a fresh process (settings are read at start)."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_REPLICA_URL"}
    env |= {"DJANGO_SETTINGS_MODULE": "backoffice.settings", **urls}
    shown = subprocess.run(
        [sys.executable, "-c", SHOW_DATABASES],
        env=env,
        cwd=PROJECT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(shown.stdout)


def test_without_a_replica_url_there_is_no_second_alias() -> None:
    shown = show_databases(DATABASE_URL="postgres://app@primary.example:5432/gateway")
    assert set(shown["databases"]) == {"default"}
    assert shown["heavy_reads"] == ["default", None]


def test_a_replica_url_adds_a_replica_alias_like_the_primary() -> None:
    shown = show_databases(
        DATABASE_URL="postgres://app@primary.example:5432/gateway",
        DATABASE_REPLICA_URL="postgres://reader@127.0.0.1:1/gateway",
    )
    databases = shown["databases"]
    assert set(databases) == {"default", "replica"}
    replica = databases["replica"]
    assert replica["ENGINE"] == databases["default"]["ENGINE"] == "backoffice.database"
    assert (replica["HOST"], replica["PORT"], replica["NAME"]) == ("127.0.0.1", 1, "gateway")
    assert replica["TEST"]["MIRROR"] == "default"
    assert replica["OPTIONS"]["options"] == databases["default"]["OPTIONS"]["options"]
    assert replica["OPTIONS"]["connect_timeout"] == 2
    # Nothing listens on port 1: its pages read the primary and say why.
    unreachable = "Reading from the primary: the replica is unreachable."
    assert shown["heavy_reads"] == ["default", unreachable]
