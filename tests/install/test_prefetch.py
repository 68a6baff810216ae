"""Wheels fetched and verified while pip resolves: used only when the report names exactly
them with the bytes held, bounded, and stopped when no longer wanted."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from intoto_pip.install import prefetch as prefetch_module
from intoto_pip.install.connection import Connection
from intoto_pip.install.options import InstallOptions
from intoto_pip.install.prefetch import Prefetch
from intoto_pip.install.resolve import ResolvedItem
from tests.support.index import SimpleIndex, serve, serving
from tests.support.signing import Project


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    return Project(tmp_path_factory.mktemp("keys"))


def _wheel(project: Project, folder: Path, name: str, version: str, value: str = "1") -> Path:
    files = {f"{name}/__init__.py": f"VALUE = {value!r}\n".encode()}
    return project.signed_wheel(folder, name, version, files)


def _item(url: str, data: bytes, name: str = "dep", version: str = "1.0") -> ResolvedItem:
    return ResolvedItem(
        name=name,
        version=version,
        url=url,
        sha256=hashlib.sha256(data).hexdigest(),
        requested=True,
        is_direct=False,
    )


@pytest.fixture()
def prefetch(project: Project, tmp_path: Path) -> Iterator[Prefetch]:
    folder = tmp_path / "private"
    folder.mkdir()
    options = InstallOptions(layout_keys=(project.owner.public,))
    early = Prefetch(folder, Connection(), options)
    try:
        yield early
    finally:
        early.close()


def test_a_wheel_reported_as_announced_is_taken_verified_and_fetched_once(
    project: Project, prefetch: Prefetch, tmp_path: Path
) -> None:
    index = SimpleIndex(tmp_path / "index")
    wheel = index.add(_wheel(project, tmp_path / "w", "dep", "1.0"), "dep")
    requests: list[str] = []
    with serve(index.root, requests=requests) as base:
        url = f"{base}/files/{wheel.name}"
        prefetch.announce(url)
        prefetch.announce(url)  # pip may read it twice; it is fetched once
        taken = prefetch.take(_item(url, wheel.read_bytes()))
    assert taken is not None
    assert taken.requested is True and taken.fetched.path.read_bytes() == wheel.read_bytes()
    verdict = prefetch.verdict(taken.fetched.path)
    assert verdict is not None and verdict.verified, verdict
    assert requests == [f"/files/{wheel.name}"]


def test_bytes_other_than_the_reported_ones_are_never_taken(
    project: Project, prefetch: Prefetch, tmp_path: Path
) -> None:
    """A server that answers the early request with another validly signed wheel than the one
    the index lists: the report's sha256 (the index's) decides, so the early bytes are left
    and the wheel is fetched again after the report."""
    early_bytes = _wheel(project, tmp_path / "a", "dep", "1.0", value="early").read_bytes()
    listed = _wheel(project, tmp_path / "b", "dep", "1.0", value="listed").read_bytes()
    assert early_bytes != listed
    with _serving([early_bytes, listed]) as url:
        prefetch.announce(url)
        taken = prefetch.take(_item(url, listed))
    assert taken is None


def test_a_report_without_a_hash_takes_the_announced_wheel(
    project: Project, prefetch: Prefetch, tmp_path: Path
) -> None:
    """An index that lists no hash: the wheel fetched after the report would be unchecked
    against it too; the early copy is the same URL's bytes."""
    data = _wheel(project, tmp_path / "a", "dep", "1.0").read_bytes()
    with _serving([data]) as url:
        prefetch.announce(url)
        item = _item(url, data)
        taken = prefetch.take(ResolvedItem(**{**item.__dict__, "sha256": None}))
    assert taken is not None and taken.fetched.path.read_bytes() == data


def test_only_the_first_announced_version_of_a_project_is_fetched(
    project: Project, prefetch: Prefetch, tmp_path: Path
) -> None:
    """A second version announced means pip is backtracking: none of its versions is worth
    fetching early (a long backtrack would download many wheels nobody installs)."""
    index = SimpleIndex(tmp_path / "index")
    first = index.add(_wheel(project, tmp_path / "1", "dep", "2.0"), "dep")
    second = index.add(_wheel(project, tmp_path / "2", "dep", "1.0"), "dep")
    requests: list[str] = []
    with serve(index.root, requests=requests) as base:
        prefetch.announce(f"{base}/files/{first.name}")
        prefetch.announce(f"{base}/files/{second.name}")
        url = f"{base}/files/{second.name}"
        assert prefetch.take(_item(url, second.read_bytes())) is None
        assert prefetch.take(_item(f"{base}/files/{first.name}", first.read_bytes())) is not None
    assert requests == [f"/files/{first.name}"]


def test_what_would_pass_the_byte_budget_is_not_fetched_early(
    project: Project, prefetch: Prefetch, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = _wheel(project, tmp_path / "a", "dep", "1.0").read_bytes()
    monkeypatch.setattr(prefetch_module, "MAX_BYTES", len(data) - 1)
    with _serving([data]) as url:
        prefetch.announce(url)
        assert prefetch.take(_item(url, data)) is None


@pytest.mark.parametrize(
    "url",
    [
        "not a url",
        "http://127.0.0.1:9/files/",
        "http://127.0.0.1:9/files/..%2Fdep-1.0-py3-none-any.whl",
    ],
)
def test_an_announcement_that_names_no_wheel_file_is_ignored(prefetch: Prefetch, url: str) -> None:
    prefetch.announce(url)
    assert prefetch.take(_item(url, b"")) is None


def test_a_failed_early_download_leaves_the_wheel_to_be_fetched_after_the_report(
    prefetch: Prefetch,
) -> None:
    url = "http://127.0.0.1:9/files/dep-1.0-py3-none-any.whl"  # nothing listens on port 9
    prefetch.announce(url)
    assert prefetch.take(_item(url, b"")) is None


def test_after_close_nothing_more_is_fetched(
    project: Project, prefetch: Prefetch, tmp_path: Path
) -> None:
    data = _wheel(project, tmp_path / "a", "dep", "1.0").read_bytes()
    with _serving([data]) as url:
        prefetch.close()
        prefetch.announce(url)
        assert prefetch.take(_item(url, data)) is None


class _Answers(BaseHTTPRequestHandler):
    """Answers each GET with the next of ``answers`` (the last one again once they run out)."""

    answers: ClassVar[list[bytes]] = []
    served: ClassVar[int] = 0

    def do_GET(self) -> None:
        cls = type(self)
        data = cls.answers[min(cls.served, len(cls.answers) - 1)]
        cls.served += 1
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def _serving(answers: list[bytes]) -> Iterator[str]:
    """A server on 127.0.0.1 answering every GET with the next of ``answers``; yields a wheel
    URL on it."""
    handler = type("Handler", (_Answers,), {"answers": answers, "served": 0})
    with serving(ThreadingHTTPServer(("127.0.0.1", 0), handler)) as port:
        yield f"http://127.0.0.1:{port}/dep-1.0-py3-none-any.whl"


def test_a_verified_wheel_is_handed_over_opened_with_its_verdicts_member_hashes(
    project: Project, prefetch: Prefetch, tmp_path: Path
) -> None:
    """Opened while pip resolves, as installing opens it: the same members, checked against
    the hashes its verification found; handed over once."""
    data = _wheel(project, tmp_path / "a", "dep", "1.0").read_bytes()
    with _serving([data]) as url:
        prefetch.announce(url)
        taken = prefetch.take(_item(url, data))
    assert taken is not None
    verdict = prefetch.verdict(taken.fetched.path)
    assert verdict is not None and verdict.verified
    handed = prefetch.hand_over([taken.fetched.path, tmp_path / "never-fetched.whl"])
    assert list(handed) == [taken.fetched.path]
    opened = handed[taken.fetched.path]
    try:
        assert dict(opened.member_sha256) == dict(verdict.member_sha256)
        assert "dep/__init__.py" in opened.source.member_names()
    finally:
        opened.close()
    assert prefetch.hand_over([taken.fetched.path]) == {}


def test_a_wheel_that_fails_verification_is_never_opened_for_installing(
    project: Project, prefetch: Prefetch, tmp_path: Path
) -> None:
    (tmp_path / "stranger").mkdir()
    stranger = Project(tmp_path / "stranger")  # signed, but not with the pinned key
    data = stranger.signed_wheel(tmp_path / "a", "dep", "1.0", {"dep/__init__.py": b""})
    with _serving([data.read_bytes()]) as url:
        prefetch.announce(url)
        taken = prefetch.take(_item(url, data.read_bytes()))
    assert taken is not None
    verdict = prefetch.verdict(taken.fetched.path)
    assert verdict is not None and not verdict.verified
    assert prefetch.hand_over([taken.fetched.path]) == {}


def test_close_closes_the_wheels_opened_and_not_handed_over(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from intoto_pip.install import wheel_source

    closed: list[Path] = []
    opened_now = threading.Event()
    real = wheel_source.open_ahead

    def spy(path: Path, verified_sha256: Any) -> wheel_source.OpenedWheel:
        opened = real(path, verified_sha256)
        opened_now.set()

        def close() -> None:
            closed.append(path)
            opened.close()

        return wheel_source.OpenedWheel(
            source=opened.source, member_sha256=opened.member_sha256, close=close
        )

    monkeypatch.setattr(wheel_source, "open_ahead", spy)
    folder = tmp_path / "private"
    folder.mkdir()
    early = Prefetch(folder, Connection(), InstallOptions(layout_keys=(project.owner.public,)))
    data = _wheel(project, tmp_path / "a", "dep", "1.0").read_bytes()
    try:
        with _serving([data]) as url:
            early.announce(url)
            taken = early.take(_item(url, data))
        assert taken is not None and early.verdict(taken.fetched.path) is not None
        assert opened_now.wait(timeout=60)  # opened (a close before that opens nothing)
    finally:
        early.close()
    assert closed == [taken.fetched.path]
