"""The committed adversarial cases are what fixtures/adversarial.py makes: a drift test.

ed25519 signatures are deterministic, so most files must match byte for byte. Files carrying
RSA-PSS or ECDSA signatures (marked ``random`` in the manifest) must match once every
signature value is blanked out. Files holding deflate output match byte for byte under the
zlib they were made with (recorded in the manifest).
"""

from __future__ import annotations

import json
import zlib
from pathlib import Path
from typing import Any

import pytest

from fixtures.adversarial import MANIFEST, OUT, generate

Manifest = dict[str, dict[str, Any]]


def _manifest(base: Path) -> Manifest:
    manifest: Manifest = json.loads((base / MANIFEST).read_text())
    return manifest


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("adversarial")
    generate(out)
    return out


def _without_signatures(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: "" if k == "sig" else _without_signatures(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_signatures(item) for item in value]
    return value


def test_same_set_of_files(fresh: Path) -> None:
    assert sorted(_manifest(fresh)) == sorted(_manifest(OUT)), "rerun fixtures/adversarial.py"
    on_disk = {str(p.relative_to(OUT)) for p in OUT.rglob("*") if p.is_file()}
    assert on_disk == {*_manifest(OUT), MANIFEST}, "files on disk that the manifest lacks"


def test_deterministic_files_match_byte_for_byte(fresh: Path) -> None:
    new = _manifest(fresh)
    for name, entry in _manifest(OUT).items():
        assert entry["random"] == new[name]["random"], name
        assert entry["executable"] == new[name]["executable"], name
        # Deflate output may differ under another zlib build (zlib-ng, say): compare those
        # bytes only under the zlib the committed files were made with.
        same_zlib = entry["zlib"] in (None, zlib.ZLIB_RUNTIME_VERSION)
        if not entry["random"] and same_zlib:
            assert entry["sha256"] == new[name]["sha256"], f"{name} drifted; rerun the generator"


def test_randomly_signed_files_match_without_signatures(fresh: Path) -> None:
    randomised = [name for name, entry in _manifest(OUT).items() if entry["random"]]
    assert randomised, "the RSA and ECDSA cases are gone"
    for name in randomised:
        old = json.loads((OUT / name).read_bytes())
        new = json.loads((fresh / name).read_bytes())
        assert _without_signatures(old) == _without_signatures(new), f"{name} drifted"


def test_committed_files_match_the_manifest() -> None:
    import hashlib

    for name, entry in _manifest(OUT).items():
        digest = hashlib.sha256((OUT / name).read_bytes()).hexdigest()
        assert digest == entry["sha256"], f"{name} was edited by hand; rerun the generator"
