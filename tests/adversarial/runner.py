"""Run one adversarial case as a user would, and check everything the issue asks of it.

A case folder (see ``fixtures/adversarial.py``) holds the attack's files and ``expect.json``:

- ``args``: the command line after ``intoto-pip``; ``{keys}`` is the pinned-keys folder,
  ``{case}`` the working folder;
- ``exit``: the exit code; ``reason``: text the one-line reason must contain (on stderr as
  ``intoto-pip: error: ...`` for a refusal, on stdout for a pass);
- ``spawns``: the only commands that may be started (the trusted layout's inspections);
- ``created``: files that may appear in the working folder (written by those inspections);
  ``outside``: files they may write beside it; everything else must stay byte for byte
  (``created`` and ``outside`` are fnmatch patterns; ``unchanged`` patterns win over them);
  ``own_python``: intoto-pip may run its target interpreter (``-I -B``: the probe, and
  bytecode compilation once verified);
- optional: ``env`` (variables to set; ``{case}`` and ``{PATH}`` expanded), ``settle``
  (seconds to wait before looking for late writes), ``grow`` ({file: size}, made sparse
  at run time), ``stderr`` (text stderr must contain), ``max_reason`` (cap on the line),
  ``inprocess_only`` (argv cannot carry it), ``max_seconds`` (time cap), ``xfail`` (a known
  gap, with whom it is routed to: the case must fail until fixed).

The working folder is a copy, ``<box>/work``; ``<box>`` also holds the private temp folder
the run is given, which must be empty afterwards.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import pytest

from fixtures.adversarial import OUT
from intoto_pip.cli.main import main

KEYS = OUT / "keys"
PWNED = "PWNED"
MAX_REASON = 2000
LOCKS = "tmp/intoto-pip-locks-"  # the install lock folder (install/lock.py), kept on purpose
Tree = dict[str, tuple[str, bytes]]


def case_dirs(klass: str | None = None) -> list[Path]:
    pattern = f"{klass or '*'}/*/expect.json"
    return sorted(path.parent for path in OUT.glob(pattern))


def case_id(folder: Path) -> str:
    return f"{folder.parent.name}/{folder.name}"


def load_expect(folder: Path) -> dict[str, Any]:
    expect: dict[str, Any] = json.loads((folder / "expect.json").read_text())
    return expect


def snapshot(root: Path) -> Tree:
    """Every entry below ``root``: kind and content (files), target (links), mode (all)."""
    tree: Tree = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [*dirnames, *filenames]:
            path = Path(dirpath) / name
            info = path.lstat()
            relative = str(path.relative_to(root))
            if path.is_symlink():
                tree[relative] = ("link", os.readlink(path).encode())
            elif path.is_dir():
                tree[relative] = (f"dir {info.st_mode:o}", b"")
            else:
                content = hashlib.sha256(path.read_bytes()).digest()
                tree[relative] = (f"file {info.st_mode:o}", content)
    return tree


@dataclass
class Outcome:
    code: int
    stdout: str
    stderr: str
    spawned: list[list[str]] = field(default_factory=list)


@dataclass
class Sandbox:
    box: Path
    work: Path
    tmp: Path
    expect: dict[str, Any]

    def expand(self, text: str) -> str:
        return (
            text.replace("{keys}", str(KEYS))
            .replace("{case}", str(self.work))
            .replace("{PATH}", os.environ.get("PATH", os.defpath))
        )

    @property
    def args(self) -> list[str]:
        return [self.expand(arg) for arg in self.expect["args"]]

    @property
    def env(self) -> dict[str, str]:
        return {key: self.expand(value) for key, value in self.expect.get("env", {}).items()}


def prepare(folder: Path, base: Path) -> Sandbox:
    expect = load_expect(folder)
    box = base / "box"
    work, tmp = box / "work", box / "tmp"
    shutil.copytree(folder, work, symlinks=True, ignore=shutil.ignore_patterns("expect.json"))
    tmp.mkdir(mode=0o700)
    for name, size in expect.get("grow", {}).items():
        os.truncate(work / name, size)
    return Sandbox(box=box, work=work, tmp=tmp, expect=expect)


class _RecordingPopen(subprocess.Popen):  # type: ignore[type-arg]
    """Popen that notes every command line started in this process."""

    started: ClassVar[list[list[str]]] = []

    def __init__(self, args: Any, *rest: Any, **kwargs: Any) -> None:
        command = [args] if isinstance(args, str | bytes) else list(args)
        _RecordingPopen.started.append([str(part) for part in command])
        super().__init__(args, *rest, **kwargs)


@contextmanager
def _recording() -> Iterator[list[list[str]]]:
    _RecordingPopen.started = []
    yield _RecordingPopen.started


def run_inprocess(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Outcome:
    """``intoto_pip.cli.main.main(args)`` in the working folder; any other exception escapes."""
    monkeypatch.chdir(sandbox.work)
    monkeypatch.setattr(tempfile, "tempdir", str(sandbox.tmp))
    monkeypatch.setenv("TMPDIR", str(sandbox.tmp))
    for key, value in sandbox.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(subprocess, "Popen", _RecordingPopen)
    with _recording() as started:
        try:
            code = main(sandbox.args)
        except SystemExit as exc:  # argparse usage errors
            code = exc.code if isinstance(exc.code, int) else 2
    captured = capsys.readouterr()
    return Outcome(code=code, stdout=captured.out, stderr=captured.err, spawned=list(started))


def run_subprocess(sandbox: Sandbox, timeout: float = 60) -> Outcome:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env.update(sandbox.env)
    env["TMPDIR"] = str(sandbox.tmp)
    result = subprocess.run(
        [sys.executable, "-m", "intoto_pip.cli.main", *sandbox.args],
        cwd=sandbox.work,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    return Outcome(code=result.returncode, stdout=result.stdout, stderr=result.stderr)


def check_reason(outcome: Outcome, expect: Mapping[str, Any]) -> None:
    where = f"stdout={outcome.stdout[-2000:]!r} stderr={outcome.stderr[-2000:]!r}"
    assert "Traceback" not in outcome.stderr, where
    assert outcome.code == expect["exit"], where
    if expect["exit"] == 0:
        assert expect["reason"] in outcome.stdout, where
        assert "error" not in outcome.stderr, where
    else:
        errors = [line for line in outcome.stderr.splitlines() if _is_reason(line)]
        naming = [line for line in errors if expect["reason"] in line]
        assert len(naming) == 1, f"expected one line naming the cause; {where}"
        line = naming[0]
        assert len(line) <= expect.get("max_reason", MAX_REASON), f"reason too long: {len(line)}"
    if "stderr" in expect:
        assert expect["stderr"] in outcome.stderr, where


def _is_reason(line: str) -> bool:
    """The one line saying why: ``intoto-pip: error: ...`` or ``ARCHIVE: NOT verified: ...``."""
    return line.startswith("intoto-pip: error: ") or ": NOT verified: " in line


def _own_python(command: list[str]) -> bool:
    """intoto-pip's own probe of the target interpreter, or its bytecode compilation."""
    return command[:3] == [sys.executable, "-I", "-B"]


def check_spawns(outcome: Outcome, expect: Mapping[str, Any]) -> None:
    allowed = [list(command) for command in expect["spawns"]]
    for command in outcome.spawned:
        if expect.get("own_python") and _own_python(command):
            refused = expect["exit"] != 0
            assert not (refused and "py_compile" in " ".join(command)), "compiled a refused wheel"
            continue
        assert command in allowed, f"started {command!r}; the trusted layout names {allowed!r}"


def leftovers(tmp: Path) -> list[str]:
    """What a run left in its temp folder, but for the install lock folder (kept on purpose:
    it holds only lock files, reused by every run)."""
    return sorted(p.name for p in tmp.iterdir() if not p.name.startswith(LOCKS[4:]))


def check_files(sandbox: Sandbox, before: Tree) -> None:
    """Nothing changed but what the trusted layout's inspections may write; no PWNED."""
    settle = float(sandbox.expect.get("settle", 0))
    if settle:
        time.sleep(settle)
    after = snapshot(sandbox.box)
    assert not (sandbox.box / PWNED).exists() and not (sandbox.work / PWNED).exists(), (
        "a command the trusted layout did not name ran"
    )
    allowed = [f"work/{name}" for name in sandbox.expect["created"]]
    allowed += sandbox.expect.get("outside", [])
    kept = [f"work/{name}" for name in sandbox.expect.get("unchanged", [])]
    assert leftovers(sandbox.tmp) == [], "files left in the temp folder"
    changed = sorted(
        name
        for name in before.keys() | after.keys()
        if before.get(name) != after.get(name) and not name.startswith(LOCKS)
    )
    unexpected = [
        name
        for name in changed
        if not any(fnmatch.fnmatchcase(name, pattern) for pattern in allowed)
        or any(fnmatch.fnmatchcase(name, pattern) for pattern in kept)
    ]
    assert not unexpected, f"changed outside what the layout allows: {unexpected}"


def run_case(
    folder: Path,
    base: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    *,
    subprocess_mode: bool = False,
) -> Outcome:
    sandbox = prepare(folder, base)
    before = snapshot(sandbox.box)
    started = time.monotonic()
    if subprocess_mode:
        outcome = run_subprocess(sandbox)
    else:
        outcome = run_inprocess(sandbox, monkeypatch, capsys)
    elapsed = time.monotonic() - started
    assert elapsed <= sandbox.expect.get("max_seconds", 60), f"took {elapsed:.1f} s"
    check_reason(outcome, sandbox.expect)
    check_spawns(outcome, sandbox.expect)
    check_files(sandbox, before)
    return outcome
