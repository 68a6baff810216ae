"""The committed fixtures are what fixtures/generate.py makes: a drift test.

ed25519 signatures are deterministic, so files signed by the owner key must match byte for
byte. RSA-PSS (alice) and ECDSA (bob) signatures are randomised, so for those the test checks
that both versions carry the same payload and that both signatures verify.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from fixtures.generate import KEYS, ROOT, generate
from intoto_pip.crypto.keys import load_public_key
from intoto_pip.models.envelope import parse_envelope, verified_keys

COMMITTED = ROOT / "metadata"
DETERMINISTIC_SIGNER = "owner"


def _manifest(base: Path) -> dict[str, str]:
    manifest: dict[str, str] = json.loads((base / "MANIFEST.json").read_text())
    return manifest


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("fixtures")
    generate(out)
    return out


def test_same_set_of_files(fresh: Path) -> None:
    assert sorted(_manifest(fresh)) == sorted(_manifest(COMMITTED))
    on_disk = {str(path.relative_to(COMMITTED)) for path in COMMITTED.rglob("*") if path.is_file()}
    assert on_disk == {*_manifest(COMMITTED), "MANIFEST.json"}


def _is_metadata(name: str) -> bool:
    return name.endswith((".link", ".layout"))


def test_metadata_payloads_and_signatures_match(fresh: Path) -> None:
    keys = [load_public_key(KEYS / f"{name}.pub") for name in ("owner", "alice", "bob")]
    for name in filter(_is_metadata, _manifest(COMMITTED)):
        old = parse_envelope((COMMITTED / name).read_bytes(), what=name)
        new = parse_envelope((fresh / name).read_bytes(), what=name)
        assert old.kind == new.kind, name
        assert old.payload == new.payload, f"{name}: payload drifted; rerun fixtures/generate.py"
        old_signers = [key.keyid for key in verified_keys(old, keys)]
        assert old_signers, f"{name}: committed signature does not verify"
        assert old_signers == [key.keyid for key in verified_keys(new, keys)], name


def test_deterministic_files_match_byte_for_byte(fresh: Path) -> None:
    for name, digest in _manifest(COMMITTED).items():
        deterministic = not _is_metadata(name) or name in (
            "chain/root.layout",
            f"signed/metablock-{DETERMINISTIC_SIGNER}.link",
            f"signed/dsse-{DETERMINISTIC_SIGNER}.link",
        )
        if deterministic:
            assert _manifest(fresh)[name] == digest, f"{name} drifted; rerun fixtures/generate.py"


def test_reference_accepts_the_fixture_chain(tmp_path: Path) -> None:
    verify = Path(sys.executable).parent / "in-toto-verify"
    result = subprocess.run(
        [
            str(verify),
            "--layout",
            "root.layout",
            "--verification-keys",
            str(KEYS / "owner.pub"),
        ],
        cwd=COMMITTED / "chain",
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
