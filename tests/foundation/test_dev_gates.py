"""``dev.py test`` is the CI gate: a check whose configuration went missing fails the run.

The steps are recorded instead of run (this is about which steps ``dev.py`` insists on, not about
ruff or pytest themselves), on a copy of ``dev.py`` whose project root holds what the test gives it.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from types import ModuleType

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]


def dev_module_in(root: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[ModuleType, list[str]]:
    shutil.copy2(BASE_DIR / "dev.py", root / "dev.py")
    spec = importlib.util.spec_from_file_location("dev_under_test", root / "dev.py")
    assert spec is not None and spec.loader is not None
    dev = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(dev)
    steps: list[str] = []
    for setup in ("ensure_venv", "ensure_chromium"):
        monkeypatch.setattr(dev, setup, lambda: None)
    monkeypatch.setattr(dev, "ensure_dependencies", lambda extras: None)
    monkeypatch.setattr(dev, "venv_environment", lambda: {})

    def record(step: str, command: object, env: object = None) -> int:
        steps.append(step)
        return 0

    monkeypatch.setattr(dev, "check", record)
    monkeypatch.setattr(dev, "run", record)
    return dev, steps


def test_a_missing_import_linter_config_fails_the_run_instead_of_skipping(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    dev, steps = dev_module_in(tmp_path, monkeypatch)

    with pytest.raises(dev.StepFailed) as failure:
        dev.test([])

    assert failure.value.step == "lint-imports"
    assert "no .importlinter" in failure.value.reason
    assert "pytest" not in " ".join(steps), "the tests ran although a gate was missing"


def test_with_the_config_every_gate_runs_in_order(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    shutil.copy2(BASE_DIR / ".importlinter", tmp_path / ".importlinter")
    dev, steps = dev_module_in(tmp_path, monkeypatch)

    assert dev.test(["-q"]) == 0

    assert steps == [
        "ruff check .",
        "ruff format --check .",
        "manage.py check",
        "lint-imports",
        "mypy .",
        "pytest -q",
    ]
