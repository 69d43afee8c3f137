#!/usr/bin/env python3
"""Run the back office, or check it, on a machine that has nothing but Python 3.11+.

    python3 dev.py serve           set up, migrate, seed demo data, serve on 127.0.0.1:8000
    python3 dev.py test [ARGS]     set up, then ruff, manage.py check, import-linter, mypy, pytest

Standard library only, because it runs before any dependency is installed. Both commands create
``.venv`` and install the dependencies listed in ``pyproject.toml`` when they are missing or the
file changed since the last install, so a second run goes straight to work. ``DATABASE_URL`` is
passed through untouched: the settings use that server when it is set and an embedded PostgreSQL
in ``.data/postgres`` when it is not.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
VENV_BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = VENV_BIN / ("python.exe" if os.name == "nt" else "python")
# What the last install covered, so that an unchanged pyproject.toml skips pip entirely.
INSTALL_STAMP = VENV / ".dev-py-install.json"
CHROMIUM = Path("/usr/bin/chromium")
PYTEST_NO_TESTS_COLLECTED = 5
EMBEDDED_PGDATA = ROOT / ".data" / "postgres"  # the settings' embedded server, DATABASE_URL unset


class StepFailed(Exception):
    """A step exited non-zero; ``main`` reports it and exits with its code."""

    def __init__(self, step: str, returncode: int, reason: str = "") -> None:
        super().__init__(step)
        self.step = step
        self.returncode = returncode
        self.reason = reason


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


def run(step: str, command: Sequence[str | Path], env: dict[str, str] | None = None) -> int:
    """Run ``command`` in the project root and return its exit code.

    However this process is asked to stop (Ctrl+C, or SIGTERM/SIGHUP from systemd, ``docker
    stop``, ``kill``, a closed terminal), the child is stopped the way Ctrl+C stops it (SIGINT to
    its process group, which holds ``runserver``'s autoreloader and the server it runs), and we
    wait for it to finish shutting down instead of abandoning it: ``runserver`` stops the
    embedded PostgreSQL on its way out. Python dies on SIGTERM without running a child's exit
    hooks, which is how a plain ``kill`` used to leave PostgreSQL running.
    """
    say(step)
    args = [str(part) for part in command]
    if os.name == "nt":  # no process groups or POSIX signals: Ctrl+C reaches the child itself
        process = subprocess.Popen(args, cwd=ROOT, env=env)  # noqa: S603
        while True:
            try:
                return process.wait()
            except KeyboardInterrupt:
                continue
    requested: list[int] = []
    started: list[subprocess.Popen[bytes]] = []

    def stop_child(signum: int, frame: object) -> None:
        requested.append(signum)
        for child in started:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGINT)

    # Installed before the child starts, so that it starts with SIGINT at its default: a child
    # inherits an *ignored* SIGINT (what a shell gives a background job, ``cmd &`` in a script),
    # and Python then never turns Ctrl+C into KeyboardInterrupt, so runserver would ignore the
    # SIGINT that stop_child sends it. A handler, unlike "ignore", is reset to default by exec.
    stopping = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    previous = {signum: signal.signal(signum, stop_child) for signum in stopping}
    try:
        # The commands are this file's own; only pytest's arguments come from the caller's
        # shell. A session of its own, so that the signals reach the child only through
        # stop_child.
        process = subprocess.Popen(args, cwd=ROOT, env=env, start_new_session=True)  # noqa: S603
        started.append(process)
        if requested:  # asked to stop while the child was starting
            stop_child(requested[0], None)
        returncode = process.wait()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if requested and returncode in (0, -signal.SIGINT, 128 + signal.SIGINT):
        # Asked to stop, and the child stopped cleanly: run no further step.
        raise SystemExit(0)
    return returncode


def check(step: str, command: Sequence[str | Path], env: dict[str, str] | None = None) -> None:
    """Run ``command`` and raise :class:`StepFailed` unless it succeeds."""
    returncode = run(step, command, env)
    if returncode != 0:
        raise StepFailed(step, returncode)


def venv_environment() -> dict[str, str]:
    """The caller's environment (``DATABASE_URL`` included) as if ``.venv`` were activated."""
    return {
        **os.environ,
        "VIRTUAL_ENV": str(VENV),
        "PATH": os.pathsep.join(filter(None, [str(VENV_BIN), os.environ.get("PATH")])),
    }


def ensure_venv() -> None:
    if PYTHON.exists():
        return
    returncode = run(
        "Creating the virtual environment in .venv", [sys.executable, "-m", "venv", VENV]
    )
    if returncode != 0:
        raise StepFailed(
            "python -m venv .venv",
            returncode,
            "on Debian or Ubuntu, install the venv module first: apt-get install python3-venv",
        )


def ensure_dependencies(extras: Sequence[str]) -> None:
    """Install the project's dependencies (and ``extras``) unless the last install covered them.

    The requirements are read from pyproject.toml and installed directly rather than with
    ``pip install -e .``: the project is not a package (``packages = []``), so building it would
    only cost a download of setuptools and leave an egg-info directory behind.
    """
    import tomllib  # Imported here so that Python < 3.11 reaches the friendly version message.

    pyproject_bytes = (ROOT / "pyproject.toml").read_bytes()
    digest = hashlib.sha256(pyproject_bytes).hexdigest()
    installed_extras = _extras_installed_for(digest)
    if installed_extras is not None and set(extras) <= installed_extras:
        say("Dependencies are up to date")
        return

    project = tomllib.loads(pyproject_bytes.decode())["project"]
    requirements = list(project.get("dependencies", []))
    for extra in extras:
        requirements += project.get("optional-dependencies", {})[extra]
    what = "dependencies" + "".join(f" + [{extra}]" for extra in extras)
    check(
        f"Installing {what} from pyproject.toml (a minute or two the first time)",
        [PYTHON, "-m", "pip", "install", "--disable-pip-version-check", "-q", *requirements],
    )
    covered = sorted(set(extras) | (installed_extras or set()))
    INSTALL_STAMP.write_text(json.dumps({"pyproject": digest, "extras": covered}))


def _extras_installed_for(digest: str) -> set[str] | None:
    """The extras the last install covered, or None if pyproject.toml changed since then."""
    try:
        stamp = json.loads(INSTALL_STAMP.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    if not isinstance(stamp, dict) or stamp.get("pyproject") != digest:
        return None
    return set(stamp.get("extras", []))


def ensure_chromium() -> None:
    """Install Debian's Chromium for the browser tests when we can; say why not when we cannot."""
    if CHROMIUM.exists():
        return
    is_root = hasattr(os, "geteuid") and os.geteuid() == 0
    if not is_root or shutil.which("apt-get") is None:
        why = "not running as root" if not is_root else "apt-get is not available"
        say(
            f"{CHROMIUM} is missing and {why}: browser tests will be skipped "
            "(install the chromium and chromium-driver packages to run them)"
        )
        return
    apt_environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for step, command in [
        ("apt-get update", ["apt-get", "update"]),
        (
            "apt-get install -y chromium chromium-driver (for the browser tests)",
            ["apt-get", "install", "-y", "chromium", "chromium-driver"],
        ),
    ]:
        if run(step, command, apt_environment) != 0:
            say(f"{step} failed: browser tests will be skipped")
            return


def has_import_linter_config() -> bool:
    import tomllib

    if (ROOT / ".importlinter").exists():
        return True
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return "importlinter" in pyproject.get("tool", {})


def describe_database() -> None:
    if os.environ.get("DATABASE_URL"):
        say("Database: the server in DATABASE_URL")
    else:
        say("Database: embedded PostgreSQL in .data/postgres (set DATABASE_URL to use another)")


def serve(port: int = 8000) -> int:
    """Bring the database up to date, seed it once, and run the development server."""
    ensure_venv()
    ensure_dependencies(extras=[])
    env = venv_environment()
    describe_database()
    for command in [
        ["drizzle_migrate"],
        ["migrate", "--noinput"],
        ["seed_demo", "--once"],
        ["collectstatic", "--noinput"],
    ]:
        check(f"manage.py {' '.join(command)}", [PYTHON, "manage.py", *command], env)
    address = f"127.0.0.1:{port}"
    say(f"Back office on http://{address}/ (admin at /admin/); Ctrl+C stops it")
    returncode = run(
        f"manage.py runserver {address}", [PYTHON, "manage.py", "runserver", address], env
    )
    if not os.environ.get("DATABASE_URL"):
        # runserver's processes stop the embedded server on their way out, unless one was killed
        # before its exit hooks ran (the autoreloader kills a child slow to exit on Ctrl+C).
        subprocess.run(  # noqa: S603 - the venv's Python and a fixed module
            [
                PYTHON,
                "-m",
                "backoffice.embedded_postgres",
                "stop-if-unused",
                ROOT / ".data" / "postgres",
            ],
            cwd=ROOT,
            env=env,
            check=False,
        )
    # Ctrl+C (or SIGTERM, passed on as Ctrl+C) is how a development server stops, not a failure.
    return 0 if returncode in (0, -2, 130) else returncode


def test(pytest_args: Sequence[str]) -> int:
    """Run what CI runs, cheapest first, and stop at the first failure."""
    ensure_venv()
    ensure_dependencies(extras=["test"])
    ensure_chromium()
    env = venv_environment()
    describe_database()
    check("ruff check .", [PYTHON, "-m", "ruff", "check", "."], env)
    check("ruff format --check .", [PYTHON, "-m", "ruff", "format", "--check", "."], env)
    check("manage.py check", [PYTHON, "manage.py", "check"], env)
    # The layer contracts are a gate, not an option: a lost config fails the run, never skips it.
    if not has_import_linter_config():
        raise StepFailed(
            "lint-imports", 1, "no .importlinter file or [tool.importlinter] in pyproject.toml"
        )
    lint_imports = VENV_BIN / ("lint-imports.exe" if os.name == "nt" else "lint-imports")
    check("lint-imports", [lint_imports], env)
    check("mypy .", [PYTHON, "-m", "mypy", "."], env)
    step = " ".join(["pytest", *pytest_args])
    returncode = run(step, [PYTHON, "-m", "pytest", *pytest_args], env)
    if returncode == PYTEST_NO_TESTS_COLLECTED:
        raise StepFailed(step, returncode, "pytest collected no tests")
    if returncode != 0:
        raise StepFailed(step, returncode)
    say("All checks passed")
    return 0


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="dev.py",
        description="Set up the project in .venv, then serve it or check it.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="{serve,test}")
    serve_parser = commands.add_parser(
        "serve",
        help="migrate, seed demo data and run the back office on http://127.0.0.1:8000/",
    )
    serve_parser.add_argument(
        "--port", type=int, default=8000, help="port on 127.0.0.1 to serve on (default 8000)"
    )
    commands.add_parser(
        "test",
        help="run ruff, manage.py check, import-linter, mypy, then pytest with any extra arguments",
        description="Run every check CI runs. Arguments after `test` are passed to pytest.",
        allow_abbrev=False,
    )
    args, extra = parser.parse_known_args(argv)
    if args.command == "serve" and extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if sys.version_info < (3, 11):  # noqa: UP036 - this file may be run by any python3
        parser.error("Python 3.11 or newer is needed (the project uses tomllib and 3.11 typing)")
    try:
        return serve(args.port) if args.command == "serve" else test(extra)
    except StepFailed as failure:
        reason = f": {failure.reason}" if failure.reason else ""
        print(
            f"dev.py: FAILED at step '{failure.step}' (exit code {failure.returncode}){reason}",
            file=sys.stderr,
        )
        return failure.returncode if failure.returncode > 0 else 1  # < 0: killed by a signal


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
