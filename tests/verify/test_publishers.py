"""The tofu trust store: first publisher kept, private file, atomic writes, forget."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from intoto_pip.errors import InputError
from intoto_pip.models.publisher import PublisherIdentity
from intoto_pip.verify.publishers import default_store_path, forget, load_store, record_first

FIRST = PublisherIdentity(kind="GitHub", repository="o/r", workflow="w.yml", issuer="i")
SECOND = PublisherIdentity(kind="GitLab", repository="g/p", workflow=".gitlab-ci.yml")


def test_records_the_first_publisher_only(tmp_path: Path) -> None:
    path = tmp_path / "data" / "intoto-pip" / "publishers.toml"
    assert record_first(path, [("My_Project", FIRST, "my_project-1.0.tar.gz")]) == ["my-project"]
    assert record_first(path, [("my-project", SECOND, "my_project-2.0.tar.gz")]) == []
    entry = load_store(path)["my-project"]
    assert (entry.identity, entry.first_file) == (FIRST, "my_project-1.0.tar.gz")


def test_the_store_is_private(tmp_path: Path) -> None:
    path = tmp_path / "d" / "publishers.toml"
    record_first(path, [("p", FIRST, "p-1.tar.gz")])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert [p.name for p in path.parent.iterdir()] == ["publishers.toml"]  # no temp file left


def test_forget(tmp_path: Path) -> None:
    path = tmp_path / "publishers.toml"
    record_first(path, [("p", FIRST, "p-1.tar.gz"), ("q", SECOND, "q-1.tar.gz")])
    assert forget(path, "P") is True
    assert forget(path, "p") is False
    assert list(load_store(path)) == ["q"]


def test_names_that_need_quoting_survive(tmp_path: Path) -> None:
    path = tmp_path / "publishers.toml"
    odd = PublisherIdentity(kind="Other", email='a"b@c', issuer="https://x/\u00e9")
    record_first(path, [("p", odd, "p-1.tar.gz")])
    assert load_store(path)["p"].identity == odd


def test_a_broken_store_is_a_usage_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "publishers.toml"
    path.write_text("[projects.p\n")
    with pytest.raises(InputError, match=str(path)):
        load_store(path)


def test_default_path_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_store_path() == tmp_path / "intoto-pip" / "publishers.toml"
