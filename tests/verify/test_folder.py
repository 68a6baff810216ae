"""Folder mode: the engine fed from disk, inspections in a real working folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from intoto_pip.errors import InputError, MetadataError, SignatureError
from intoto_pip.models.envelope import dump_envelope
from intoto_pip.store import link_filename, sublayout_dirname
from intoto_pip.verify.folder import FolderOptions, names_below, verify_folder
from intoto_pip.verify.result import ArtifactRuleError
from tests.verify.builders import (
    NOW,
    MemorySource,
    files,
    inspection,
    key,
    layout,
    link,
    sign,
    step,
    write_source,
)

PRODUCTS = files({"app.py": "print(1)"})
UNTAR_RULES = [
    "MATCH app.py WITH PRODUCTS FROM build",
    "ALLOW root.layout",
    "DISALLOW *",
]


def chain(tmp_path: Path, *, sub: bool = False) -> FolderOptions:
    """root.layout + links in ``tmp_path``; inspection 'check' runs there too."""
    value = layout(
        [step("build", ["alice"], products=["CREATE app.py", "DISALLOW *"])],
        functionaries=["alice"],
        inspect=[inspection("check", ["true"], materials=UNTAR_RULES, products=UNTAR_RULES)],
    )
    (tmp_path / "root.layout").write_bytes(dump_envelope(sign(value, "owner")))
    (tmp_path / "app.py").write_text("print(1)")
    source = MemorySource()
    if sub:
        inner = layout([step("compile", ["bob"], products=["CREATE *"])], functionaries=["bob"])
        source.add("build", "alice", sign(inner, "alice"))
        source.folder("build", "alice").add_link("bob", link("compile", products=PRODUCTS))
    else:
        source.add_link("alice", link("build", products=PRODUCTS), dsse=True)
    write_source(tmp_path, source)
    return FolderOptions(
        layout_path=tmp_path / "root.layout",
        layout_keys=(key("owner"),),
        link_dir=tmp_path,
        workdir=tmp_path,
        now=NOW,
    )


@pytest.mark.parametrize("sub", [False, True])
def test_links_read_are_left_out_of_inspection(tmp_path: Path, sub: bool) -> None:
    result = verify_folder(chain(tmp_path, sub=sub))
    assert result.inspections[0].materials == 2  # app.py and root.layout, no link files


def test_other_link_files_are_seen_by_inspections(tmp_path: Path) -> None:
    options = chain(tmp_path)
    (tmp_path / "notes.link").write_text("not read by the verification")
    with pytest.raises(ArtifactRuleError, match=r"disallowed materials: 'notes\.link'"):
        verify_folder(options)


def test_unreadable_layout_is_input_error(tmp_path: Path) -> None:
    options = chain(tmp_path)
    (tmp_path / "root.layout").unlink()
    with pytest.raises(InputError, match=r"root\.layout: cannot be read"):
        verify_folder(options)


def test_malformed_layout_is_metadata_error(tmp_path: Path) -> None:
    options = chain(tmp_path)
    (tmp_path / "root.layout").write_text('{"signed": {}, "signed": {}}')
    with pytest.raises(MetadataError, match="duplicate key"):
        verify_folder(options)


def test_malformed_link_names_its_path(tmp_path: Path) -> None:
    options = chain(tmp_path)
    path = tmp_path / link_filename("build", key("alice").keyid)
    path.write_text("[]")
    with pytest.raises(MetadataError) as caught:
        verify_folder(options)
    assert str(path) in str(caught.value)


def test_missing_sublayout_folder_is_missing_links(tmp_path: Path) -> None:
    options = chain(tmp_path, sub=True)
    folder = tmp_path / sublayout_dirname("build", key("alice").keyid)
    for item in folder.iterdir():
        item.unlink()
    folder.rmdir()
    with pytest.raises(SignatureError, match="step 'compile' needs 1 link"):
        verify_folder(options)


def test_names_below(tmp_path: Path) -> None:
    inside = {tmp_path / "links" / "a.link", tmp_path / "b.link"}
    outside = {tmp_path.parent / "elsewhere.link"}
    assert names_below(inside | outside, tmp_path) == {"links/a.link", "b.link"}


def _threshold_chain(tmp_path: Path, threshold: int) -> FolderOptions:
    """Three functionaries sign 'build'; carol's link on disk has a signature that is not hex."""
    who = ["alice", "bob", "carol"]
    value = layout(
        [step("build", who, threshold=threshold, products=["CREATE app.py", "DISALLOW *"])],
        functionaries=who,
    )
    (tmp_path / "root.layout").write_bytes(dump_envelope(sign(value, "owner")))
    source = MemorySource()
    for name in who:
        source.add_link(name, link("build", products=PRODUCTS))
    write_source(tmp_path, source)
    carol = tmp_path / link_filename("build", key("carol").keyid)
    document = json.loads(carol.read_text())
    document["signatures"][0]["sig"] = "not-hex!"
    carol.write_text(json.dumps(document))
    return FolderOptions(
        layout_path=tmp_path / "root.layout",
        layout_keys=(key("owner"),),
        link_dir=tmp_path,
        workdir=tmp_path,
        now=NOW,
    )


def test_link_with_a_malformed_signature_is_set_aside(tmp_path: Path) -> None:
    # As the reference and in-toto-golang: an invalid link is ignored, not fatal.
    result = verify_folder(_threshold_chain(tmp_path, threshold=2))
    carol = key("carol").keyid
    assert result.steps[0].signers == (key("alice").keyid, key("bob").keyid)
    assert [item.keyid for item in result.steps[0].rejected] == [carol]
    assert "signatures[0].sig: not hex" in result.steps[0].rejected[0].reason


def test_threshold_unmet_names_the_links_set_aside_and_why(tmp_path: Path) -> None:
    with pytest.raises(SignatureError) as caught:
        verify_folder(_threshold_chain(tmp_path, threshold=3))
    message = str(caught.value)
    assert "step 'build' needs 3 link(s) signed by distinct authorised keys, found 2" in message
    assert str(tmp_path / link_filename("build", key("carol").keyid)) in message
    assert "signatures[0].sig: not hex" in message


def test_link_as_in_toto_golang_writes_it_with_an_empty_cert_verifies(tmp_path: Path) -> None:
    options = _threshold_chain(tmp_path, threshold=2)
    alice = tmp_path / link_filename("build", key("alice").keyid)
    document = json.loads(alice.read_text())
    document["signatures"][0]["cert"] = ""
    alice.write_text(json.dumps(document))
    assert verify_folder(options).steps[0].signers[0] == key("alice").keyid
