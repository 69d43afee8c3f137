"""The embedded PostgreSQL stops when its last user exits, even if another was killed first.

pgserver stops the server from the exit hook of the last process in its handle list. A process
killed without running its exit hooks stays in that list, so the last one to leave saw someone
still there and left the server running: exactly what Django's autoreloader does on Ctrl+C or
dev.py's SIGTERM (it kills a child that takes over 0.25 s to exit, which on a busy machine it
does), and why ``dev.py serve`` sometimes left the embedded PostgreSQL behind. Reproduced here
with the order fixed: one user killed (and reaped), then the other exits normally.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
USER = """
import sys
from pathlib import Path
from backoffice.embedded_postgres import database_url
print(database_url(Path(sys.argv[1])), flush=True)
sys.stdin.read()  # until the test closes our stdin: then exit normally, exit hooks and all
"""


def user_of(pgdata: Path) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-c", USER, str(pgdata)],
        cwd=BASE_DIR,
        env={k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline().startswith("postgres://"), "the server did not start"
    return process


def postmaster(pgdata: Path) -> psutil.Process | None:
    try:
        process = psutil.Process(int((pgdata / "postmaster.pid").read_text().split()[0]))
        return None if process.status() == psutil.STATUS_ZOMBIE else process
    except (FileNotFoundError, ValueError, psutil.NoSuchProcess):
        return None


@pytest.fixture
def pgdata() -> Iterator[Path]:
    """Not pytest's ``tmp_path``, which another test run on the machine may delete under us."""
    directory = Path(tempfile.mkdtemp(prefix="backoffice-embedded-handles-"))
    yield directory / "postgres"
    server = postmaster(directory / "postgres")
    if server is not None:  # leave no server behind, even when the test fails
        server.terminate()
    shutil.rmtree(directory, ignore_errors=True)


def test_the_last_user_stops_the_server_though_another_was_killed(pgdata):
    with user_of(pgdata) as killed, user_of(pgdata) as last:  # the pipes closed on the way out
        server = postmaster(pgdata)
        assert server is not None
        killed.send_signal(signal.SIGKILL)  # no exit hooks: its handle stays in pgserver's list
        killed.wait()
        assert server.is_running(), "the server must outlive one of its two users"

        assert last.stdin is not None
        last.stdin.close()
        assert last.wait(timeout=120) == 0
    deadline = time.monotonic() + 60
    while postmaster(pgdata) is not None:
        assert time.monotonic() < deadline, "the embedded PostgreSQL was left running"
        time.sleep(0.1)


def stop_if_unused(pgdata: Path) -> subprocess.CompletedProcess[str]:
    """What ``dev.py serve`` runs after ``runserver`` has exited."""
    return subprocess.run(
        [sys.executable, "-m", "backoffice.embedded_postgres", "stop-if-unused", str(pgdata)],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def test_dev_py_stops_a_server_only_killed_processes_held(pgdata):
    with user_of(pgdata) as holder, user_of(pgdata) as killed:
        server = postmaster(pgdata)
        assert server is not None
        killed.send_signal(signal.SIGKILL)
        killed.wait()
        # A live process still holds it: left alone.
        assert "Stopped" not in stop_if_unused(pgdata).stdout
        assert server.is_running()
        # The last holder killed too: nobody's exit hook will ever stop it, so this does.
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        assert server.is_running()
        assert "Stopped the embedded PostgreSQL" in stop_if_unused(pgdata).stdout
        assert postmaster(pgdata) is None
