"""``dev.py serve`` stopped with SIGTERM (systemd, ``docker stop``, ``kill``) stops the embedded
PostgreSQL too, as Ctrl+C does, even when it was started with SIGINT ignored (a background job).

Run on a copy of the project's files in a temporary directory, sharing this checkout's ``.venv``
(so nothing is installed), with ``DATABASE_URL`` unset: the copy's own embedded server in its own
``.data/``. The demo is seeded small beforehand so that ``serve``'s ``seed_demo --once`` skips.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from tests.own_postgres import free_port

BASE_DIR = Path(__file__).resolve().parents[2]
VENV_PYTHON = Path(sys.executable)


def project_copy(target: Path) -> Path:
    tracked = subprocess.run(
        ["git", "ls-files", "-z"],  # noqa: S607
        cwd=BASE_DIR,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, (entry.decode() for entry in tracked)):
        source = BASE_DIR / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    (target / ".venv").symlink_to(BASE_DIR / ".venv")
    return target


def wait_until(condition, what: str, seconds: float = 120) -> None:
    """Poll a condition (a server coming up or going away); fail after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.1)


def ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def serving(port: int) -> bool:
    try:
        url = f"http://127.0.0.1:{port}/healthz"
        with urllib.request.urlopen(url, timeout=5) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def alive(process: psutil.Process) -> bool:
    """Running, not merely a zombie: one that has exited but that no parent reaped yet (in a
    container whose first process does not reap orphans, that can take a while)."""
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def postmaster(project: Path) -> psutil.Process | None:
    try:
        pid = int((project / ".data" / "postgres" / "postmaster.pid").read_text().split()[0])
        return psutil.Process(pid)
    except (FileNotFoundError, ValueError, psutil.NoSuchProcess):
        return None


def serve_log(scratch: Path) -> str:
    """What ``dev.py serve`` printed, and the process tree left, for a failure's message."""
    tree = [
        f"{p.info['pid']} {p.info['status']} {' '.join(p.info['cmdline'] or [])[:120]}"
        for p in psutil.process_iter(["pid", "status", "cmdline", "cwd"])
        if str(scratch) in " ".join([*(p.info["cmdline"] or []), p.info["cwd"] or ""])
    ]
    log = (scratch / "serve.log").read_text(errors="replace")[-4000:]
    return f"\nprocesses: {tree}\nlog:\n{log}"


@pytest.fixture
def scratch() -> Iterator[Path]:
    """Not pytest's ``tmp_path``, which another test run on the machine may delete under us."""
    directory = Path(tempfile.mkdtemp(prefix="backoffice-dev-serve-"))
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


def test_sigterm_stops_runserver_and_the_embedded_postgres(scratch):
    project = project_copy(scratch / "project")
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "TEST_DATABASE_NAME"}}
    for command in (
        ["drizzle_migrate"],
        ["migrate", "--noinput"],
        ["seed_demo", "--log-rows", "0"],
    ):
        subprocess.run(
            [str(VENV_PYTHON), "manage.py", *command],
            cwd=project,
            env=env,
            check=True,
            capture_output=True,
            timeout=300,
        )
    port = free_port()
    log = (scratch / "serve.log").open("w")
    serve = subprocess.Popen(
        [sys.executable, "dev.py", "serve", "--port", str(port)],
        cwd=project,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        # Started as a shell script's background job is (``dev.py serve &``): with SIGINT
        # ignored, which a child inherits. runserver then ignored the SIGINT that dev.py sends
        # it on SIGTERM, and nothing stopped (found when this suite ran as such a job).
        preexec_fn=ignore_sigint,  # the test process starts no thread here
    )
    children: list[psutil.Process] = []
    try:
        wait_until(lambda: serving(port), "dev.py serve to answer")
        server = postmaster(project)
        assert server is not None and server.is_running()
        children = psutil.Process(serve.pid).children(recursive=True)

        serve.send_signal(signal.SIGTERM)
        try:
            returncode = serve.wait(timeout=120)
        except subprocess.TimeoutExpired:
            pytest.fail(f"dev.py serve still running 120 s after SIGTERM: {serve_log(scratch)}")
        assert returncode == 0, serve_log(scratch)
        wait_until(lambda: not alive(server), "the embedded PostgreSQL to stop", 60)
        assert not serving(port)
        assert postmaster(project) is None
        assert not [child for child in children if alive(child)]
    finally:
        if serve.poll() is None:
            serve.kill()
        log.close()
        for child in children:  # stopped as Ctrl+C would, so they stop their PostgreSQL
            if alive(child):
                child.send_signal(signal.SIGINT)
        leftover = postmaster(project)
        if leftover is not None:  # leave no server behind, even when the test fails
            leftover.terminate()
