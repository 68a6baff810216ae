"""Finding metadata: embedded, detached beside, --metadata DIR, out of band; caps; link source."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from intoto_pip.archives import evidence as metadata
from intoto_pip.archives.evidence import (
    MemoryLinkSource,
    MetadataQuery,
    NoMetadataError,
    find_metadata,
)
from intoto_pip.errors import InputError, MetadataError
from intoto_pip.models.envelope import dump_envelope, sign_payload
from tests.support.signing import Project, link_payload

PREFIX = "demo-1.0.dist-info/in-toto/"


class FakeArchive:
    def __init__(self, members: dict[str, bytes]) -> None:
        self.members = members

    def names(self) -> Sequence[str]:
        return list(self.members)

    def read(self, name: str) -> bytes:
        return self.members[name]


def _query(path: Path, **kwargs: object) -> MetadataQuery:
    return MetadataQuery(archive_path=path, embedded_prefix=PREFIX, **kwargs)  # type: ignore[arg-type]


def test_embedded_metadata_is_read_from_the_archive(tmp_path: Path) -> None:
    archive = FakeArchive(
        {
            "demo/__init__.py": b"",
            PREFIX + "root.layout": b"LAYOUT",
            PREFIX + "build.abcdef12.link": b"LINK",
            PREFIX + "sub.12345678/inner.aaaaaaaa.link": b"INNER",
        }
    )
    found = find_metadata(_query(tmp_path / "demo.whl"), archive)
    assert found.mode == "embedded"
    assert found.layout == b"LAYOUT"
    assert found.files == {
        "build.abcdef12.link": b"LINK",
        "sub.12345678/inner.aaaaaaaa.link": b"INNER",
    }
    assert found.layout_origin == f"demo.whl:{PREFIX}root.layout"


def test_detached_folder_beside_the_archive(tmp_path: Path) -> None:
    folder = tmp_path / "demo.whl.intoto"
    (folder / "sub.12345678").mkdir(parents=True)
    (folder / "root.layout").write_bytes(b"L")
    (folder / "sub.12345678" / "x.aaaaaaaa.link").write_bytes(b"X")
    found = find_metadata(_query(tmp_path / "demo.whl"), FakeArchive({}))
    assert found.mode == "detached"
    assert found.layout == b"L"
    assert found.files == {"sub.12345678/x.aaaaaaaa.link": b"X"}


def test_metadata_dir_wins_over_embedded(tmp_path: Path) -> None:
    given = tmp_path / "meta" / "demo.whl.intoto"
    given.mkdir(parents=True)
    (given / "root.layout").write_bytes(b"GIVEN")
    archive = FakeArchive({PREFIX + "root.layout": b"EMBEDDED"})
    found = find_metadata(_query(tmp_path / "demo.whl", metadata_dir=tmp_path / "meta"), archive)
    assert (found.mode, found.layout) == ("detached", b"GIVEN")


def test_metadata_dir_itself_only_when_direct(tmp_path: Path) -> None:
    (tmp_path / "meta").mkdir()
    (tmp_path / "meta" / "root.layout").write_bytes(b"DIRECT")
    direct = _query(tmp_path / "demo.whl", metadata_dir=tmp_path / "meta", metadata_dir_direct=True)
    assert find_metadata(direct, FakeArchive({})).layout == b"DIRECT"
    indirect = _query(tmp_path / "demo.whl", metadata_dir=tmp_path / "meta")
    with pytest.raises(NoMetadataError, match="no in-toto metadata"):
        find_metadata(indirect, FakeArchive({}))


def test_no_metadata_names_every_place_looked(tmp_path: Path) -> None:
    with pytest.raises(NoMetadataError) as caught:
        find_metadata(_query(tmp_path / "demo.whl"), FakeArchive({"demo/x.py": b""}))
    assert PREFIX in str(caught.value) and "demo.whl.intoto/" in str(caught.value)


def test_in_toto_folder_without_layout_is_malformed(tmp_path: Path) -> None:
    archive = FakeArchive({PREFIX + "build.abcdef12.link": b"LINK"})
    with pytest.raises(MetadataError, match=r"no root\.layout") as caught:
        find_metadata(_query(tmp_path / "demo.whl"), archive)
    assert not isinstance(caught.value, NoMetadataError)


def test_out_of_band_layout_replaces_shipped_one(tmp_path: Path) -> None:
    override = tmp_path / "oob.layout"
    override.write_bytes(b"OOB")
    archive = FakeArchive({PREFIX + "root.layout": b"SHIPPED", PREFIX + "a.12345678.link": b"A"})
    found = find_metadata(_query(tmp_path / "demo.whl", layout_override=override), archive)
    assert found.layout == b"OOB"
    assert found.files == {"a.12345678.link": b"A"}
    assert "out-of-band" in found.layout_origin


def test_unreadable_out_of_band_layout_is_a_usage_error(tmp_path: Path) -> None:
    query = _query(tmp_path / "demo.whl", layout_override=tmp_path / "missing.layout")
    with pytest.raises(InputError):
        find_metadata(query, FakeArchive({PREFIX + "root.layout": b"SHIPPED"}))


def test_caps_on_metadata_count(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(metadata, "MAX_FILES", 2)
    members = {PREFIX + f"s.{i:08x}.link": b"x" for i in range(3)}
    members[PREFIX + "root.layout"] = b"L"
    with pytest.raises(MetadataError, match="more than 2 metadata files"):
        find_metadata(_query(tmp_path / "demo.whl"), FakeArchive(members))


def test_symlinks_in_a_detached_folder_are_ignored(tmp_path: Path) -> None:
    folder = tmp_path / "demo.whl.intoto"
    folder.mkdir()
    (folder / "root.layout").write_bytes(b"L")
    secret = tmp_path / "secret"
    secret.write_bytes(b"S")
    (folder / "step.12345678.link").symlink_to(secret)
    found = find_metadata(_query(tmp_path / "demo.whl"), FakeArchive({}))
    assert found.files == {}


def test_memory_link_source_finds_links_and_sublayouts(tmp_path: Path) -> None:
    project = Project(tmp_path / "keys")
    keyid = project.functionary.public.keyid
    link = dump_envelope(
        sign_payload(link_payload("build", {}), [project.functionary.signer], dsse=False)
    )
    files = {f"build.{keyid[:8]}.link": link, f"outer.{keyid[:8]}/build.{keyid[:8]}.link": link}
    source = MemoryLinkSource(files=files, label="x.whl:")
    found = source.links_for("build", [keyid, "f" * 64])
    assert list(found) == [keyid]
    assert found[keyid].payload["name"] == "build"
    inner = source.sublayout_source("outer", keyid)
    assert list(inner.links_for("build", [keyid])) == [keyid]
    assert inner.location("build", keyid) == f"x.whl:outer.{keyid[:8]}/build.{keyid[:8]}.link"


def test_memory_link_source_refuses_malformed_link(tmp_path: Path) -> None:
    source = MemoryLinkSource(files={"build.abcdef12.link": b"{not json"}, label="x.whl:")
    with pytest.raises(MetadataError, match=r"build\.abcdef12\.link"):
        source.links_for("build", ["abcdef12" + "0" * 56])
