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
from intoto_pip.verify import descendants, inspections
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
    kept = {"PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "SYSTEMROOT"}
    python_safety = {"PYTHONSAFEPATH", "PYTHONNOUSERSITE"}
    assert names <= kept | python_safety | {"PWD", "SHLVL", "_"}
    assert minimal_environment(tmp_path).keys() <= kept | python_safety


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


def test_a_module_planted_in_the_sandbox_never_shadows_the_standard_library(
    tmp_path: Path,
) -> None:
    # `python3 -m compileall .` in the folder being verified must import the real compileall,
    # not one the archive put there (PYTHONSAFEPATH=1: the working folder is not on sys.path).
    box = tmp_path / "box"
    box.mkdir()
    marker = tmp_path / "planted-module-ran"
    (box / "compileall.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    link = run_inspection(
        Inspection(name="compile", run=("python3", "-m", "compileall", "-q", ".")), options(box)
    )
    assert not marker.exists()
    assert link.byproducts["return-value"] == 0


def test_inspections_see_no_user_site(tmp_path: Path) -> None:
    env = minimal_environment(tmp_path)
    assert env["PYTHONSAFEPATH"] == "1" and env["PYTHONNOUSERSITE"] == "1"
    link = run_inspection(
        Inspection(
            name="flags",
            run=("python3", "-c", "import sys; print(sys.flags.safe_path, sys.flags.no_user_site)"),
        ),
        options(tmp_path),
    )
    assert str(link.byproducts["stdout"]).split() == ["True", "1"]


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, state Z, has ended)."""
    try:
        stat_line = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat_line.rsplit(")", 1)[1].split()[0] != "Z"


_ESCAPE = """
import os, sys, time
if os.fork() == 0:
    os.setsid()
    child = os.fork()
    if child == 0:
        os.execvp("sleep", ["sleep", "300"])
    with open(sys.argv[1], "w") as out:
        out.write(str(child))
    os._exit(0)
os.wait()
"""


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_an_inspection_leaves_no_process_behind_even_one_that_left_its_session(
    tmp_path: Path,
) -> None:
    box = tmp_path / "box"
    box.mkdir()
    pid_file = tmp_path / "escaped.pid"
    escape = Inspection(name="escape", run=("python3", "-c", _ESCAPE, str(pid_file)))
    shell_escape = sh(f"setsid sleep 301 & echo $! > {pid_file}.sh", name="setsid")
    try:
        run_inspection(escape, options(box))
        run_inspection(shell_escape, options(box))
        pids = [int(pid_file.read_text()), int(Path(f"{pid_file}.sh").read_text())]
        assert [pid for pid in pids if _alive(pid)] == []
    finally:
        for path in (pid_file, Path(f"{pid_file}.sh")):
            if path.exists() and _alive(int(path.read_text())):
                os.kill(int(path.read_text()), 9)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_killing_leftovers_spares_the_processes_started_before(tmp_path: Path) -> None:
    bystander = subprocess.Popen(["sleep", "30"])
    try:
        run_inspection(sh("setsid sleep 302 &"), options(tmp_path))
        assert bystander.poll() is None
        assert descendants.subreaper_state() in (None, False)
    finally:
        bystander.kill()
        bystander.wait()
