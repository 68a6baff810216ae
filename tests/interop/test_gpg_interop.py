"""GPG both ways with the reference: its --gpg links and layouts verify with intoto-pip, and
ours verify with ``in-toto-verify --gpg``. Keys are made by the real gpg in a temporary
GNUPGHOME (skipped where gpg is not installed)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from intoto_pip.cli.main import main
from tests.interop.conftest import ReferenceCLI
from tests.support.gpg import add_subkey, keyring, new_key

# Functionary keys: (name, primary algorithm, signing subkey algorithm or None). The
# reference loses short (ed25519) subkeys on export, so its subkey case uses RSA.
FUNCTIONARIES = [
    ("rsa", "rsa3072", None),
    ("dsa", "dsa2048", None),
    ("ed25519", "ed25519", None),
    ("subkeyed", "rsa2048", "rsa2048"),
]
LAYOUT_TOML = """\
expires = "30d"
[keys]
dev = {{ gpg = "{fingerprint}", gpg-home = "{home}" }}
[[steps]]
name = "build"
functionaries = ["dev"]
expected_products = ["CREATE foo.py", "DISALLOW *"]
"""


@pytest.fixture(scope="module")
def gpg_keys() -> Iterator[tuple[Path, str, dict[str, str]]]:
    if shutil.which("gpg") is None:
        pytest.skip("the gpg binary is not installed (apt-get install gnupg)")
    with keyring() as home:
        owner = new_key(home, "owner", "rsa3072")
        functionaries: dict[str, str] = {}
        for name, algorithm, subkey in FUNCTIONARIES:
            fingerprint = new_key(home, name, algorithm, usage="cert" if subkey else "sign")
            if subkey:
                add_subkey(home, fingerprint, subkey)
            functionaries[name] = fingerprint
        yield home, owner, functionaries


def _layout(work: Path, home: Path, fingerprint: str) -> Path:
    (work / "root.toml").write_text(LAYOUT_TOML.format(fingerprint=fingerprint, home=home))
    assert (
        main(["layout", "create", str(work / "root.toml"), "-o", "root.layout", "--unsigned"]) == 0
    )
    return work / "root.layout"


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "foo.py").write_text("print('hello')\n")
    return tmp_path


@pytest.mark.parametrize("name", [name for name, _, _ in FUNCTIONARIES])
def test_reference_gpg_signed_chain_verifies_with_intoto_pip(
    gpg_keys: tuple[Path, str, dict[str, str]], work: Path, reference_cli: ReferenceCLI, name: str
) -> None:
    home, owner, functionaries = gpg_keys
    _layout(work, home, functionaries[name])
    gpg = ["--gpg-home", str(home)]
    signed = reference_cli.run("in-toto-sign", "-f", "root.layout", "--gpg", owner, *gpg, cwd=work)
    assert signed.returncode == 0, signed.stderr
    ran = reference_cli.run(
        "in-toto-run", "-n", "build", "--gpg", functionaries[name], *gpg, "-p", "foo.py",
        "-x", cwd=work,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    assert main(["verify", "-l", "root.layout", "--gpg", owner, "--gpg-home", str(home)]) == 0


@pytest.mark.parametrize("name", [name for name, _, _ in FUNCTIONARIES])
def test_intoto_pip_gpg_signed_chain_verifies_with_the_reference(
    gpg_keys: tuple[Path, str, dict[str, str]], work: Path, reference_cli: ReferenceCLI, name: str
) -> None:
    home, owner, functionaries = gpg_keys
    _layout(work, home, functionaries[name])
    gpg = ["--gpg-home", str(home)]
    assert main(["sign", "-f", "root.layout", "--gpg", owner, *gpg]) == 0
    assert (
        main(["run", "-n", "build", "--gpg", functionaries[name], *gpg, "-p", "foo.py", "-x"]) == 0
    )
    done = reference_cli.run(
        "in-toto-verify", "-l", "root.layout", "--gpg", owner, "--gpg-home", home, cwd=work
    )
    assert done.returncode == 0, done.stderr


def test_record_start_and_stop_sign_with_gpg(
    gpg_keys: tuple[Path, str, dict[str, str]], work: Path, reference_cli: ReferenceCLI
) -> None:
    home, owner, functionaries = gpg_keys
    _layout(work, home, functionaries["ed25519"])
    gpg = ["--gpg", functionaries["ed25519"], "--gpg-home", str(home)]
    assert main(["record", "start", "-n", "build", *gpg]) == 0
    assert main(["record", "stop", "-n", "build", *gpg, "-p", "foo.py"]) == 0
    assert main(["sign", "-f", "root.layout", "--gpg", owner, "--gpg-home", str(home)]) == 0
    assert (
        main(["sign", "-f", "root.layout", "--gpg", owner, "--gpg-home", str(home), "--verify"])
        == 0
    )
    verify = ["verify", "-l", "root.layout", "--gpg", owner, "--gpg-home", str(home)]
    assert main(verify) == 0
    done = reference_cli.run(
        "in-toto-verify", "-l", "root.layout", "--gpg", owner, "--gpg-home", home, cwd=work
    )
    assert done.returncode == 0, done.stderr


def test_gpg_flags_are_checked(
    gpg_keys: tuple[Path, str, dict[str, str]], work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home, owner, _ = gpg_keys
    both = ["run", "-n", "x", "--gpg", owner, "--signing-key", "k", "-x"]
    dsse = ["run", "-n", "x", "--gpg", owner, "--gpg-home", str(home), "--use-dsse", "-x"]
    for args in (both, dsse, ["run", "-n", "x", "-x"], ["sign", "-f", "x", "--gpg", "--verify"]):
        assert main(args) == 2
    err = capsys.readouterr().err
    assert "give either --signing-key PEM or --gpg [KEYID], not both or neither" in err
    assert "GPG signatures go into Metablock envelopes only" in err
