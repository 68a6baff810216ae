"""The target's probe and pip's settings, started before the rest of intoto-pip loads."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from intoto_pip.errors import InputError
from intoto_pip.install import early
from tests.support.index import make_venv


def test_archives_are_told_apart_from_requirements(tmp_path: Path) -> None:
    wheel = tmp_path / "demo-1.0-py3-none-any.whl"
    wheel.write_bytes(b"")
    url = "https://example.org/demo-1.0-py3-none-any.whl"
    assert early.split_requirements((str(wheel), "requests>=2", f"demo @ {url}")) == (
        [wheel],
        ["requests>=2", f"demo @ {url}"],
    )
    with pytest.raises(InputError, match="no such archive"):
        early.split_requirements((str(tmp_path / "gone-1.0.tar.gz"),))


@pytest.mark.slow
def test_pip_is_asked_only_when_it_will_run_and_both_end_with_close(tmp_path: Path) -> None:
    python = make_venv(tmp_path / "venv")
    alone = early.start(python, target_dir=None, prefix=None, needs_pip=False)
    assert alone.settings is None
    assert alone.probe.result().executable
    alone.close()
    both = early.start(python, target_dir=None, prefix=None, needs_pip=True)
    assert both.settings is not None
    processes = [both.probe._process, both.settings._process]
    both.close()  # neither answer asked for: both ended, their pipes closed
    assert all(p is None or p.returncode is not None for p in processes)


def test_a_target_and_a_prefix_are_refused_before_anything_starts(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="--target and --prefix"):
        early.start(Path(sys.executable), target_dir=tmp_path, prefix=tmp_path, needs_pip=True)
