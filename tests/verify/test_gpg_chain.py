"""A supply chain the reference signed with GPG keys verifies in folder mode, no gpg needed."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

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


def _threshold_layout(keys: dict[str, Any], threshold: int) -> dict[str, object]:
    return {
        "_type": "layout",
        "expires": "2036-01-01T00:00:00Z",
        "keys": keys,
        "readme": "",
        "steps": [
            {
                "_type": "step",
                "name": "build",
                "pubkeys": list(keys),
                "threshold": threshold,
                "expected_command": [],
                "expected_materials": [],
                "expected_products": [],
            }
        ],
        "inspect": [],
    }


def test_a_subkey_listed_beside_its_primary_is_one_functionary() -> None:
    from intoto_pip.errors import MetadataError
    from intoto_pip.models.layout import Layout

    primary = keydict("rsa-subkey")
    ((subkeyid, subkey),) = primary["subkeys"].items()
    layout = _threshold_layout({primary["keyid"]: primary, subkeyid: subkey}, threshold=2)
    with pytest.raises(MetadataError, match="threshold: 2 is more than the 1 distinct key"):
        Layout.from_dict(layout)


def test_one_rsa_key_as_pem_and_as_gpg_is_one_functionary() -> None:
    from cryptography.hazmat.primitives import serialization

    from intoto_pip.crypto.keys import public_key_from_pem
    from intoto_pip.errors import MetadataError
    from intoto_pip.models.layout import Layout

    gpg_key = reference_key("rsa")
    pem = gpg_key.crypto_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    pem_key = public_key_from_pem(pem, source="pem")
    keys = {gpg_key.keyid: gpg_key.to_keydict(), pem_key.keyid: pem_key.to_keydict()}
    with pytest.raises(MetadataError, match="threshold: 2 is more than the 1 distinct key"):
        Layout.from_dict(_threshold_layout(keys, threshold=2))
