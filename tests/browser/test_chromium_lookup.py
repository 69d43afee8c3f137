"""The browser tests launch the very Chromium whose presence decided that they run.

No browser is started here: these check ``find_chromium`` with made-up paths.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser import conftest


def executable(path: Path) -> str:
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return str(path)


@pytest.fixture
def no_debian_chromium(monkeypatch, tmp_path):
    monkeypatch.setattr(conftest, "DEFAULT_CHROMIUM", str(tmp_path / "absent" / "chromium"))


def test_chromium_path_is_launched_as_given(tmp_path, no_debian_chromium):
    chosen = executable(tmp_path / "my-chromium")
    assert conftest.find_chromium({"CHROMIUM_PATH": chosen, "PATH": ""}) == (chosen, "")


def test_a_wrong_chromium_path_skips_even_with_chromium_on_path(tmp_path, no_debian_chromium):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    executable(bin_dir / "chromium")
    missing = str(tmp_path / "nowhere" / "chromium")
    found, why = conftest.find_chromium({"CHROMIUM_PATH": missing, "PATH": str(bin_dir)})
    assert found is None
    assert why == f"CHROMIUM_PATH={missing} is not an executable file"


def test_without_chromium_path_a_chromium_on_path_is_what_is_launched(tmp_path, no_debian_chromium):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    on_path = executable(bin_dir / "chromium")
    assert conftest.find_chromium({"PATH": str(bin_dir)}) == (on_path, "")


def test_nothing_found_says_where_it_looked(tmp_path, no_debian_chromium):
    found, why = conftest.find_chromium({"PATH": str(tmp_path)})
    assert found is None
    assert "nor as chromium on PATH" in why and conftest.DEFAULT_CHROMIUM in why


def test_the_session_skips_with_the_reason_printed(monkeypatch):
    """The browser fixture skips with that reason, which pytest prints in its summary (-ra)."""
    monkeypatch.setenv("CHROMIUM_PATH", "/nonexistent/chromium")
    browser = conftest._browser.__wrapped__()  # type: ignore[attr-defined]
    with pytest.raises(pytest.skip.Exception, match="CHROMIUM_PATH=/nonexistent/chromium is not"):
        next(browser)
