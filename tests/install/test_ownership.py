"""Who owns which path of the target: the interpreter, installed distributions' RECORDs."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from intoto_pip.install.ownership import ClashError, check_paths, claims_of
from intoto_pip.install.target import InstalledDist, Target, probe_target


@pytest.fixture()
def target(tmp_path: Path) -> Target:
    return probe_target(Path(sys.executable), target_dir=tmp_path / "site")


def _installed(target: Target, name: str, *rows: str) -> InstalledDist:
    info = Path(target.scheme["purelib"]) / f"{name}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "RECORD").write_text("".join(f"{row},,\n" for row in rows))
    return InstalledDist(name=name, version="1.0", dist_info=info)


def test_files_another_distribution_owns_are_claimed_unless_it_is_replaced(
    target: Target,
) -> None:
    old = _installed(target, "old", "pkg/a.py", "../../bin/tool")
    site = Path(target.scheme["purelib"])
    a_py = str(site / "pkg" / "a.py")
    tool = os.path.normpath(site / ".." / ".." / "bin" / "tool")
    kept = claims_of(target, [old], replaced=set())
    assert kept.owner_of(a_py) == "old" and kept.owner_of(tool) == "old"
    with pytest.raises(ClashError, match=r"pkg/a.py \(owned by distribution 'old'\)"):
        check_paths("new", [a_py], kept)
    check_paths("old", [a_py], kept)  # its own file: a new version of it may write it
    replaced = claims_of(target, [old], replaced={"old"})
    assert replaced.owner_of(a_py) is None
    check_paths("new", [a_py], replaced)


@pytest.mark.parametrize(
    ("name", "interpreter"),
    [("python", True), ("python3", True), ("python3.12", True), ("python3-config", False)],
)
def test_interpreter_names_in_the_scripts_folder_are_the_interpreters(
    target: Target, name: str, interpreter: bool
) -> None:
    claims = claims_of(target, [], replaced=set())
    path = os.path.join(target.scheme["scripts"], name)
    assert (claims.owner_of(path) == "the interpreter") is interpreter


def test_every_link_on_the_way_to_the_interpreter_is_claimed(target: Target) -> None:
    claims = claims_of(target, [], replaced=set())
    assert claims.owner_of(sys.executable) == "the interpreter"
    assert claims.owner_of(os.path.realpath(sys.executable)) == "the interpreter"


def test_every_clash_is_named_at_once(target: Target) -> None:
    old = _installed(target, "old", *(f"pkg/m{i}.py" for i in range(8)))
    claims = claims_of(target, [old], replaced=set())
    site = Path(target.scheme["purelib"])
    with pytest.raises(ClashError, match=r"m4.py \(owned by distribution 'old'\) and 3 more"):
        check_paths("new", [str(site / f"pkg/m{i}.py") for i in range(8)], claims)
