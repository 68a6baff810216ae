"""match_products: differences between local files and a link's products, any envelope."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from intoto_pip.artifacts.collect import RecordOptions
from intoto_pip.models.envelope import dump_envelope, sign_payload
from intoto_pip.produce.common import link_payload
from intoto_pip.produce.match import match_products


def sha(data: bytes) -> dict[str, str]:
    return {"sha256": hashlib.sha256(data).hexdigest()}


@pytest.mark.parametrize("dsse", [False, True])
def test_differences(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dsse: bool) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "same").write_bytes(b"same")
    (tmp_path / "changed").write_bytes(b"new")
    (tmp_path / "extra").write_bytes(b"extra")
    products = {"same": sha(b"same"), "changed": sha(b"old"), "gone": sha(b"gone")}
    payload = link_payload("s", materials={}, products=products, byproducts={})
    link = tmp_path / "s.link"
    link.write_bytes(dump_envelope(sign_payload(payload, [], dsse=dsse)))
    result = match_products(link)
    assert not result.matches
    assert result.only_in_products == ("gone",)
    assert result.not_in_products == ("extra",)
    assert result.differ == ("changed",)
    narrowed = match_products(link, ["same", "changed"], RecordOptions(exclude=("changed",)))
    assert narrowed.not_in_products == () and narrowed.differ == ()
    assert narrowed.only_in_products == ("changed", "gone")


def test_exact_match(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "f").write_bytes(b"f")
    payload = link_payload("s", materials={}, products={"f": sha(b"f")}, byproducts={})
    link = tmp_path / "s.link"
    link.write_bytes(dump_envelope(sign_payload(payload, [], dsse=False)))
    options = RecordOptions(base_path=tmp_path, lstrip_paths=("d/",))
    assert match_products(link, ["d"], options).matches
