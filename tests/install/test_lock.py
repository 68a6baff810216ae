"""One intoto-pip installation at a time per target; the lock lives outside the target."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from intoto_pip.cli.main import main
from intoto_pip.errors import InstallError
from intoto_pip.install import lock
from intoto_pip.install.target import probe_target
from tests.support.tree import snapshot
from tests.support.wheels import wheel_members, write_wheel


@pytest.fixture
def runtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "run"
    folder.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(folder))
    monkeypatch.setattr(lock, "LOCK_TIMEOUT", 0.3)
    return folder


def _wheel(folder: Path) -> Path:
    members = wheel_members("demo", "1.0", {"demo/__init__.py": b"X = 1\n"})
    folder.mkdir()
    return write_wheel(folder / "demo-1.0-py3-none-any.whl", members, "demo-1.0.dist-info/RECORD")


def test_an_install_waits_for_another_into_the_same_target(
    tmp_path: Path, runtime: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wheel, site = _wheel(tmp_path / "dist"), tmp_path / "site"
    site.mkdir()
    args = ["install", str(wheel), "--target", str(site), "--allow-unverified", "demo"]
    args += ["--python", sys.executable, "-q"]
    with lock.target_lock(probe_target(Path(sys.executable), target_dir=site)):
        assert main(args) == 1
        assert snapshot(site) == {}
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "another intoto-pip is installing" in err
    assert main(args) == 0  # released
    assert (site / "demo" / "__init__.py").is_file()
    assert [p.parent for p in runtime.rglob("*.lock")] == [runtime / "intoto-pip"]


def test_a_lock_folder_someone_else_could_enter_is_refused(runtime: Path) -> None:
    (runtime / "intoto-pip").mkdir(mode=0o777)
    (runtime / "intoto-pip").chmod(0o777)
    target = probe_target(Path(sys.executable), target_dir=runtime / "site")
    with pytest.raises(InstallError, match="not a private folder"), lock.target_lock(target):
        pass
