"""The reference in-toto 3.1.0's own CLI tests (``scenarios.py``), run against both tools.

Every call runs once with ``in-toto-<tool>`` and once with ``intoto-pip <tool>``, each in a
fresh copy of the same prepared folder (the vendored data of fixtures/upstream_in_toto,
with layouts signed once, by the reference, for both). The reference must give the code its
own test asserts, which shows the port is faithful; intoto-pip must give the same code, or
the one its documented rule gives (``Call.why``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.interop.conftest import ReferenceCLI
from tests.interop.upstream.scenarios import CASES, Call, Case

DATA = Path(__file__).resolve().parents[3] / "fixtures" / "upstream_in_toto"
PEMS = DATA / "pems"
SIDES = ("reference", "intoto-pip")


def _copy(names: list[str], source: Path, folder: Path) -> None:
    for name in names:
        shutil.copy(source / name, folder / name)


def _demo(folder: Path, cli: ReferenceCLI, source: str) -> None:
    """upstream's verify set-up: links, final product, scripts, layout signed by 3 keys."""
    _copy(["package.2f89b927.link", "write-code.776a00e2.link"], DATA / source, folder)
    _copy(["foo.tar.gz"], DATA / "demo_files", folder)
    shutil.copytree(DATA / "scripts", folder / "scripts")
    keys = [str(PEMS / f"{kind}_private_unencrypted.pem") for kind in ("rsa", "ed25519", "ecdsa")]
    template = str(DATA / source / "demo.layout.template")
    done = cli.run("in-toto-sign", "-f", template, "-k", *keys, "-o", "demo.layout", cwd=folder)
    assert done.returncode == 0, done.stderr


def _sign(folder: Path, source: str) -> None:
    _copy(["demo.layout.template", "package.2f89b927.link"], DATA / source, folder)


def _touch(*names: str) -> Callable[[Path, ReferenceCLI], None]:
    def make(folder: Path, cli: ReferenceCLI) -> None:
        for name in names:
            (folder / name).touch()

    return make


SETUPS: dict[str, Callable[[Path, ReferenceCLI], None]] = {
    "demo": lambda folder, cli: _demo(folder, cli, "demo_files"),
    "demo_dsse": lambda folder, cli: _demo(folder, cli, "demo_dsse_files"),
    "demo_unsigned": lambda folder, cli: _copy(
        ["package.2f89b927.link", "write-code.776a00e2.link", "foo.tar.gz"],
        DATA / "demo_files",
        folder,
    ),
    "sign": lambda folder, cli: _sign(folder, "demo_files"),
    "sign_dsse": lambda folder, cli: _sign(folder, "demo_dsse_files"),
    "artifact": _touch("test_artifact"),
    "artifacts": _touch("test_artifact1", "test_artifact2"),
}


@pytest.fixture(scope="session")
def prepared(
    tmp_path_factory: pytest.TempPathFactory, reference_cli: ReferenceCLI
) -> dict[str, Path]:
    """Each set-up made once, so both tools see byte-identical inputs."""
    folders = {}
    for name, make in SETUPS.items():
        folder = tmp_path_factory.mktemp(f"upstream-{name}")
        make(folder, reference_cli)
        folders[name] = folder
    return folders


def _expand(args: tuple[str, ...], folder: Path) -> list[str]:
    values = {"pems": str(PEMS), "py": sys.executable, "dir": str(folder)}
    return [arg.format(**values) for arg in args]


def _run(side: str, tool: str, args: list[str], folder: Path, cli: ReferenceCLI) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "INTOTO_PIP_"))}
    command = (
        [str(cli.path(f"in-toto-{tool}"))]
        if side == "reference"
        else [sys.executable, "-m", "intoto_pip.cli.main", tool]
    )
    done = subprocess.run(
        [*command, *args],
        cwd=folder,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )
    return done.returncode, done.stdout + done.stderr


def _check(call: Call, side: str, code: int, output: str, folder: Path) -> None:
    expected = call.code if side == "reference" else call.expected_ours
    shown = " ".join(call.args)
    assert code == expected, f"{side} {shown}: exit {code}, expected {expected}\n{output}"
    assert "Traceback" not in output or side == "reference", output
    for name in call.creates:
        assert (folder / name).exists(), f"{side} {shown}: {name} was not written"
    for name in call.absent:
        assert not (folder / name).exists(), f"{side} {shown}: {name} was written"
    for name in call.remove:
        (folder / name).unlink()


@pytest.mark.parametrize("side", SIDES)
@pytest.mark.parametrize("case", CASES, ids=[case.source.replace(".py::", "::") for case in CASES])
def test_upstream_scenario(
    case: Case, side: str, prepared: dict[str, Path], reference_cli: ReferenceCLI, tmp_path: Path
) -> None:
    folder = tmp_path / "work"
    shutil.copytree(prepared[case.setup], folder)
    for name, text in case.files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    for call in case.calls:
        code, output = _run(side, case.tool, _expand(call.args, folder), folder, reference_cli)
        _check(call, side, code, output, folder)


def test_every_divergence_names_its_rule() -> None:
    calls = [call for case in CASES for call in case.calls]
    differing = [call for call in calls if call.ours is not None]
    assert all(call.why for call in differing)
    assert all(call.ours != call.code for call in differing)
    # The port's size, so a scenario lost by accident is noticed.
    assert (len(CASES), len(calls), len(differing)) == (36, 146, 21)
