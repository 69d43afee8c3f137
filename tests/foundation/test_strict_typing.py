"""``mypy --strict`` covers the app code; the modules exempted from it can only become fewer.

``pyproject.toml`` turns ``strict`` on and lists, in one ``[[tool.mypy.overrides]]`` block, the
app modules that keep the earlier settings. ``dev.py test``'s mypy step checks everything else
strictly. Here: the list holds nothing beyond ``RECORDED_EXEMPTIONS`` (a new module is typed
from the start), and every listed module still fails the strict checks (one that passes must
leave the list, and this record with it). The second test runs mypy once, on the whole project,
with the exemptions lifted.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
APP_PACKAGES = {"approvals", "audit", "backoffice", "monitoring", "registry", "security", "tenants"}

# Remove a module here when it leaves pyproject's list; never add one.
RECORDED_EXEMPTIONS = frozenset(
    {
        "audit.factories",
        "monitoring.factories",
        "registry.factories",
        "security.factories",
        "tenants.factories",
    }
)


def mypy_config() -> dict[str, Any]:
    with (BASE_DIR / "pyproject.toml").open("rb") as config:
        return tomllib.load(config)["tool"]


def is_exemption_block(override: dict[str, Any]) -> bool:
    """The block of app modules relaxed from strict (tests and third-party blocks are others)."""
    modules = override["module"] if isinstance(override["module"], list) else [override["module"]]
    return all(module.split(".")[0] in APP_PACKAGES for module in modules)


def exempted_modules() -> list[str]:
    blocks = [block for block in mypy_config()["mypy"]["overrides"] if is_exemption_block(block)]
    assert len(blocks) <= 1, "one exemption list in pyproject.toml, not several"
    return list(blocks[0]["module"]) if blocks else []


def test_the_exemption_list_only_shrinks():
    listed = exempted_modules()

    assert mypy_config()["mypy"]["strict"] is True
    assert not [name for name in listed if "*" in name], "exempt modules one by one, no patterns"
    added = sorted(set(listed) - RECORDED_EXEMPTIONS)
    assert not added, f"new modules must pass mypy --strict, not join the exemptions: {added}"
    left = sorted(RECORDED_EXEMPTIONS - set(listed))
    assert not left, f"no longer exempted: remove them from RECORDED_EXEMPTIONS too: {left}"


def toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if isinstance(value, str):
        return json.dumps(value)  # a TOML basic string reads JSON's escapes the same way
    raise TypeError(f"no TOML for {value!r} in the mypy settings")


def config_without_exemptions() -> str:
    """pyproject's mypy settings with the exemption block left out, as a TOML file's text."""
    tool = mypy_config()
    settings = dict(tool["mypy"])
    overrides = [block for block in settings.pop("overrides") if not is_exemption_block(block)]
    lines = ["[tool.mypy]"]
    lines += [f"{key} = {toml_value(value)}" for key, value in settings.items()]
    for block in overrides:
        lines += ["", "[[tool.mypy.overrides]]"]
        lines += [f"{key} = {toml_value(value)}" for key, value in block.items()]
    lines += ["", "[tool.django-stubs]"]
    lines += [f"{key} = {toml_value(value)}" for key, value in tool["django-stubs"].items()]
    return "\n".join(lines) + "\n"


def module_of(path: str) -> str:
    name = path.removesuffix(".py").replace("/", ".")
    return name.removesuffix(".__init__")


@pytest.fixture(scope="session")
def strict_errors_by_module(tmp_path_factory) -> dict[str, int]:
    """Errors per module of one strict mypy run over the project, exemptions lifted."""
    config = tmp_path_factory.mktemp("strict") / "pyproject.toml"
    config.write_text(config_without_exemptions())
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--config-file",
            str(config),
            # A cache of its own: these options differ from the gate's, which keeps its cache.
            "--cache-dir",
            str(BASE_DIR / ".mypy_cache" / "strict-ratchet"),
            "--no-error-summary",
            ".",
        ],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode in (0, 1), f"mypy did not run:\n{result.stdout}\n{result.stderr}"
    errors: dict[str, int] = {}
    for path in re.findall(r"^([\w/.]+\.py):\d+: error:", result.stdout, flags=re.MULTILINE):
        errors[module_of(path)] = errors.get(module_of(path), 0) + 1
    return errors


def test_every_exempted_module_still_fails_the_strict_checks(strict_errors_by_module):
    passing = sorted(set(exempted_modules()) - set(strict_errors_by_module))

    assert not passing, f"these pass mypy --strict now: remove them from the exemptions: {passing}"


def test_only_exempted_modules_fail_the_strict_checks(strict_errors_by_module):
    outside = sorted(set(strict_errors_by_module) - set(exempted_modules()))

    assert not outside, f"strict errors outside the exemption list: {outside}"
