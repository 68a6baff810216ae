"""Differential: ``intoto-pip run`` / ``record`` write the same link as ``in-toto-run`` /
``in-toto-record`` for the same tree and flags, byte for byte.

Both tools run on one tree (the wrapped command is idempotent) with an ed25519 key, whose
signatures are deterministic, so the whole file must be equal, not only the payload: names
(hidden files, symlinks, ``./`` and ``..`` spellings, excluded files), hashes, command,
byproducts with and without ``-s``, environment, envelope format. Exit codes must agree too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from base64 import b64decode
from pathlib import Path
from typing import Any

import pytest

from tests.interop.conftest import ReferenceCLI
from tests.produce._keys import write_key

PY = sys.executable
WRITE = "open('made.txt', 'w').write('made')"
NOISY = (
    "import sys; open('made.txt', 'w').write('made'); print('out line'); "
    "sys.stdout.write('crlf\\r\\nend'); sys.stderr.write('err\\r\\n')"
)


def _tree(root: Path) -> None:
    files = {
        "a.txt": "alpha\n",
        "b.txt": "beta\r\n",
        ".hidden": "h",
        "sub/c.py": "c",
        "sub/c.pyc": "compiled",
        "sub/deep/d.txt": "d",
        "sub/.dot/e": "e",
        "notes~": "backup",
        ".git/config": "git",
        "x.link": "a link",
        "space name.txt": "s",
        "ünï.txt": "u",
        "other/e.txt": "e",
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode())
    (root / "link_to_a").symlink_to("a.txt")
    (root / "linkdir").symlink_to("sub/deep", target_is_directory=True)
    (root / "dangling").symlink_to("nowhere")


@pytest.fixture
def work(tmp_path: Path) -> Path:
    write_key(tmp_path, "key", "ed25519")
    (tmp_path / "tree").mkdir()
    _tree(tmp_path / "tree")
    for side in ("ours", "theirs"):
        (tmp_path / side).mkdir()
    return tmp_path


def _ours(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PIP_")}
    return subprocess.run(
        [PY, "-m", "intoto_pip.cli.main", *args],
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )


def _links(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def _assert_same_links(work: Path) -> dict[str, bytes]:
    ours, theirs = _links(work / "ours"), _links(work / "theirs")
    assert ours.keys() == theirs.keys()
    for name in ours:
        # Compare the payloads first, for a readable diff, then the whole files.
        mine, reference = _payload(ours[name]), _payload(theirs[name])
        for field in ("materials", "products"):
            assert _differences(mine[field], reference[field]) == ([], [], []), field
        assert mine == reference, name
        assert ours[name] == theirs[name], name
    return ours


def _differences(
    mine: dict[str, object], reference: dict[str, object]
) -> tuple[list[str], list[str], list[str]]:
    """Names only we record, only the reference records, and recorded with other hashes."""
    return (
        sorted(mine.keys() - reference.keys()),
        sorted(reference.keys() - mine.keys()),
        sorted(name for name in mine.keys() & reference.keys() if mine[name] != reference[name]),
    )


def _payload(data: bytes) -> dict[str, Any]:
    document = json.loads(data)
    payload = (
        document["signed"] if "signed" in document else json.loads(b64decode(document["payload"]))
    )
    assert isinstance(payload, dict)
    return payload


RUN_CASES = {
    "everything": ["-m", ".", "-p", ".", "--", PY, "-c", WRITE],
    "streams": ["-s", "-m", "a.txt", "-p", "made.txt", "--", PY, "-c", NOISY],
    "streams-not-recorded": ["-m", "a.txt", "-p", "made.txt", "--", PY, "-c", NOISY],
    "no-command": ["-x", "-m", "."],
    "base-path": ["-x", "--base-path", "sub", "-m", ".", "deep/d.txt", "-p", "c.py"],
    "lstrip": ["-x", "--lstrip-paths", "sub/", "other/", "-m", "sub", "other"],
    "lstrip-no-slash": ["-x", "--lstrip-paths", "sub", "-m", "sub"],
    "exclude": ["-x", "--exclude", "*.txt", "sub", "-m", "."],
    "exclude-dir-pattern": ["-x", "--exclude", "deep/", ".dot", "-m", "."],
    "exclude-nothing": ["-x", "--exclude", "", "-m", "."],
    "exclude-gitignore": ["-x", "--exclude", "sub/deep", "/a.txt", "**/e", "*.TXT", "-m", "."],
    "exclude-negation": ["-x", "--exclude", "*.txt", "!b.txt", "sub/*", "!sub/c.py", "-m", "."],
    "exclude-anchored-dir": ["-x", "--exclude", "/sub/", "e.txt", "-m", ".", "sub/c.py"],
    "overlapping": ["-x", "-m", "sub", "sub/deep", "sub/c.py", "-p", "a.txt", "a.txt"],
    "base-path-lstrip": ["-x", "--base-path", "sub", "--lstrip-paths", "deep/", "-m", "."],
    "spellings": ["-x", "-m", "./a.txt", "sub/../b.txt", "missing.txt", "sub/", "./sub//deep"],
    "symlinks": ["-x", "-m", "link_to_a", "linkdir", "dangling"],
    "dsse": ["-x", "--use-dsse", "-m", "a.txt", ".hidden"],
    "exit-code": ["-m", "a.txt", "--", PY, "-c", "import sys; sys.exit(3)"],
    "killed": ["-s", "--", PY, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGTERM)"],
}


@pytest.mark.parametrize("args", RUN_CASES.values(), ids=RUN_CASES.keys())
def test_run_writes_what_in_toto_run_writes(
    reference_cli: ReferenceCLI, work: Path, args: list[str]
) -> None:
    tree = work / "tree"
    common = ["-n", "step", "--signing-key", str(work / "key")]
    theirs = reference_cli.run("in-toto-run", *common, "-d", work / "theirs", *args, cwd=tree)
    (tree / "made.txt").unlink(missing_ok=True)  # both runs must start from the same tree
    ours = _ours("run", *common, "-d", str(work / "ours"), *args, cwd=tree)
    assert ours.returncode == theirs.returncode, (ours.stderr, theirs.stderr)
    links = _assert_same_links(work)
    assert len(links) == 1


def test_absolute_paths_and_lstrip(reference_cli: ReferenceCLI, work: Path) -> None:
    tree = work / "tree"
    args = ["-n", "step", "--signing-key", str(work / "key"), "-x", "-m", str(tree / "sub"),
            str(tree / "a.txt"), "--lstrip-paths", f"{tree}/sub/"]  # fmt: skip
    assert reference_cli.run("in-toto-run", *args, "-d", work / "theirs", cwd=work).returncode == 0
    assert _ours("run", *args, "-d", str(work / "ours"), cwd=work).returncode == 0
    _assert_same_links(work)


@pytest.mark.parametrize(
    "command",
    [["no-such-command-for-intoto"], [PY, "-c", "import time; time.sleep(5)"]],
    ids=["not-found", "timeout"],
)
def test_command_that_cannot_finish_writes_no_link(
    reference_cli: ReferenceCLI, work: Path, command: list[str]
) -> None:
    args = ["-n", "step", "--signing-key", str(work / "key"), "--run-timeout", "1", "--"]
    theirs = reference_cli.run("in-toto-run", *args[:-1], "-d", work / "theirs", "--",
                               *command, cwd=work / "tree")  # fmt: skip
    ours = _ours("run", *args[:-1], "-d", str(work / "ours"), "--", *command, cwd=work / "tree")
    assert (ours.returncode, theirs.returncode) == (1, 1)
    assert _links(work / "ours") == _links(work / "theirs") == {}
    assert len(ours.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("dsse", [False, True], ids=["metablock", "dsse"])
def test_record_writes_what_in_toto_record_writes(
    reference_cli: ReferenceCLI, work: Path, dsse: bool
) -> None:
    tree = work / "tree"
    common = ["-n", "step", "--signing-key", str(work / "key")]
    start = [*common, "-m", ".", "--exclude", "*.txt", *(["--use-dsse"] if dsse else [])]
    stop = [*common, "-p", "sub", "--lstrip-paths", "sub/"]
    assert reference_cli.run("in-toto-record", "start", *start, cwd=tree).returncode == 0
    (tree / "sub" / "new.txt").write_text("new")
    done = reference_cli.run("in-toto-record", "stop", *stop, "-d", work / "theirs", cwd=tree)
    assert done.returncode == 0, done.stderr
    assert _ours("record", "start", *start, cwd=tree).returncode == 0
    done = _ours("record", "stop", *stop, "-d", str(work / "ours"), cwd=tree)
    assert done.returncode == 0, done.stderr
    _assert_same_links(work)
    assert not list(tree.glob(".*.link-unfinished"))
