"""Nothing handed to pip may make it build a distribution during resolution (DESIGN §7).

The end-to-end tests give ``intoto-pip install`` a source tree whose in-tree build backend
writes a marker file when imported: before the check, pip's dry run imported it."""

from __future__ import annotations

import os
import tarfile
from pathlib import Path

import pytest

from intoto_pip.cli.main import main
from intoto_pip.errors import InputError
from intoto_pip.install.pip_inputs import check_pip_inputs, check_requirements_file

ACCEPTED = [
    "requests",
    "requests[socks]>=2.0,<3; python_version >= '3.8'",
    "demo @ https://example.org/demo-1.0-py3-none-any.whl",
    "demo @ file:///tmp/demo-1.0-py3-none-any.whl",
    "./dist/demo-1.0-py3-none-any.whl",
    "https://example.org/demo-1.0-py3-none-any.whl",
]
REFUSED = [
    ".",
    "./project",
    "demo @ https://example.org/demo-1.0.tar.gz",
    "demo @ file:///tmp/demo-1.0.zip",
    "git+https://example.org/demo.git",
    "demo-1.0.tar.bz2",
    "DEMO-1.0.TGZ",
    "demo-1.0.tar",
    "demo @ ./project",
]


@pytest.mark.parametrize("text", ACCEPTED)
def test_names_and_wheels_are_accepted(text: str) -> None:
    check_pip_inputs([text], [])


@pytest.mark.parametrize("text", REFUSED)
def test_anything_pip_would_build_is_refused(text: str) -> None:
    with pytest.raises(InputError, match="only project names and wheels"):
        check_pip_inputs([text], [])


def test_a_folder_named_like_a_wheel_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "trick-1.0-py3-none-any.whl"
    folder.mkdir()
    with pytest.raises(InputError):
        check_pip_inputs([str(folder)], [])


def _file(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_plain_requirements_files_pass(tmp_path: Path) -> None:
    _file(tmp_path / "pins.txt", "demo==1.0\n")
    text = (
        "# comment\n--index-url https://example.org/simple/\n--pre\n"
        "requests>=2 \\\n    --hash=sha256:abcd  # pinned\n-c pins.txt\n-f ./wheels\n"
    )
    check_requirements_file(_file(tmp_path / "req.txt", text))


@pytest.mark.parametrize(
    "line",
    [
        "--no-binary :all:",
        "--only-binary :none:",
        "-e .",
        "--editable=./project",
        "demo --no-binary demo",
        "./project",
        "demo @ https://example.org/demo-1.0.tar.gz",
        "--no-bin :all:",  # pip expands unambiguous prefixes: we refuse them
        "-r https://example.org/more.txt",
        "--no-\\\nbinary :all:",  # a continued line
    ],
)
def test_requirements_file_lines_that_build_are_refused(tmp_path: Path, line: str) -> None:
    with pytest.raises(InputError, match=r"req\.txt"):
        check_requirements_file(_file(tmp_path / "req.txt", f"demo\n{line}\n"))


def test_nested_and_constraint_files_are_read(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    _file(tmp_path / "sub" / "pins.txt", "demo @ file:///tmp/demo-1.0.tar.gz\n")
    _file(tmp_path / "sub" / "more.txt", "-c pins.txt\n")
    with pytest.raises(InputError, match=r"pins\.txt, line 1"):
        check_requirements_file(_file(tmp_path / "req.txt", "-rsub/more.txt\n"))
    _file(tmp_path / "loop.txt", "-r loop.txt\n")
    with pytest.raises(InputError, match="too deeply"):
        check_requirements_file(tmp_path / "loop.txt")


def test_environment_variables_are_expanded_as_pip_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SNEAKY", "--no-binary")
    with pytest.raises(InputError, match="--no-binary"):
        check_requirements_file(_file(tmp_path / "req.txt", "${SNEAKY} :all:\n"))


def test_files_pip_would_decode_otherwise_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "req.txt"
    path.write_bytes("--no-binary :all:\n".encode("utf-16"))
    with pytest.raises(InputError, match="UTF-8"):
        check_requirements_file(path)
    path.write_bytes(b"# -*- coding: latin-1 -*-\ndemo\n")
    with pytest.raises(InputError, match="UTF-8"):
        check_requirements_file(path)
    with pytest.raises(InputError, match=r"cannot be read|no such"):
        check_requirements_file(tmp_path / "missing.txt")


# -- end to end: the marker shows whether any code of the distribution ran --------------------

_BACKEND = """\
import pathlib
pathlib.Path({marker!r}).write_text("the build backend ran")
def get_requires_for_build_wheel(config_settings=None):
    return []
def prepare_metadata_for_build_wheel(directory, config_settings=None):
    raise SystemExit("stop")
"""


def _evil_tree(tmp_path: Path, marker: Path) -> Path:
    tree = tmp_path / "evil"
    (tree / "be").mkdir(parents=True)
    (tree / "pyproject.toml").write_text(
        '[build-system]\nrequires = []\nbuild-backend = "evilbe"\nbackend-path = ["be"]\n'
    )
    (tree / "be" / "evilbe.py").write_text(_BACKEND.format(marker=str(marker)))
    return tree


def _evil_sdist(tmp_path: Path, tree: Path) -> Path:
    sdist = tmp_path / "evil-1.0.tar.bz2"
    with tarfile.open(sdist, "w:bz2") as tar:
        tar.add(tree, arcname="evil-1.0")
    return sdist


def test_install_never_lets_pip_build_before_verification(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in [n for n in os.environ if n.startswith("PIP_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    marker = tmp_path / "PWNED"
    tree = _evil_tree(tmp_path, marker)
    sdist = _evil_sdist(tmp_path, tree)
    reqs = _file(tmp_path / "req.txt", f"--no-binary :all:\n--find-links {tmp_path}\nevil\n")
    attempts = [
        [str(tree)],
        [f"evil @ {tree.as_uri()}"],
        [str(sdist)],
        ["-r", str(reqs)],
    ]
    for attempt in attempts:
        args = ["install", *attempt, "--no-index", "--dry-run", "--allow-unverified", ":all:"]
        code = main(args)
        assert not marker.exists(), attempt
        assert code == 2, attempt
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "intoto-pip: error:" in err, err
