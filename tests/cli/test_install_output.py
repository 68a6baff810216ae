"""What ``intoto-pip install`` says: nothing claims an install that did not happen, one summary
line names every unverified project and the one flag for them all, and pip's words for what
is already there or replaced (issue: a real user's first hour)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from intoto_pip.cli.main import main
from tests.support.index import make_venv
from tests.support.wheels import wheel_members, write_wheel


def _plain(folder: Path, name: str, version: str = "1.0") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    members = wheel_members(name, version, {f"{name}/__init__.py": b"X = 1\n"})
    return write_wheel(
        folder / f"{name}-{version}-py3-none-any.whl", members, f"{name}-{version}.dist-info/RECORD"
    )


def _install(target: Path, *args: str) -> list[str]:
    return ["install", *args, "--python", sys.executable, "--target", str(target)]


def test_no_warning_claims_an_install_when_another_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wheels = [_plain(tmp_path / "w", name) for name in ("alpha", "beta", "gamma")]
    code = main(_install(tmp_path / "t", *map(str, wheels), "--allow-unverified", "alpha"))
    err = capsys.readouterr().err
    assert code == 1
    assert "WITHOUT verification" not in err
    assert (
        "no in-toto evidence for beta, gamma; to install without verification: "
        "--allow-unverified beta,gamma" in err
    )
    assert err.rstrip().endswith("nothing was installed")
    assert not (tmp_path / "t").exists() or not any((tmp_path / "t").iterdir())


def test_allow_unverified_takes_a_comma_list(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wheels = [_plain(tmp_path / "w", name) for name in ("alpha", "beta")]
    code = main(_install(tmp_path / "t", *map(str, wheels), "--allow-unverified", "alpha,Beta"))
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "Successfully installed alpha-1.0 beta-1.0" in captured.out
    assert captured.err.count("installed WITHOUT verification") == 2


@pytest.mark.slow
def test_already_satisfied_and_replaced_are_said_as_pip_says_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    python = make_venv(tmp_path / "venv")
    old = _plain(tmp_path / "w1", "alpha", "1.0")
    new = _plain(tmp_path / "w2", "alpha", "2.0")
    install = ["install", "--python", str(python), "--allow-unverified", ":all:"]
    assert main([*install, str(old)]) == 0
    capsys.readouterr()
    assert main([*install, str(new), "--upgrade"]) == 0
    assert "Replaced alpha 1.0 with 2.0" in capsys.readouterr().out
    links = ["--no-index", "--find-links", str(tmp_path / "w2")]
    assert main([*install, "alpha", *links]) == 0
    assert "Requirement already satisfied: alpha (2.0)" in capsys.readouterr().out


def test_each_phase_is_said_with_v_when_piped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Long silences look like hangs: -v says each phase, one line each (piped here)."""
    wheels = [_plain(tmp_path / "w", name) for name in ("alpha", "beta")]
    code = main(_install(tmp_path / "t", *map(str, wheels), "--allow-unverified", ":all:", "-v"))
    err = capsys.readouterr().err
    assert code == 0, err
    phases = [line.split(" (")[0] for line in err.splitlines() if line.endswith(" s)")]
    assert phases == [
        "intoto-pip: verifying 2 archives",
        "intoto-pip: installing 2 distributions",
    ]


def test_no_phase_lines_when_piped_without_v(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wheel = _plain(tmp_path / "w", "alpha")
    assert main(_install(tmp_path / "t", str(wheel), "--allow-unverified", ":all:")) == 0
    assert "intoto-pip: verifying" not in capsys.readouterr().err
