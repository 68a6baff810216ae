"""Evidence for real archives, made with the producer commands a project would run.

Once: ``intoto-pip keygen`` an owner and a builder key, and ``intoto-pip layout create`` a
layout with one step, ``build``, done by the builder. It has no inspection, so verifiers apply
the built-in final-product check (DESIGN §5): the archive's members must equal the build link's
products, name for name and hash for hash.

Per archive: unpack it as its build left it (a wheel without its RECORD, which ``attach``
writes anew), ``intoto-pip run -n build -p .`` over that tree (every file: no default
excludes, so a shipped ``*.pyc`` is recorded too), and ``intoto-pip attach`` the layout and the
link to a copy of the archive. Nothing here reads the archive through intoto-pip's own reader:
the products come from Python's ``zipfile`` and ``tarfile``, as a build's output would.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from tests.support.index import clean_env

LAYOUT_TOML = """\
expires = "30d"
readme = "realworld: the builder built each archive; its link records the archive's members."

[keys]
builder = "builder.pub"

[[steps]]
name = "build"
functionaries = ["builder"]
expected_products = ["ALLOW *"]
"""


class ProducerError(AssertionError):
    """A producer command failed: the evidence could not be made."""


def intoto_pip(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "intoto_pip.cli.main", *args]
    return subprocess.run(command, env=clean_env(), capture_output=True, text=True, cwd=cwd)


def _producer(*args: str, cwd: Path | None = None) -> None:
    done = intoto_pip(*args, cwd=cwd)
    if done.returncode != 0:
        raise ProducerError(f"intoto-pip {args[0]} exited {done.returncode}: {done.stderr}")


@dataclass(frozen=True)
class Producer:
    """A project owner's layout and a builder's key, in ``folder``."""

    folder: Path

    @property
    def owner_public(self) -> Path:
        return self.folder / "owner.pub"

    @property
    def layout(self) -> Path:
        return self.folder / "root.layout"

    @property
    def builder(self) -> Path:
        return self.folder / "builder"

    @classmethod
    def create(cls, folder: Path) -> Producer:
        folder.mkdir(parents=True, exist_ok=True)
        _producer("keygen", str(folder / "owner"))
        _producer("keygen", str(folder / "builder"))
        (folder / "layout.toml").write_text(LAYOUT_TOML)
        producer = cls(folder)
        _producer("layout", "create", "layout.toml", "-o", "root.layout", "-k", "owner", cwd=folder)
        return producer

    def attach(self, archive: Path, workdir: Path) -> Path:
        """A copy of ``archive`` in ``workdir/out/`` carrying the layout and a build link."""
        tree, links, out = workdir / "tree", workdir / "links", workdir / "out"
        for folder in (tree, links, out):
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
        unpack(archive, tree)
        _producer(
            "run", "-n", "build", "-x", "--signing-key", str(self.builder), "--no-default-excludes",
            "--base-path", str(tree), "-p", ".", "-d", str(links), "-q",
        )  # fmt: skip
        _producer(
            "attach", str(archive), "--layout", str(self.layout), "--link-dir", str(links),
            "-o", str(out), "-q",
        )  # fmt: skip
        shutil.rmtree(tree)
        return out / archive.name


class Evidence:
    """Archives with evidence attached, made by one background thread in the order asked for.

    The suite asks for all of them up front, so the producer's work overlaps the unverified
    installs running in the main thread (two cores: about a third of the suite's time).
    """

    def __init__(self, producer: Producer, archives: Mapping[str, Path], work: Path) -> None:
        self._producer = producer
        self._archives = archives
        self._work = work
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="evidence")
        self._futures: dict[str, Future[Path]] = {}

    def prefetch(self, files: Iterable[str]) -> None:
        for file in files:
            self._submit(file)

    def archive(self, file: str) -> Path:
        """The attached copy of the cached ``file``; ProducerError if it could not be made."""
        return self._submit(file).result()

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)

    def _submit(self, file: str) -> Future[Path]:
        if file not in self._futures:
            archive, workdir = self._archives[file], self._work / file
            self._futures[file] = self._executor.submit(self._producer.attach, archive, workdir)
        return self._futures[file]


def unpack(archive: Path, tree: Path) -> None:
    """The archive's files as its build wrote them; a wheel's RECORD left out (attach writes it)."""
    if archive.name.endswith(".whl"):
        with zipfile.ZipFile(archive) as wheel:
            for name in wheel.namelist():
                if not name.endswith("/") and not _is_record(name):
                    wheel.extract(name, tree)
        return
    with tarfile.open(archive) as sdist:
        sdist.extractall(tree, filter="data")


def _is_record(name: str) -> bool:
    parts = name.split("/")
    return len(parts) == 2 and parts[0].endswith(".dist-info") and parts[1] == "RECORD"
