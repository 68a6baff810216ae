"""The inspection runner: a real subprocess, confined, timed, and recorded before and after."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import time
from pathlib import Path

import pytest

from intoto_pip.errors import RuleError, VerificationError
from intoto_pip.models.layout import Inspection
from intoto_pip.verify import inspections
from intoto_pip.verify.inspections import (
    InspectionOptions,
    minimal_environment,
    run_inspection,
    sanitized_path,
)
from tests.verify.builders import digest


def sh(script: str, name: str = "probe") -> Inspection:
    return Inspection(name=name, run=("sh", "-c", script))


def options(
    workdir: Path,
    *,
    timeout: float = 10.0,
    exclude: frozenset[str] = frozenset(),
    max_output: int = 1024 * 1024,
) -> InspectionOptions:
    return InspectionOptions(
        workdir=workdir, timeout=timeout, exclude=exclude, max_output=max_output
    )


def test_records_the_folder_before_and_after(tmp_path: Path) -> None:
    (tmp_path / "old.txt").write_text("old")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "keep").write_text("k")
    link = run_inspection(sh("rm old.txt; printf new > new.txt"), options(tmp_path))
    assert link.name == "probe"
    assert link.command == ("sh", "-c", "rm old.txt; printf new > new.txt")
    assert link.materials == {"old.txt": digest("old"), "sub/keep": digest("k")}
    assert link.products == {"new.txt": digest("new"), "sub/keep": digest("k")}
    assert link.byproducts["return-value"] == 0


def test_leaves_out_only_the_given_link_files(tmp_path: Path) -> None:
    # Regression for the documented divergence: the reference hides every '*.link*',
    # '.git', '*.pyc' and '*~'; we hide only the link files the verification read.
    for name in ("links/build.abcd1234.link", "other.link", ".git/config", "a.pyc", "b~"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(name)
    link = run_inspection(
        sh("true"), options(tmp_path, exclude=frozenset({"links/build.abcd1234.link"}))
    )
    assert sorted(link.materials) == [".git/config", "a.pyc", "b~", "other.link"]


def test_exit_code_is_reported(tmp_path: Path) -> None:
    link = run_inspection(sh("echo oops >&2; exit 3"), options(tmp_path))
    assert link.byproducts["return-value"] == 3
    assert link.byproducts["stderr"] == "oops\n"


def test_timeout_is_a_refusal_and_kills_what_it_started(tmp_path: Path) -> None:
    started = time.monotonic()
    with pytest.raises(RuleError) as caught:
        run_inspection(sh("sleep 30 & sleep 30"), options(tmp_path, timeout=0.3))
    assert time.monotonic() - started < 5
    assert str(caught.value) == (
        "inspection 'probe': command 'sh -c sleep 30 & sleep 30' did not finish within 0.3 s "
        "(--inspection-timeout)"
    )


def test_stdin_is_closed(tmp_path: Path) -> None:
    link = run_inspection(Inspection(name="cat", run=("cat",)), options(tmp_path, timeout=5))
    assert link.byproducts["return-value"] == 0
    assert link.byproducts["stdout"] == ""


def test_environment_is_minimal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRET_TOKEN", "x")
    monkeypatch.setenv("PYTHONPATH", "/evil")
    link = run_inspection(Inspection(name="env", run=("env",)), options(tmp_path))
    names = {line.split("=", 1)[0] for line in str(link.byproducts["stdout"]).splitlines()}
    assert "PATH" in names
    assert names <= {"PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "SYSTEMROOT", "PWD", "SHLVL", "_"}
    assert minimal_environment(tmp_path).keys() <= {
        "PATH",
        "LANG",
        "LC_ALL",
        "LC_CTYPE",
        "TZ",
        "SYSTEMROOT",
    }


def test_path_is_sanitised(tmp_path: Path) -> None:
    raw = os.pathsep.join(
        [
            "/usr/bin",
            "",
            ".",
            "relative/bin",
            str(tmp_path),
            str(tmp_path / "bin"),
            "/usr/bin",
            "/bin",
        ]
    )
    assert sanitized_path(tmp_path, raw) == os.pathsep.join(["/usr/bin", "/bin"])


def test_command_in_the_working_folder_is_never_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tool = tmp_path / "mytool"
    tool.write_text("#!/bin/sh\necho pwned > pwned\n")
    tool.chmod(tool.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", os.pathsep.join([".", str(tmp_path), os.environ["PATH"]]))
    with pytest.raises(VerificationError, match="command 'mytool' not found on PATH"):
        run_inspection(Inspection(name="tool", run=("mytool",)), options(tmp_path))
    with pytest.raises(VerificationError, match="is a relative path"):
        run_inspection(Inspection(name="tool", run=("./mytool",)), options(tmp_path))
    assert not (tmp_path / "pwned").exists()


def test_absolute_command_runs(tmp_path: Path) -> None:
    absolute = shutil.which("true")
    assert absolute is not None
    link = run_inspection(Inspection(name="abs", run=(absolute,)), options(tmp_path))
    assert link.byproducts["return-value"] == 0


def test_unknown_command_is_refused(tmp_path: Path) -> None:
    with pytest.raises(
        VerificationError, match="inspection 'x': command 'no-such-tool-xyz' not found"
    ):
        run_inspection(Inspection(name="x", run=("no-such-tool-xyz",)), options(tmp_path))


def test_captured_output_is_bounded(tmp_path: Path) -> None:
    link = run_inspection(
        sh("head -c 3000000 /dev/zero; echo done >&2"), options(tmp_path, max_output=1000)
    )
    assert len(str(link.byproducts["stdout"])) == 1000
    assert link.byproducts["stderr"] == "done\n"
    assert link.byproducts["return-value"] == 0


def test_a_file_rewritten_with_size_and_mtime_kept_is_seen_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Products may reuse a material's digest only for a provably untouched file. Let the
    # recordings think the files are old (so reuse is allowed at all), then have the
    # inspection rewrite one in place, same size, modification time put back.
    real_now = time.time_ns
    monkeypatch.setattr(time, "time_ns", lambda: real_now() + 10_000_000_000)
    (tmp_path / "same.txt").write_text("aaaa")
    (tmp_path / "kept.txt").write_text("kkkk")
    script = (
        "import os, time; s = os.stat('same.txt'); time.sleep(0.05); "
        "open('same.txt', 'w').write('bbbb'); "
        "os.utime('same.txt', ns=(s.st_atime_ns, s.st_mtime_ns))"
    )
    python = shutil.which("python3") or shutil.which("python")
    assert python is not None
    link = run_inspection(Inspection(name="rewrite", run=(python, "-c", script)), options(tmp_path))
    assert link.byproducts["return-value"] == 0
    assert link.materials == {"same.txt": digest("aaaa"), "kept.txt": digest("kkkk")}
    assert link.products == {"same.txt": digest("bbbb"), "kept.txt": digest("kkkk")}


class _Interrupted(BaseException):
    """Stands for the CLI's SIGTERM exception."""


def test_an_interrupted_start_kills_the_child_it_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Popen reads its exec-status pipe with os.read after the fork: the first os.read of
    # this run (the folder is empty, so recording reads nothing) is interrupted there.
    real_read = os.read
    reads: list[int] = []

    def interrupted_read(fd: int, size: int) -> bytes:
        reads.append(fd)
        if len(reads) == 1:
            raise _Interrupted
        return real_read(fd, size)

    killed: list[int] = []
    real_kill = inspections._kill_group

    def kill_group(process: subprocess.Popen[bytes]) -> None:
        killed.append(process.pid)
        real_kill(process)

    monkeypatch.setattr(os, "read", interrupted_read)
    monkeypatch.setattr(inspections, "_kill_group", kill_group)
    with pytest.raises(_Interrupted):
        run_inspection(sh("sleep 30"), options(tmp_path))
    assert len(killed) == 1
    with pytest.raises(ProcessLookupError):
        os.kill(killed[0], 0)  # killed and reaped
