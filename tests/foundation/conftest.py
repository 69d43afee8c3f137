"""A scratch database per test, with the contract applied, for tests that change its shape."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from django.db import connections

BASE_DIR = Path(__file__).resolve().parents[2]


@dataclass
class ScratchDatabase:
    name: str
    conninfo: str
    url: str

    def sql(self, statement: str) -> list[tuple]:
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            cur = conn.execute(statement)
            return cur.fetchall() if cur.description else []

    def manage(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run ``manage.py`` against this database, as a newcomer would from a shell."""
        env = {**os.environ, "DATABASE_URL": self.url}
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )


def _server_params() -> dict[str, str]:
    settings = connections["default"].settings_dict
    return {
        "host": settings["HOST"] or "",
        "port": str(settings["PORT"] or ""),
        "user": settings["USER"] or "",
        "password": settings["PASSWORD"] or "",
    }


@pytest.fixture
def scratch_db() -> Iterator[ScratchDatabase]:
    params = _server_params()
    name = f"scratch_{uuid.uuid4().hex[:12]}"
    admin = psycopg.conninfo.make_conninfo(
        dbname="postgres", **{k: v for k, v in params.items() if v}
    )
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    conninfo = psycopg.conninfo.make_conninfo(dbname=name, **{k: v for k, v in params.items() if v})
    auth = quote(params["user"]) + (f":{quote(params['password'])}" if params["password"] else "")
    if params["host"].startswith("/"):
        url = f"postgres://{auth}@/{name}?host={quote(params['host'])}"
        if params["port"]:
            url += f"&port={params['port']}"
    else:
        url = f"postgres://{auth}@{params['host']}:{params['port'] or 5432}/{name}"
    db = ScratchDatabase(name=name, conninfo=conninfo, url=url)
    try:
        yield db
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def contract_db(scratch_db: ScratchDatabase) -> ScratchDatabase:
    """A scratch database with the Drizzle contract applied (and nothing of Django's)."""
    result = scratch_db.manage("drizzle_migrate")
    assert result.returncode == 0, result.stderr
    return scratch_db
