"""Embedding metadata: member order, RECORD, normalised modes and times, replace rules."""

from __future__ import annotations

import gzip
import io
import tarfile
import zipfile
from pathlib import Path

import pytest

from intoto_pip.archives.checked import open_checked
from intoto_pip.errors import InputError
from intoto_pip.produce.embed import (
    EmbedOptions,
    Evidence,
    Target,
    embed,
    embedded_files,
    source_date_epoch,
)
from tests.archives.builders import make_sdist, metadata_text

WHEEL_TARGET = Target(
    kind="wheel", intoto_dir="demo-1.0.dist-info/in-toto/", record="demo-1.0.dist-info/RECORD"
)
SDIST_TARGET = Target(kind="sdist", intoto_dir="demo-1.0/.in-toto/")
EVIDENCE = Evidence(
    layout=b"LAYOUT",
    links={"z.12345678.link": b"Z", "a.12345678.link": b"A", "s.1234abcd/b.1234abcd.link": b"B"},
)
T_1990 = (1990, 1, 2, 3, 4, 6)
T_2000 = (2000, 1, 1, 0, 0, 0)


def raw_wheel(path: Path, members: list[tuple[str, bytes, int, tuple[int, ...]]]) -> Path:
    """A wheel with members in the given order, each with a mode and a time (RECORD given)."""
    with zipfile.ZipFile(path, "w") as archive:
        for name, data, mode, when in members:
            info = zipfile.ZipInfo(name, when)  # type: ignore[arg-type]
            info.external_attr = (0o100000 | mode) << 16
            archive.writestr(info, data)
    return path


def demo_wheel(tmp_path: Path) -> Path:
    dist = "demo-1.0.dist-info"
    metadata = metadata_text("demo", "1.0")
    wheel_meta = b"Wheel-Version: 1.0\nGenerator: t\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    return raw_wheel(
        tmp_path / "demo-1.0-py3-none-any.whl",
        [
            (f"{dist}/METADATA", metadata, 0o600, T_1990),
            ("demo/run.sh", b"#!/bin/sh\n", 0o700, T_2000),
            (f"{dist}/RECORD", b"stale,,\n", 0o600, T_1990),
            (f"{dist}/WHEEL", wheel_meta, 0o666, T_1990),
            ("demo/__init__.py", b"X = 1\n", 0o600, T_1990),
        ],
    )


def infos(path: Path) -> list[zipfile.ZipInfo]:
    with zipfile.ZipFile(path) as archive:
        return archive.infolist()


def test_wheel_order_is_payload_then_dist_info_then_in_toto_then_record(tmp_path: Path) -> None:
    out = tmp_path / "out" / "demo-1.0-py3-none-any.whl"
    out.parent.mkdir()
    embed(demo_wheel(tmp_path), out, WHEEL_TARGET, EVIDENCE, EmbedOptions())
    assert [info.filename for info in infos(out)] == [
        "demo/run.sh",
        "demo/__init__.py",
        "demo-1.0.dist-info/METADATA",
        "demo-1.0.dist-info/WHEEL",
        "demo-1.0.dist-info/in-toto/root.layout",
        "demo-1.0.dist-info/in-toto/a.12345678.link",
        "demo-1.0.dist-info/in-toto/s.1234abcd/b.1234abcd.link",
        "demo-1.0.dist-info/in-toto/z.12345678.link",
        "demo-1.0.dist-info/RECORD",
    ]
    # The regenerated RECORD passes the strict check, and the payload bytes are unchanged.
    with open_checked(out) as checked:
        assert checked.read("demo/run.sh") == b"#!/bin/sh\n"
        assert checked.products == [
            "demo/run.sh",
            "demo/__init__.py",
            "demo-1.0.dist-info/METADATA",
            "demo-1.0.dist-info/WHEEL",
        ]
    assert embedded_files(out, WHEEL_TARGET) == EVIDENCE.files()


def test_wheel_modes_are_normalised_and_times_kept_without_sde(tmp_path: Path) -> None:
    out = tmp_path / "demo-1.0-py3-none-any.whl"
    embed(demo_wheel(tmp_path), out, WHEEL_TARGET, EVIDENCE, EmbedOptions())
    by_name = {info.filename: info for info in infos(out)}
    assert by_name["demo/run.sh"].external_attr >> 16 == 0o100755
    assert by_name["demo/__init__.py"].external_attr >> 16 == 0o100644
    assert by_name["demo-1.0.dist-info/WHEEL"].external_attr >> 16 == 0o100644
    assert {info.create_system for info in by_name.values()} == {3}
    assert by_name["demo/run.sh"].date_time == T_2000
    assert by_name["demo/__init__.py"].date_time == T_1990
    # New members take the newest time found; RECORD keeps its own.
    assert by_name["demo-1.0.dist-info/in-toto/root.layout"].date_time == T_2000
    assert by_name["demo-1.0.dist-info/RECORD"].date_time == T_1990


@pytest.mark.parametrize(
    ("epoch", "expected"),
    [(1700000000, (2023, 11, 14, 22, 13, 20)), (0, (1980, 1, 1, 0, 0, 0))],
)
def test_wheel_times_come_from_sde_clamped_to_zip_range(
    tmp_path: Path, epoch: int, expected: tuple[int, ...]
) -> None:
    out = tmp_path / "demo-1.0-py3-none-any.whl"
    embed(demo_wheel(tmp_path), out, WHEEL_TARGET, EVIDENCE, EmbedOptions(source_date_epoch=epoch))
    assert {info.date_time for info in infos(out)} == {expected}


def test_wheel_rewritten_in_place(tmp_path: Path) -> None:
    wheel = demo_wheel(tmp_path)
    embed(wheel, wheel, WHEEL_TARGET, EVIDENCE, EmbedOptions())
    assert embedded_files(wheel, WHEEL_TARGET) == EVIDENCE.files()
    assert [p.name for p in tmp_path.iterdir()] == [wheel.name]


def test_different_metadata_is_refused_unless_replace(tmp_path: Path) -> None:
    wheel = demo_wheel(tmp_path)
    embed(wheel, wheel, WHEEL_TARGET, EVIDENCE, EmbedOptions())
    before = wheel.read_bytes()
    # The same metadata again is no conflict.
    embed(wheel, wheel, WHEEL_TARGET, EVIDENCE, EmbedOptions())
    other = Evidence(layout=b"OTHER")
    with pytest.raises(InputError, match=r"already carries different in-toto metadata.*--replace"):
        embed(wheel, wheel, WHEEL_TARGET, other, EmbedOptions())
    assert wheel.read_bytes() == before
    embed(wheel, wheel, WHEEL_TARGET, other, EmbedOptions(replace=True))
    assert embedded_files(wheel, WHEEL_TARGET) == {"root.layout": b"OTHER"}


def sdist_with_clutter(tmp_path: Path) -> Path:
    return make_sdist(
        tmp_path,
        "demo",
        "1.0",
        {"pyproject.toml": b"[project]\n", "run.sh": b"#!/bin/sh\n"},
        extra_members={"demo-1.0/.in-toto/old.12345678.link": b"OLD"},
    )


def test_sdist_gets_dot_in_toto_and_normalised_headers(tmp_path: Path) -> None:
    source = sdist_with_clutter(tmp_path)
    out = tmp_path / "out.tar.gz"
    embed(
        source,
        out,
        SDIST_TARGET,
        EVIDENCE,
        EmbedOptions(source_date_epoch=1234567890, replace=True),
    )
    with tarfile.open(out, "r:gz") as tar:
        members = tar.getmembers()
    assert [m.name for m in members] == [
        "demo-1.0",
        "demo-1.0/PKG-INFO",
        "demo-1.0/pyproject.toml",
        "demo-1.0/run.sh",
        "demo-1.0/.in-toto/root.layout",
        "demo-1.0/.in-toto/a.12345678.link",
        "demo-1.0/.in-toto/s.1234abcd/b.1234abcd.link",
        "demo-1.0/.in-toto/z.12345678.link",
    ]
    assert {(m.uid, m.gid, m.uname, m.gname, m.mtime) for m in members} == {
        (0, 0, "", "", 1234567890)
    }
    assert {m.name: m.mode for m in members}["demo-1.0"] == 0o755
    assert {m.mode for m in members if m.isfile()} == {0o644}
    with gzip.open(out) as stream:
        stream.read(1)
        assert stream.mtime == 1234567890
    assert embedded_files(out, SDIST_TARGET) == EVIDENCE.files()


def test_sdist_keeps_member_times_and_exec_bits_without_sde(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, mode, mtime in [("demo-1.0/PKG-INFO", 0o600, 100), ("demo-1.0/x.sh", 0o750, 200)]:
            info = tarfile.TarInfo(name)
            info.mode, info.mtime, info.uid, info.uname = mode, mtime, 1000, "someone"
            tar.addfile(info, io.BytesIO(b""))
    source = tmp_path / "demo-1.0.tar.gz"
    source.write_bytes(buffer.getvalue())
    embed(source, source, SDIST_TARGET, EVIDENCE, EmbedOptions())
    with tarfile.open(source, "r:gz") as tar:
        found = {m.name: (m.mode, m.mtime, m.uid, m.uname) for m in tar.getmembers()}
    assert found["demo-1.0/PKG-INFO"] == (0o644, 100, 0, "")
    assert found["demo-1.0/x.sh"] == (0o755, 200, 0, "")
    assert found["demo-1.0/.in-toto/root.layout"] == (0o644, 200, 0, "")


@pytest.mark.parametrize("name", ["root.layout", "../x.link", "/abs.link", "a//b.link"])
def test_evidence_refuses_names_that_cannot_go_into_the_folder(name: str) -> None:
    with pytest.raises(InputError, match="cannot go into an in-toto folder"):
        Evidence(layout=b"L", links={name: b"x"})


@pytest.mark.parametrize(
    ("environ", "expected"),
    [({}, None), ({"SOURCE_DATE_EPOCH": ""}, None), ({"SOURCE_DATE_EPOCH": " 42 "}, 42)],
)
def test_source_date_epoch(environ: dict[str, str], expected: int | None) -> None:
    assert source_date_epoch(environ) == expected


@pytest.mark.parametrize("value", ["-1", "1.5", "soon"])
def test_malformed_source_date_epoch_is_refused(value: str) -> None:
    with pytest.raises(InputError, match="SOURCE_DATE_EPOCH"):
        source_date_epoch({"SOURCE_DATE_EPOCH": value})


def test_target_shape_is_checked() -> None:
    with pytest.raises(ValueError, match="trailing"):
        Target(kind="wheel", intoto_dir="x/in-toto", record="x/RECORD")
    with pytest.raises(ValueError, match="only wheels"):
        Target(kind="sdist", intoto_dir="x/.in-toto/", record="x/RECORD")
