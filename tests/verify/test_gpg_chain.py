"""A supply chain the reference signed with GPG keys verifies in folder mode, no gpg needed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from fixtures.gpg.generate import DATA
from intoto_pip.errors import SignatureError
from intoto_pip.verify.folder import FolderOptions, verify_folder
from tests.support.gpg import NOW, keydict, reference_key


def _options(tmp_path: Path, *, now=NOW, keys=None) -> FolderOptions:  # type: ignore[no-untyped-def]
    return FolderOptions(
        layout_path=DATA / "root.layout",
        layout_keys=keys or (reference_key("rsa"),),
        link_dir=tmp_path,
        workdir=tmp_path,
        now=now,
    )


def _links(tmp_path: Path) -> Path:
    for path in DATA.glob("build.*.link"):
        shutil.copy(path, tmp_path / path.name)
    return tmp_path


def test_the_reference_chain_verifies_with_a_link_filed_under_the_subkey(tmp_path: Path) -> None:
    (subkeyid,) = keydict("rsa-subkey")["subkeys"]
    assert (_links(tmp_path) / f"build.{subkeyid[:8]}.link").exists()
    result = verify_folder(_options(tmp_path))
    assert [step.signers for step in result.steps] == [(keydict("rsa-subkey")["keyid"],)]


def test_a_link_filed_under_the_primary_keyid_counts_too(tmp_path: Path) -> None:
    (source,) = DATA.glob("build.*.link")
    shutil.copy(source, tmp_path / f"build.{keydict('rsa-subkey')['keyid'][:8]}.link")
    verify_folder(_options(tmp_path))


def test_the_layout_must_be_signed_by_the_gpg_layout_key(tmp_path: Path) -> None:
    with pytest.raises(SignatureError, match="layout: no valid signature by key"):
        verify_folder(_options(_links(tmp_path), keys=(reference_key("dsa"),)))


def test_an_expired_gpg_layout_key_is_refused_with_its_date(tmp_path: Path) -> None:
    import dataclasses

    expired = dataclasses.replace(reference_key("rsa"), validity_period=86_400)
    with pytest.raises(SignatureError, match=r"layout: GPG key [0-9a-f]{40} expired on 2020-01-02"):
        verify_folder(_options(_links(tmp_path), keys=(expired,)))


def test_a_link_by_an_expired_subkey_is_set_aside_with_its_date(tmp_path: Path) -> None:
    from intoto_pip.models.envelope import dump_envelope, sign_payload
    from tests.verify.builders import signer

    functionary = keydict("expired-subkey")
    layout = {
        "_type": "layout",
        "expires": "2036-01-01T00:00:00Z",
        "keys": {functionary["keyid"]: functionary},
        "readme": "",
        "steps": [
            {
                "_type": "step",
                "name": "build",
                "pubkeys": [functionary["keyid"]],
                "threshold": 1,
                "expected_command": [],
                "expected_materials": [],
                "expected_products": [],
            }
        ],
        "inspect": [],
    }
    owner = signer("owner")
    (tmp_path / "root.layout").write_bytes(dump_envelope(sign_payload(layout, [owner], dsse=False)))
    shutil.copy(DATA / "expired-subkey.link", tmp_path / f"build.{functionary['keyid'][:8]}.link")
    options = FolderOptions(
        layout_path=tmp_path / "root.layout",
        layout_keys=(owner.public_key,),
        link_dir=tmp_path,
        workdir=tmp_path,
        now=NOW,
    )
    with pytest.raises(SignatureError, match=r"found 0 .*GPG subkey \w+ expired on 2020-12-31"):
        verify_folder(options)
