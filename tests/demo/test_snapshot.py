"""A snapshot notices every kind of change a refused install must not make."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from intoto_pip.demo.snapshot import differences, snapshot


def _tree(root: Path) -> Path:
    (root / "lib" / "site-packages").mkdir(parents=True)
    (root / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (root / "lib" / "site-packages" / "keep.py").write_text("A = 1\n")
    # Old times, so a change within the file system's clock tick still shows.
    for folder in (root, root / "lib", root / "lib" / "site-packages"):
        os.utime(folder, ns=(0, 0))
    return root


def test_an_untouched_tree_has_no_differences(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    assert differences(snapshot(root), snapshot(root)) == []


def test_added_removed_and_changed_entries_are_named(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    before = snapshot(root)
    (root / "lib" / "site-packages" / "evil.py").write_text("")
    (root / "pyvenv.cfg").unlink()
    (root / "lib" / "site-packages" / "keep.py").write_text("A = 2\n")
    assert differences(before, snapshot(root)) == [
        "added lib/site-packages/evil.py",
        "removed pyvenv.cfg",
        "changed .",
        "changed lib/site-packages",
        "changed lib/site-packages/keep.py",
    ]


def test_same_size_rewrite_with_restored_time_is_still_seen(tmp_path: Path) -> None:
    target = _tree(tmp_path) / "lib" / "site-packages" / "keep.py"
    before = snapshot(tmp_path)
    stat = target.stat()
    target.write_text("B = 1\n")
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert differences(before, snapshot(tmp_path)) == ["changed lib/site-packages/keep.py"]


def test_a_file_written_and_removed_again_is_seen(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    site = root / "lib" / "site-packages"
    before = snapshot(root)
    (site / "tmp.py").write_text("")
    (site / "tmp.py").unlink()
    assert differences(before, snapshot(root)) == ["changed lib/site-packages"]


@pytest.mark.skipif(os.name == "nt", reason="symbolic links need privileges on Windows")
def test_links_are_described_not_followed(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    (root / "python").symlink_to("/usr/bin/python3")
    before = snapshot(root)
    assert before["python"].startswith("link ") and before["python"].endswith("/usr/bin/python3")
    (root / "python").unlink()
    (root / "python").symlink_to("/tmp/python3")
    assert "changed python" in differences(before, snapshot(root))
