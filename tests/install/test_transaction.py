"""The journal: files in the way moved aside, folders created and removed, all undone."""

from __future__ import annotations

from pathlib import Path

import pytest

from intoto_pip.errors import InstallError
from intoto_pip.install.transaction import Transaction
from tests.support.tree import diff, snapshot


def _tree(root: Path) -> None:
    (root / "pkg" / "sub").mkdir(parents=True)
    (root / "pkg" / "old.py").write_text("old\n")
    (root / "pkg" / "sub" / "data.txt").write_text("data\n")
    (root / "pkg" / "old.py").chmod(0o640)


def test_rollback_restores_everything(tmp_path: Path) -> None:
    root = tmp_path / "site"
    _tree(root)
    before = snapshot(root)
    journal = Transaction(backup_parent=tmp_path)
    journal.move_aside(root / "pkg" / "sub" / "data.txt")
    assert journal.remove_dir_if_empty(root / "pkg" / "sub")
    for path in (root / "pkg" / "old.py", root / "new" / "deep" / "file.py"):
        journal.prepare_write(path)
        path.write_text("new\n")
        journal.wrote(path)
    assert (root / "pkg" / "old.py").read_text() == "new\n"
    assert journal.rollback() == []
    assert diff(before, snapshot(root)) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]


def test_commit_keeps_changes_and_drops_backups(tmp_path: Path) -> None:
    root = tmp_path / "site"
    _tree(root)
    journal = Transaction()
    journal.prepare_write(root / "pkg" / "old.py")
    (root / "pkg" / "old.py").write_text("new\n")
    backup = journal.backup_root
    assert any(backup.iterdir())
    journal.commit()
    assert not backup.exists()
    assert (root / "pkg" / "old.py").read_text() == "new\n"


def test_a_folder_in_the_way_is_refused(tmp_path: Path) -> None:
    (tmp_path / "pkg" / "mod.py").mkdir(parents=True)
    journal = Transaction()
    with pytest.raises(InstallError, match="folder is in the way"):
        journal.prepare_write(tmp_path / "pkg" / "mod.py")
    journal.rollback()


def test_non_empty_folder_is_not_removed(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "f").write_text("x")
    assert not Transaction().remove_dir_if_empty(tmp_path / "d")


def _counting_stats(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    import os

    calls: list[str] = []
    real_lstat, real_stat = os.lstat, os.stat

    def lstat(path: object, *args: object, **kwargs: object) -> os.stat_result:
        calls.append("lstat")
        return real_lstat(path, *args, **kwargs)  # type: ignore[arg-type]

    def stat(path: object, *args: object, **kwargs: object) -> os.stat_result:
        calls.append("stat")
        return real_stat(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "lstat", lstat)
    monkeypatch.setattr(os, "stat", stat)
    return calls


def test_each_file_written_into_an_existing_folder_costs_one_lstat(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Per file, one look at its path; each folder looked at once, not per file."""
    (tmp_path / "site" / "pkg").mkdir(parents=True)
    calls = _counting_stats(monkeypatch)
    journal = Transaction(backup_parent=tmp_path)
    for i in range(40):
        journal.write_new(tmp_path / "site" / "pkg" / f"m{i}.py", b"X = 1\n")
    monkeypatch.undo()
    assert calls.count("lstat") == 40
    assert calls.count("stat") <= 3, "folders are looked at once, not per file"
    journal.rollback()
    assert list((tmp_path / "site" / "pkg").iterdir()) == []


def test_a_file_in_a_folder_the_transaction_made_needs_no_look(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _counting_stats(monkeypatch)
    journal = Transaction(backup_parent=tmp_path)
    for i in range(40):
        journal.write_new(tmp_path / "site" / "pkg" / f"m{i}.py", b"X = 1\n")
    monkeypatch.undo()
    assert calls.count("lstat") == 1  # the first file, before its folder was made
    assert calls.count("stat") <= 3
    journal.rollback()
    assert not (tmp_path / "site").exists()


def test_a_file_planted_in_a_folder_the_transaction_made_is_never_written_through(
    tmp_path: Path,
) -> None:
    """No look before writing there, but the exclusive create still refuses a planted file,
    and a link planted there is never followed."""
    outside = tmp_path / "outside.txt"
    outside.write_text("keep\n")
    journal = Transaction(backup_parent=tmp_path)
    journal.write_new(tmp_path / "site" / "pkg" / "a.py", b"A = 1\n")
    (tmp_path / "site" / "pkg" / "b.py").symlink_to(outside)
    with pytest.raises(FileExistsError):
        journal.write_new(tmp_path / "site" / "pkg" / "b.py", b"B = 1\n")
    assert outside.read_text() == "keep\n"
    journal.rollback()
    assert outside.read_text() == "keep\n"
