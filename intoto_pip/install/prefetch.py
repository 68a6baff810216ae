"""Wheels fetched and verified while pip still resolves: speculation, checked before any use.

With PEP 658 metadata pip resolves from each wheel's METADATA alone; the wheels it picks are
downloaded and verified only once its report is read. On two cores that left one waiting for
the whole resolution (about a second for 30 wheels), and then 0.5 s of downloading and
verifying before installation could start. The pip session announces each wheel whose
metadata pip fetches (``pip_runner.SESSION``); this module downloads it at once into the
private folder and hands it to a verifying process of lower priority than pip.

Nothing here is trusted for being early. When the report comes, a wheel is taken from here
only if the report names exactly its URL and the bytes held have the sha256 the report gives
(the index's); the verdict is the one the same verification would give after the report. For
anything else (never announced, failed, another hash) the download and verification happen
as if nothing had been speculated. What is not taken is dropped with the private folder.
A wheel that verified is opened for installing as soon as its verdict comes (``hand_over``
gives it to the installation, which uses it only with that verdict; ``close`` closes the rest).

Bounded, since an announcement is a hint and not a pick: one version per project (a second
version means pip is backtracking, and none of them is fetched early), at most
``MAX_WHEELS`` wheels and ``MAX_BYTES`` bytes, http(s) URLs without credentials only.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from intoto_pip.archives.names import canonical_name
from intoto_pip.errors import IntotoPipError
from intoto_pip.install.candidates import Pending, needs_verification, verify_request
from intoto_pip.install.connection import Connection
from intoto_pip.install.downloads import THREADS, Cancelled
from intoto_pip.install.fetch import fetch_url, has_index_hash, safe_filename
from intoto_pip.install.options import InstallOptions
from intoto_pip.install.resolve import ResolvedItem

if TYPE_CHECKING:
    from intoto_pip.install.wheel_source import OpenedWheel
    from intoto_pip.verify.archive import ArchiveVerdict
    from intoto_pip.verify.parallel import VerifyingPool

MAX_WHEELS = 200
MAX_BYTES = 512 * 1024 * 1024
T = TypeVar("T")


class Prefetch:
    """Announced wheels, downloaded and verified early; ``take`` after the report, ``close``
    in a ``finally`` (it stops what runs and waits for it)."""

    def __init__(self, folder: Path, connection: Connection, options: InstallOptions) -> None:
        self._folder, self._connection, self._options = folder, connection, options
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._downloads = ThreadPoolExecutor(max_workers=THREADS)
        # One thread opens each verified wheel for installing as its verdict comes, while pip
        # resolves: the 0.1 s of reading 30 archives' listings then no longer follows the report.
        self._opening = ThreadPoolExecutor(max_workers=1, thread_name_prefix="intoto-pip-open")
        self._opened: dict[Path, Future[OpenedWheel | None]] = {}
        self._verifying: VerifyingPool | None = None  # started with the first wheel to verify
        self._wheels: dict[str, Future[Pending | None]] = {}  # URL -> its download
        self._projects: set[str] = set()
        self._bytes = 0

    def announce(self, url: str) -> None:
        """A wheel pip read the metadata of (called from the session's reading thread)."""
        try:
            project = canonical_name(safe_filename(url).split("-", 1)[0])
        except IntotoPipError:  # not a file name to fetch
            return
        with self._lock:
            if self._stopped.is_set() or url in self._wheels:
                return
            if project in self._projects or len(self._wheels) >= MAX_WHEELS:
                # a second version of a project (pip is backtracking), or over the cap
                self._projects.add(project)
                return
            self._projects.add(project)
            self._wheels[url] = self._downloads.submit(self._fetch, url)

    def take(self, item: ResolvedItem) -> Pending | None:
        """The wheel the report names, fetched early, if it is exactly the one reported;
        None to fetch and verify it now."""
        with self._lock:
            download = self._wheels.get(item.url)
        pending = _result(download)  # a failure: fetched again now, and reported then
        if pending is None:
            return None
        if not has_index_hash(pending.fetched, item.sha256):
            return None
        return replace(pending, requested=item.requested, direct=item.is_direct)

    def verdict(self, path: Path) -> ArchiveVerdict | None:
        """The early verdict of a wheel ``take`` gave; None if it was not verified early."""
        with self._lock:
            verifying = self._verifying
        return None if verifying is None else verifying.verdict(path)

    def hand_over(self, paths: Iterable[Path]) -> dict[Path, OpenedWheel]:
        """The wheels among ``paths`` opened for installing, now the caller's to close."""
        handed: dict[Path, OpenedWheel] = {}
        for path in paths:
            with self._lock:
                opening = self._opened.pop(path, None)
            opened = _result(opening)
            if opened is not None:
                handed[path] = opened
        return handed

    def close(self) -> None:
        """Stop what runs and wait for it; close every wheel opened and not handed over."""
        self._stopped.set()  # downloads under way stop at their next chunk
        self._downloads.shutdown(wait=True, cancel_futures=True)
        with self._lock:
            verifying, self._verifying = self._verifying, None
        if verifying is not None:
            verifying.close()  # every verdict is in: no opening waits for one any more
        self._opening.shutdown(wait=True, cancel_futures=True)
        with self._lock:
            left, self._opened = list(self._opened.values()), {}
        for opening in left:
            opened = _result(opening)
            if opened is not None:
                opened.close()

    def _fetch(self, url: str) -> Pending | None:
        from intoto_pip.install.candidates import wheel_pending

        fetched = fetch_url(
            url,
            self._folder,
            expected_sha256=None,  # not known yet: checked against the report in ``take``
            progress=self._progress,
            connection=self._connection,
        )
        with self._lock:
            self._bytes += fetched.size
        item = wheel_pending(fetched, requested=False, direct=False)
        if not isinstance(item, Pending):
            return None  # unreadable METADATA: refused after the report, with the reason
        if needs_verification(item.meta, self._options):
            pool = self._pool()
            pool.submit(fetched.path)
            with self._lock:
                if not self._stopped.is_set():
                    self._opened[fetched.path] = self._opening.submit(
                        self._open, pool, fetched.path
                    )
        return item

    def _open(self, pool: VerifyingPool, path: Path) -> OpenedWheel | None:
        """The verified wheel opened as installing opens it; None if it did not verify (or
        cannot be opened: installing opens it again and says why)."""
        from intoto_pip.install.wheel_source import open_ahead

        verdict = pool.verdict(path)
        if verdict is None or not verdict.verified or self._stopped.is_set():
            return None
        try:
            return open_ahead(path, verdict.member_sha256)
        except IntotoPipError:
            return None

    def _progress(self, done: int, total: int | None) -> None:
        if self._stopped.is_set() or self._bytes + done > MAX_BYTES:
            raise Cancelled("no longer wanted early")

    def _pool(self) -> VerifyingPool:
        from intoto_pip.verify.parallel import VerifyingPool, usable_cores

        with self._lock:
            if self._stopped.is_set():
                raise Cancelled("no longer wanted early")
            if self._verifying is None:
                request = verify_request(self._options)
                self._verifying = VerifyingPool(request, usable_cores())
            return self._verifying


def _result(work: Future[T | None] | None) -> T | None:
    """What a download or an opening gave; None if there was none, it was cancelled or it
    failed."""
    if work is None or work.cancelled():
        return None
    try:
        return work.result()
    except Exception:
        return None
