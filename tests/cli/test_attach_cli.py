"""``intoto-pip attach``: embed metadata into archives built elsewhere, then verify them."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from intoto_pip.archives.checked import open_checked
from intoto_pip.cli.main import main
from intoto_pip.produce.embed import final_products
from tests.archives.builders import make_sdist, make_wheel
from tests.backend.support import Keys, in_toto_files, layout_bytes, link_file, make_keys

WHEEL_INTOTO = "demo-1.0.dist-info/in-toto/"


@pytest.fixture
def keys(tmp_path: Path) -> Keys:
    return make_keys(tmp_path / "keys")


def products_of(archive: Path) -> dict[str, str]:
    with open_checked(archive) as checked:
        return {name: digest["sha256"] for name, digest in final_products(checked).items()}


def evidence_for(archive: Path, keys: Keys, folder: Path) -> tuple[Path, Path]:
    """A layout (test, then build) and a links folder whose build link matches ``archive``."""
    folder.mkdir()
    layout = folder / "root.layout"
    layout.write_bytes(
        layout_bytes(keys.owner, [("test", [keys.other]), ("build", [keys.builder])])
    )
    links = folder / "links"
    links.mkdir()
    for name, data in (
        link_file("test", keys.other),
        link_file("build", keys.builder, products_of(archive)),
    ):
        (links / name).write_bytes(data)
    (links / "README.txt").write_text("not a link: ignored")
    return layout, links


def verify(archive: Path, keys: Keys) -> int:
    return main(["verify", str(archive), "--layout-key", str(keys.owner.public_path)])


def test_attach_to_a_wheel_in_place_then_verify(
    tmp_path: Path, keys: Keys, capsys: pytest.CaptureFixture[str]
) -> None:
    wheel = make_wheel(tmp_path, "demo", "1.0", {"demo/__init__.py": b"X = 1\n"})
    layout, links = evidence_for(wheel, keys, tmp_path / "meta")
    assert verify(wheel, keys) == 1
    capsys.readouterr()
    code = main(["attach", str(wheel), "--layout", str(layout), "--link-dir", str(links)])
    assert code == 0
    assert capsys.readouterr().out == f"{wheel}: attached root.layout and 2 link file(s)\n"
    assert sorted(in_toto_files(wheel, WHEEL_INTOTO)) == sorted(
        ["root.layout", link_file("test", keys.other)[0], link_file("build", keys.builder)[0]]
    )
    assert verify(wheel, keys) == 0


def test_attach_to_an_sdist_into_an_output_folder(tmp_path: Path, keys: Keys) -> None:
    sdist = make_sdist(tmp_path, "demo", "1.0", {"pyproject.toml": b"[project]\n"})
    original = sdist.read_bytes()
    layout, links = evidence_for(sdist, keys, tmp_path / "meta")
    out = tmp_path / "signed"
    out.mkdir()
    args = ["attach", str(sdist), "--layout", str(layout), "--link-dir", str(links), "-o", str(out)]
    assert main([*args, "-q"]) == 0
    assert sdist.read_bytes() == original
    assert verify(out / sdist.name, keys) == 0


def test_different_metadata_needs_replace(
    tmp_path: Path, keys: Keys, capsys: pytest.CaptureFixture[str]
) -> None:
    wheel = make_wheel(tmp_path, "demo", "1.0", {"demo/__init__.py": b"X = 1\n"})
    layout, links = evidence_for(wheel, keys, tmp_path / "meta")
    args = ["attach", str(wheel), "--layout", str(layout), "--link-dir", str(links), "-q"]
    assert main(args) == 0
    assert main(args) == 0  # the same metadata again is fine
    new_keys = make_keys(tmp_path / "new-keys")
    layout2, links2 = evidence_for(wheel, new_keys, tmp_path / "meta2")
    args2 = ["attach", str(wheel), "--layout", str(layout2), "--link-dir", str(links2), "-q"]
    capsys.readouterr()
    assert main(args2) == 2
    assert "already carries different in-toto metadata" in capsys.readouterr().err
    assert verify(wheel, keys) == 0
    assert main([*args2, "--replace"]) == 0
    assert verify(wheel, new_keys) == 0
    assert verify(wheel, keys) == 1


def test_links_not_matching_the_archive_are_attached_with_a_warning(
    tmp_path: Path, keys: Keys, capsys: pytest.CaptureFixture[str]
) -> None:
    wheel = make_wheel(tmp_path, "demo", "1.0", {"demo/__init__.py": b"X = 1\n"})
    (tmp_path / "other").mkdir()
    other = make_wheel(tmp_path / "other", "demo", "1.0", {"demo/__init__.py": b"X = 2\n"})
    layout, links = evidence_for(other, keys, tmp_path / "meta")
    assert main(["attach", str(wheel), "--layout", str(layout), "--link-dir", str(links)]) == 0
    err = capsys.readouterr().err
    assert "no link for step 'build'" in err
    assert "verifiers will refuse the archive" in err
    assert verify(wheel, keys) == 1


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        ("layout-garbage", "root.layout"),
        ("layout-missing", "cannot be read"),
        ("links-missing", "link folder"),
        ("output-renamed", "an output file must keep the name demo-1.0-py3-none-any.whl"),
        ("link-garbage", "test."),
    ],
)
def test_bad_input_is_a_usage_error(
    tmp_path: Path, keys: Keys, capsys: pytest.CaptureFixture[str], spoil: str, message: str
) -> None:
    wheel = make_wheel(tmp_path, "demo", "1.0", {"demo/__init__.py": b"X = 1\n"})
    layout, links = evidence_for(wheel, keys, tmp_path / "meta")
    args = ["attach", str(wheel), "--layout", str(layout), "--link-dir", str(links)]
    if spoil == "layout-garbage":
        layout.write_text("{")
    elif spoil == "layout-missing":
        layout.unlink()
    elif spoil == "links-missing":
        args[-1] = str(tmp_path / "nowhere")
    elif spoil == "output-renamed":
        args += ["-o", str(tmp_path / "renamed.whl")]
    else:
        (links / link_file("test", keys.other)[0]).write_text("[]")
    before = wheel.read_bytes()
    assert main(args) == 2
    assert message in capsys.readouterr().err
    assert wheel.read_bytes() == before


def test_zip_sdists_are_refused(
    tmp_path: Path, keys: Keys, capsys: pytest.CaptureFixture[str]
) -> None:
    wheel = make_wheel(tmp_path, "demo", "1.0", {"demo/__init__.py": b"X = 1\n"})
    layout, links = evidence_for(wheel, keys, tmp_path / "meta")
    legacy = tmp_path / "demo-1.0.zip"
    with zipfile.ZipFile(legacy, "w") as archive:
        archive.writestr("demo-1.0/PKG-INFO", "Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n")
    assert main(["attach", str(legacy), "--layout", str(layout), "--link-dir", str(links)]) == 2
    assert "only .tar.gz sdists can carry metadata" in capsys.readouterr().err


def test_attach_as_a_subprocess_honours_source_date_epoch(tmp_path: Path, keys: Keys) -> None:
    wheel = make_wheel(tmp_path, "demo", "1.0", {"demo/__init__.py": b"X = 1\n"})
    layout, links = evidence_for(wheel, keys, tmp_path / "meta")
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1700000000"}
    command = [sys.executable, "-m", "intoto_pip.cli.main", "attach", str(wheel)]
    command += ["--layout", str(layout), "--link-dir", str(links), "-q"]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    with zipfile.ZipFile(wheel) as archive:
        assert {info.date_time for info in archive.infolist()} == {(2023, 11, 14, 22, 13, 20)}


def test_sublayout_folders_are_attached_whole_and_other_files_ignored(
    tmp_path: Path, keys: Keys, capsys: pytest.CaptureFixture[str]
) -> None:
    wheel = make_wheel(tmp_path, "demo", "1.0", {"demo/__init__.py": b"X = 1\n"})
    layout, links = evidence_for(wheel, keys, tmp_path / "meta")
    # A "test" step carried out under a sublayout signed by its functionary.
    keyid8 = keys.other.public.keyid[:8]
    (links / f"test.{keyid8}.link").write_bytes(
        layout_bytes(keys.other, [("unit", [keys.builder])])
    )
    inner = links / f"test.{keyid8}"
    inner.mkdir()
    name, data = link_file("unit", keys.builder)
    (inner / name).write_bytes(data)
    (inner / "notes.txt").write_text("ignored")
    (links / ".build.12345678.link-unfinished").write_text("ignored")
    assert main(["attach", str(wheel), "--layout", str(layout), "--link-dir", str(links)]) == 0
    assert sorted(in_toto_files(wheel, WHEEL_INTOTO)) == sorted(
        [
            "root.layout",
            f"test.{keyid8}.link",
            f"test.{keyid8}/{name}",
            link_file("build", keys.builder)[0],
        ]
    )


def test_an_output_folder_named_with_a_slash_is_created(
    tmp_path: Path, keys: Keys, capsys: pytest.CaptureFixture[str]
) -> None:
    wheel = make_wheel(tmp_path, "demo", "1.0", {"demo/__init__.py": b"X = 1\n"})
    layout, links = evidence_for(wheel, keys, tmp_path / "meta")
    args = ["attach", str(wheel), "--layout", str(layout), "--link-dir", str(links), "-o"]
    assert main([*args, str(tmp_path / "missing")]) == 2
    assert "end a folder's name with / to create it" in capsys.readouterr().err
    assert main([*args, f"{tmp_path / 'out'}/", "-q"]) == 0
    assert verify(tmp_path / "out" / wheel.name, keys) == 0
