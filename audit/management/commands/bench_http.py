"""Load benchmark: the production server (gunicorn) under 8 signed-in staff, then during an export.

Issue #11. Starts gunicorn with the repository's ``gunicorn.conf.py`` on a free loopback port,
against the CURRENT database (``--rows`` loads audit log rows first, as ``bench_audit`` does, only
with ``--yes-load-rows``), signs an auditor in through the sign-in form, and drives
``--clients`` keep-alive HTTP clients (threads, ``http.client``) for ``--duration`` seconds over a
fixed mix: the audit explorer's first page, the request explorer filtered on server errors, an
audit explorer page far back (keyset cursor), the dashboard and a user's page. It prints requests
per second, p50/p95/p99 and errors by status; then the same while one more client downloads the
whole audit log as CSV, with the export's first byte and total time. Before the server starts it
prints where an explorer page's time goes in one process (database vs the rest). Timings are
printed, never asserted. Lives in the audit app beside ``bench_audit``, whose loader, persona and
deep cursor it reuses: the explorers and the export are most of what it measures.
"""

from __future__ import annotations

import http.client
import os
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.management.commands.bench_audit import (
    BATCH_ROWS,
    BENCH_AUDITOR_EMAIL,
    BENCH_TENANT_IDS_SQL,
    DEEP_CURSOR_SQL,
    query_log,
    signed_in_bench_persona,
)
from audit.management.commands.bench_audit import Command as BenchAudit
from audit.selectors import PAGE_SIZE, PageCursor
from security.models import Account, GatewayUser
from security.passwords import hash_password

SECOND_FACTOR_URL = "/security/second-factor/"
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
USER_PAGE_ID = "bench-target-4242"  # bench_audit's rows name users bench-target-N
DEEP_PAGE = 1000


@dataclass
class Results:
    """Latencies of successful requests and the status of every failed one, over one phase."""

    seconds: list[float] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)
    elapsed: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, seconds: float, failure: str | None) -> None:
        with self.lock:
            if failure is None:
                self.seconds.append(seconds)
            else:
                self.failures[failure] += 1


def percentile(ordered: list[float], fraction: float) -> float:
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


class Visitor:
    """One keep-alive HTTP connection with its cookies; redirects are not followed."""

    def __init__(self, port: int, cookies: dict[str, str] | None = None) -> None:
        self.port = port
        self.cookies = dict(cookies or {})
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def request(
        self, method: str, path: str, form: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
            content = response.read()
        except (OSError, http.client.HTTPException):
            # The server closed a kept-alive connection: open a new one, once.
            self.connection.close()
            self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
            content = response.read()
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return response.status, content

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> Visitor:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class Command(BaseCommand):
    help = (
        "Run gunicorn on loopback and measure req/s and latency for 8 staff, then during an export."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--duration", type=float, default=60.0, help="Seconds per phase.")
        parser.add_argument("--clients", type=int, default=8)
        parser.add_argument("--workers", type=int, default=2, help="gunicorn workers.")
        parser.add_argument("--threads", type=int, help="Threads per worker (gunicorn.conf.py's).")
        parser.add_argument("--rows", type=int, default=0, help="Load audit rows up to this many.")
        parser.add_argument(
            "--yes-load-rows",
            action="store_true",
            help="Confirm that the current database is a scratch one rows may be added to.",
        )
        parser.add_argument("--skip-export", action="store_true")
        parser.add_argument("--profile-iterations", type=int, default=30)

    def handle(self, *args: Any, **options: Any) -> None:
        if getattr(settings, "PRODUCTION", False):
            raise CommandError("bench_http never runs with production settings.")
        if options["rows"]:
            if not options["yes_load_rows"]:
                raise CommandError(
                    "--rows adds rows to the current database "
                    f"({connection.settings_dict['NAME']}); confirm with --yes-load-rows."
                )
            loader = BenchAudit(stdout=self.stdout)  # type: ignore[arg-type]
            loader.load(options["rows"], 20, 30, BATCH_ROWS)
        password = self.bench_auditor()
        pages = self.pages()
        self.profile_page(pages[0][1], options["profile_iterations"])
        with self.server(options["workers"], options["threads"]) as port:
            cookies = self.sign_in(port, password)
            with Visitor(port, cookies) as visitor:
                for name, path in pages:
                    status, _ = visitor.request("GET", path)
                    if status != 200:
                        raise CommandError(f"{name} ({path}) answered {status}")
            self.stdout.write(
                f"\n{options['clients']} clients, {options['duration']:.0f} s per phase, "
                f"gunicorn {options['workers']} workers; mix: " + ", ".join(n for n, _ in pages)
            )
            results = self.drive(port, cookies, pages, options)
            self.print_results("pages", results, options["duration"])
            if not options["skip_export"]:
                export: dict[str, float] = {}
                downloading = threading.Thread(
                    target=self.download, args=(port, cookies, export), daemon=True
                )
                downloading.start()
                results = self.drive(port, cookies, pages, options, until=downloading)
                downloading.join()
                self.print_results("pages during an export", results, results.elapsed)
                self.print_export(export)

    # --- set-up ----------------------------------------------------------------------------

    def bench_auditor(self) -> str:
        """The bench's auditor, with a fresh password of this run for the real sign-in form."""
        signed_in_bench_persona("auditor", email=BENCH_AUDITOR_EMAIL)
        password = secrets.token_urlsafe(16)
        Account.unscoped.filter(user_id="bench-auditor", provider_id="credential").update(
            password=hash_password(password)
        )
        now = timezone.now()
        GatewayUser.unscoped.get_or_create(
            id=USER_PAGE_ID,
            defaults={
                "name": "Bench Target",
                "email": f"{USER_PAGE_ID}@example.invalid",
                "role": "user",
                "created_at": now,
                "updated_at": now,
            },
        )
        return password

    def pages(self) -> list[tuple[str, str]]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM audit_logs")
            rows = cursor.fetchone()[0]
            cursor.execute(BENCH_TENANT_IDS_SQL)
            tenant = cursor.fetchone()
        deep = "/audit/logs/?page=1"
        if rows > PAGE_SIZE:
            page = min(DEEP_PAGE, (rows - 1) // PAGE_SIZE + 1)
            with connection.cursor() as cursor:
                cursor.execute(DEEP_CURSOR_SQL, [(page - 1) * PAGE_SIZE - 1])
                row_id, created_at = cursor.fetchone()
            token = PageCursor(created_at=created_at, id=row_id).token
            deep = f"/audit/logs/?cursor={token}&page={page}"
        tenant_query = f"&tenant={tenant[0]}" if tenant else ""
        return [
            ("audit explorer", "/audit/logs/"),
            ("request explorer, 5xx", "/audit/requests/?status=5xx"),
            ("audit explorer, deep page", deep),
            ("audit explorer, tenant", f"/audit/logs/?period=24h{tenant_query}"),
            ("dashboard", "/"),
            # An auditor may not open the admin's user page (moderation is admin and support):
            # a user's page for an auditor is that person's trail in the audit log.
            ("a user's audit trail", f"/audit/logs/?actor={USER_PAGE_ID}"),
        ]

    def profile_page(self, path: str, iterations: int) -> None:
        """Where one explorer page's time goes, in this process: its queries and the rest."""
        client = signed_in_bench_persona("auditor", email=BENCH_AUDITOR_EMAIL)
        assert isinstance(client, Client)
        for _ in range(3):
            client.get(path)
        whole, database, queries = [], [], 0
        for _ in range(iterations):
            with query_log() as log:
                start = time.perf_counter()
                response = client.get(path)
                whole.append(time.perf_counter() - start)
            if response.status_code != 200:
                raise CommandError(f"{path} answered {response.status_code}")
            database.append(sum(entry[2] for entry in log.entries))
            queries = len(log.entries)
        rest = [w - d for w, d in zip(whole, database, strict=True)]
        self.stdout.write(
            f"explorer page in-process ({path}, {iterations} runs): median "
            f"{statistics.median(whole) * 1000:.1f} ms, of which database "
            f"{statistics.median(database) * 1000:.1f} ms in {queries} queries, the rest "
            f"(Python: middleware, form, table, template) {statistics.median(rest) * 1000:.1f} ms"
        )

    @contextmanager
    def server(self, workers: int, threads: int | None) -> Iterator[int]:
        """gunicorn with gunicorn.conf.py on a free loopback port; stopped on the way out, on
        Ctrl+C and on SIGTERM too."""
        previous = signal.signal(signal.SIGTERM, _interrupted)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        env = {
            **os.environ,
            "DATABASE_URL": database_url(connection.settings_dict),
            "DEBUG": "0",
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "WEB_CONCURRENCY": str(workers),
            "GUNICORN_LOG_LEVEL": "warning",
        }
        env.pop("GUNICORN_ACCESS_LOG", None)
        if threads:
            env["GUNICORN_THREADS"] = str(threads)
        # The server's output (one log line per request, as in production) goes to a file: a
        # terminal would slow the workers down.
        log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed in the finally below
            mode="w+", prefix="bench_http-gunicorn-", suffix=".log", delete=False
        )
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl+C reaches us; we stop gunicorn ourselves
        )
        self.stdout.write(f"gunicorn on 127.0.0.1:{port}, its log in {log.name}")
        try:
            deadline = time.monotonic() + 60
            while not self.answers(port):
                if server.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise CommandError(f"gunicorn did not start:\n{log.read()[-3000:]}")
                time.sleep(0.1)
            yield port
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
            log.close()
            signal.signal(signal.SIGTERM, previous)

    @staticmethod
    def answers(port: int) -> bool:
        try:
            with Visitor(port) as visitor:
                return visitor.request("GET", "/healthz")[0] == 200
        except OSError:
            return False

    def sign_in(self, port: int, password: str) -> dict[str, str]:
        """Sign in through the sign-in form, as a person does; the session's cookies."""
        with Visitor(port) as visitor:
            status, body = visitor.request("GET", "/admin/login/")
            token = CSRF_FIELD.search(body.decode())
            if status != 200 or token is None:
                raise CommandError(f"the sign-in page answered {status}")
            status, _ = visitor.request(
                "POST",
                "/admin/login/",
                {
                    "csrfmiddlewaretoken": token[1],
                    "username": BENCH_AUDITOR_EMAIL,
                    "password": password,
                },
            )
            if status != 302 or "sessionid" not in visitor.cookies:
                raise CommandError(f"signing in as {BENCH_AUDITOR_EMAIL} answered {status}")
            # Then the second factor, as every staff sign-in asks: the persona's app's code.
            status, body = visitor.request("GET", SECOND_FACTOR_URL)
            token = CSRF_FIELD.search(body.decode())
            if status != 200 or token is None:
                raise CommandError(f"the second-factor page answered {status}")
            status, _ = visitor.request(
                "POST",
                SECOND_FACTOR_URL,
                {"csrfmiddlewaretoken": token[1], "code": self.current_code()},
            )
        if status != 302:
            raise CommandError(f"the second factor of {BENCH_AUDITOR_EMAIL} answered {status}")
        return visitor.cookies

    @staticmethod
    def current_code() -> str:
        """The code the bench auditor's authenticator app shows now (django-otp's own TOTP)."""
        gateway_id = GatewayUser.unscoped.get(email=BENCH_AUDITOR_EMAIL).pk
        device = TOTPDevice.objects.get(
            user__staff_account__gateway_user_id=gateway_id, confirmed=True
        )
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits)
        return f"{totp.token():0{device.digits}d}"

    # --- load ------------------------------------------------------------------------------

    def drive(
        self,
        port: int,
        cookies: dict[str, str],
        pages: list[tuple[str, str]],
        options: dict[str, Any],
        until: threading.Thread | None = None,
    ) -> Results:
        """Each client requests the mix in turn (starting at its own place in it) until the
        duration is over, or, with ``until``, until that thread ends (at least one duration)."""
        results = Results()
        stop = threading.Event()

        def client(number: int) -> None:
            with Visitor(port, cookies) as visitor:
                turn = number
                while not stop.is_set():
                    path = pages[turn % len(pages)][1]
                    turn += 1
                    start = time.perf_counter()
                    try:
                        status, _ = visitor.request("GET", path)
                        failure = None if status == 200 else str(status)
                    except (OSError, http.client.HTTPException) as error:
                        failure = type(error).__name__
                    results.add(time.perf_counter() - start, failure)

        threads = [
            threading.Thread(target=client, args=(n,), daemon=True)
            for n in range(options["clients"])
        ]
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        time.sleep(options["duration"])
        if until is not None:
            until.join()
        stop.set()
        for thread in threads:
            thread.join()
        results.elapsed = time.perf_counter() - start
        return results

    def download(self, port: int, cookies: dict[str, str], export: dict[str, float]) -> None:
        """The whole audit log as CSV, read as it streams: first byte, total time, size."""
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
        try:
            start = time.perf_counter()
            conn.request("GET", "/audit/logs/export.csv", headers={"Cookie": cookie})
            response = conn.getresponse()
            first = response.read(1)
            export["first_byte"] = time.perf_counter() - start
            size, lines = len(first), first.count(b"\n")
            while chunk := response.read(1 << 20):
                size += len(chunk)
                lines += chunk.count(b"\n")
            export["seconds"] = time.perf_counter() - start
            export["status"] = response.status
            export["bytes"] = size
            export["rows"] = lines - 1  # the header
        finally:
            conn.close()

    # --- report ----------------------------------------------------------------------------

    def print_results(self, phase: str, results: Results, seconds: float) -> None:
        ordered = sorted(results.seconds)
        errors = sum(results.failures.values())
        total = len(ordered) + errors
        breakdown = ", ".join(f"{k}: {v}" for k, v in sorted(results.failures.items()))
        if not ordered:
            self.stdout.write(f"{phase}: no request succeeded; errors {errors} ({breakdown})")
            return
        self.stdout.write(
            f"{phase}: {total:,} requests in {seconds:.1f} s = {total / seconds:,.1f} req/s; "
            f"p50 {percentile(ordered, 0.50) * 1000:.1f} ms, "
            f"p95 {percentile(ordered, 0.95) * 1000:.1f} ms, "
            f"p99 {percentile(ordered, 0.99) * 1000:.1f} ms; "
            f"errors {errors}" + (f" ({breakdown})" if breakdown else "")
        )

    def print_export(self, export: dict[str, float]) -> None:
        self.stdout.write(
            f"export (CSV, status {export.get('status', 0):.0f}): first byte "
            f"{export.get('first_byte', 0) * 1000:,.0f} ms, {export.get('rows', 0):,.0f} rows, "
            f"{export.get('bytes', 0) / 1e6:,.0f} MB in {export.get('seconds', 0):,.1f} s"
        )


def _interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def database_url(settings_dict: dict[str, Any]) -> str:
    """A DATABASE_URL for the server process: the database this command is connected to."""
    user = urllib.parse.quote(settings_dict.get("USER") or "", safe="")
    password = urllib.parse.quote(settings_dict.get("PASSWORD") or "", safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    name = urllib.parse.quote(settings_dict["NAME"], safe="")
    if host.startswith("/"):
        # A Unix socket (the embedded server): django-environ's form, the socket directory
        # percent-encoded as the first path segment (see backoffice.embedded_postgres).
        return f"postgres://{auth}:{port}/{urllib.parse.quote(host, safe='')}/{name}"
    return f"postgres://{auth}{host}:{port}/{name}"
