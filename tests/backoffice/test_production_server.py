"""The production server (gunicorn with gunicorn.conf.py) on a PostgreSQL the test starts itself.

Shown here, through real HTTP on loopback: no request fails after the database is back from a
restart or after the back office's connections are killed; while it is down the probes and pages
say so (503); one thread streaming an export does not stop its worker serving other staff; the
log lines (the app's JSON lines and gunicorn's access log) never hold a pasted API key.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import re
import secrets
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path

import pytest
from django_otp.oath import TOTP

from security.api_key_secrets import generate_api_key
from tests.own_postgres import OwnPostgres, free_port, remove, start_own_postgres

BASE_DIR = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).parent / "gunicorn"
PASSWORD = secrets.token_urlsafe(16)
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
ENROL_PATH = "/security/second-factor/enrol/"
VERIFY_PATH = "/security/second-factor/"
SECRET_SHOWN = re.compile(r'id="second-factor-secret">([A-Z2-7 ]+)<')
RECOVERY_CODE_SHOWN = re.compile(r"<li><code>([0-9A-Z-]{14})</code></li>")
KILL_BACKENDS_SQL = (
    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
    "WHERE datname = 'backoffice' AND pid <> pg_backend_pid()"
)


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: str


@dataclass
class Browser:
    """A signed-in person: cookies kept, redirects not followed, nothing cached."""

    port: int
    cookies: dict[str, str] = field(default_factory=dict)

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> Response:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=body, headers=headers)
            raw = connection.getresponse()
            text = raw.read().decode(errors="replace")
        finally:
            connection.close()
        for header in raw.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return Response(raw.status, {k.lower(): v for k, v in raw.getheaders()}, text)

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def post(self, path: str, form: dict[str, str]) -> Response:
        token = CSRF_FIELD.search(self.get(path).body)
        assert token is not None
        return self.request("POST", path, {"csrfmiddlewaretoken": token[1], **form})


@dataclass
class Deployment:
    database: OwnPostgres
    port: int
    log: Path
    server: subprocess.Popen
    # The break-glass superuser's unused recovery codes, once enrolled.
    recovery_codes: list[str] = field(default_factory=list)

    def browser(self) -> Browser:
        """Signed in as ``ops``: password, then the second factor.

        The first sign-in enrols, with the code an app would compute from the key shown; later
        ones each use a recovery code, so no sign-in waits for the next 30-second TOTP step.
        """
        browser = Browser(self.port)
        response = browser.post("/admin/login/", {"username": "ops", "password": PASSWORD})
        assert response.status == 302, response.body[-2000:]
        path = VERIFY_PATH if self.recovery_codes else ENROL_PATH
        page = browser.get(path).body
        token = CSRF_FIELD.search(page)
        assert token is not None
        if self.recovery_codes:
            code = self.recovery_codes.pop()
        else:
            shown = SECRET_SHOWN.search(page)
            assert shown is not None, page[-2000:]
            code = f"{TOTP(base64.b32decode(shown[1].replace(' ', ''))).token():06d}"
        form = {"csrfmiddlewaretoken": token[1], "code": code, "next": "/admin/"}
        response = browser.request("POST", path, form)
        assert response.status in (200, 302), response.body[-2000:]
        if path == ENROL_PATH:
            self.recovery_codes = RECOVERY_CODE_SHOWN.findall(response.body)
            assert len(self.recovery_codes) == 10, response.body[-2000:]
        assert browser.get("/admin/").status == 200
        return browser


def manage(env: dict[str, str], *args: str) -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]


def wait_until(condition, what: str, seconds: float = 60) -> None:
    """Poll a condition (a server coming up), never to order events; fail after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.05)


def answers(port: int, path: str, status: int) -> bool:
    try:
        return Browser(port).get(path).status == status
    except OSError:
        return False


@pytest.fixture(scope="module")
def deployment() -> Iterator[Deployment]:
    database = start_own_postgres()
    log = database.directory / "gunicorn.log"
    server = None
    try:
        with database.connect() as admin:
            admin.execute("CREATE DATABASE backoffice")
        port = free_port()
        env = {
            **{k: v for k, v in os.environ.items() if k not in {"DEBUG", "TEST_DATABASE_NAME"}},
            "DATABASE_URL": database.url("backoffice"),
            "DEBUG": "0",
            "LOG_FORMAT": "json",
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "WEB_CONCURRENCY": "1",
            "GUNICORN_THREADS": "4",
            "GUNICORN_ACCESS_LOG": "-",
            "DJANGO_SUPERUSER_PASSWORD": PASSWORD,
        }
        manage(env, "drizzle_migrate")
        manage(env, "migrate", "--noinput")
        manage(env, "createsuperuser", "--noinput", "--username", "ops", "--email", "ops@ex.com")
        with log.open("w") as output:
            server = subprocess.Popen(
                [str(GUNICORN), "-c", "gunicorn.conf.py"],
                cwd=BASE_DIR,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        wait_until(lambda: answers(port, "/readyz", 200), "gunicorn to serve")
        yield Deployment(database, port, log, server)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=150)
        remove(database)


def test_no_request_fails_after_backends_are_killed_or_the_database_restarts(deployment):
    browser = deployment.browser()
    pages = ["/admin/", "/audit/logs/", "/readyz"]
    for path in pages * 3:  # every thread of the worker now holds a connection
        assert browser.get(path).status == 200, path

    with deployment.database.connect() as admin:
        assert admin.execute(KILL_BACKENDS_SQL).fetchone()[0] >= 1
    assert [browser.get(path).status for path in pages * 4] == [200] * 12

    deployment.database.stop()
    assert browser.get("/healthz").status == 200
    ready = browser.get("/readyz")
    assert ready.status == 503
    assert json.loads(ready.body)["problems"] == {"database": "unreachable"}
    down = browser.get("/admin/")
    assert down.status == 503 and down.headers["retry-after"] == "5"
    assert "The database is unavailable" in down.body and "Back to the dashboard" in down.body

    deployment.database.start()  # pg_ctl -w: returns once the server accepts connections
    statuses = [browser.get(path).status for path in pages * 4]
    assert statuses == [200] * 12


def test_a_streaming_export_does_not_stop_the_worker_serving_others(deployment):
    """One worker; its export is held in the database (a lock) while others are served."""
    browser, other = deployment.browser(), deployment.browser()
    export: list[Response] = []
    with deployment.database.connect("backoffice") as holder:
        holder.execute("BEGIN")
        # The export writes its audit row, then waits here to plan and COPY its rows.
        holder.execute("LOCK TABLE request_logs IN ACCESS EXCLUSIVE MODE")
        downloading = threading.Thread(
            target=lambda: export.append(browser.get("/audit/requests/export.csv"))
        )
        downloading.start()
        with deployment.database.connect() as watcher:
            wait_until(
                lambda: (
                    watcher.execute(
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                        "AND query LIKE '%request_logs%'"
                    ).fetchone()[0]
                    == 1
                ),
                "the export to wait on the lock",
            )
        assert [other.get(path).status for path in ["/admin/", "/readyz", "/admin/"]] == [200] * 3
        holder.execute("ROLLBACK")
    downloading.join(timeout=60)
    (response,) = export
    assert response.status == 200 and response.body.startswith("id,created_at,")


def test_no_log_line_holds_a_pasted_api_key(deployment):
    browser = deployment.browser()
    key = generate_api_key()
    found = browser.post("/admin/security/apikey/", {"q": key.plaintext})
    assert found.status == 303 and key.plaintext not in found.headers["location"]
    assert browser.get(found.headers["location"]).status == 200
    browser.get(f"/admin/security/apikey/?q={key.plaintext}")  # an old link, typed by hand
    browser.get(f"/no-such-page/?token={key.plaintext}")

    written = deployment.log.read_text()
    assert key.plaintext not in written and key.plaintext.split("_", 2)[2] not in written
    records = [json.loads(line) for line in written.splitlines() if line.startswith("{")]
    requests = [r for r in records if r["logger"] == "backoffice.request"]
    assert any(r["staff"] == "ops (local superuser)" and r["status"] == 303 for r in requests)
    assert all(re.fullmatch(r"[0-9a-f-]{36}", r["request_id"]) for r in requests)
    # gunicorn's access log is on in this deployment, with paths and no query strings.
    assert re.search(r'"GET /admin/security/apikey/ HTTP/1.1" 302', written)
