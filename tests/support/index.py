"""A real PEP 503 simple index on 127.0.0.1, real virtual environments, clean pip settings.

``SimpleIndex(root)`` lays out ``root/simple/<project>/index.html`` with links carrying
``#sha256=`` fragments to ``root/files/<file>``; ``serve(root)`` runs ``http.server`` in a
thread on a free loopback port. ``make_venv`` creates a virtualenv (pip seeded from
virtualenv's local cache: no network).
"""

from __future__ import annotations

import functools
import hashlib
import html
import os
import shutil
import ssl
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name


def clean_env(**extra: str) -> dict[str, str]:
    """os.environ without PIP_* or VIRTUAL_ENV, with pip's config file disabled."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("PIP_") and key not in ("VIRTUAL_ENV", "PYTHONPATH")
    }
    env["PIP_CONFIG_FILE"] = os.devnull
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env.update(extra)
    return env


class SimpleIndex:
    """A file tree in the PEP 503 layout; ``add`` copies an archive in and relists.

    ``metadata``: as PyPI, each wheel's METADATA is served beside it (``<file>.metadata``,
    PEP 658/714, announced by ``data-core-metadata`` with its sha256), so pip resolves from
    the METADATA files and fetches no wheel."""

    def __init__(self, root: Path, *, metadata: bool = False) -> None:
        self.root = root
        self.metadata = metadata
        (root / "simple").mkdir(parents=True, exist_ok=True)
        (root / "files").mkdir(exist_ok=True)
        self._projects: dict[str, list[str]] = {}

    def add(self, archive: Path, project: str) -> Path:
        dest = self.root / "files" / archive.name
        shutil.copyfile(archive, dest)
        name = str(canonicalize_name(project))
        files = self._projects.setdefault(name, [])
        if archive.name not in files:
            files.append(archive.name)
        self._write(name)
        return dest

    def _write(self, name: str) -> None:
        folder = self.root / "simple" / name
        folder.mkdir(exist_ok=True)
        links = []
        for filename in self._projects[name]:
            digest = hashlib.sha256((self.root / "files" / filename).read_bytes()).hexdigest()
            href = f"../../files/{filename}#sha256={digest}"
            extra = self._metadata_attributes(filename)
            links.append(f'<a href="{html.escape(href)}"{extra}>{html.escape(filename)}</a><br>')
        (folder / "index.html").write_text(_page(links))
        top = [f'<a href="{n}/">{n}</a><br>' for n in sorted(self._projects)]
        (self.root / "simple" / "index.html").write_text(_page(top))

    def _metadata_attributes(self, filename: str) -> str:
        if not (self.metadata and filename.endswith(".whl")):
            return ""
        with zipfile.ZipFile(self.root / "files" / filename) as archive:
            name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
            data = archive.read(name)
        (self.root / "files" / f"{filename}.metadata").write_bytes(data)
        value = f"sha256={hashlib.sha256(data).hexdigest()}"
        return f' data-core-metadata="{value}" data-dist-info-metadata="{value}"'


def _page(lines: list[str]) -> str:
    body = "\n".join(lines)
    return f"<!DOCTYPE html>\n<html><body>\n{body}\n</body></html>\n"


class _QuietHandler(SimpleHTTPRequestHandler):
    def __init__(self, *args: Any, requests: list[str] | None = None, **kwargs: Any) -> None:
        self._requests = requests
        super().__init__(*args, **kwargs)

    def send_head(self) -> Any:
        if self._requests is not None:
            self._requests.append(self.path)
        return super().send_head()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serve(
    root: Path, tls: ssl.SSLContext | None = None, requests: list[str] | None = None
) -> Iterator[str]:
    """Serve ``root`` over HTTP (HTTPS with ``tls``) on 127.0.0.1; yield the base URL (no
    trailing slash). ``requests``: each path asked for is appended to it."""
    handler = functools.partial(_QuietHandler, directory=str(root), requests=requests)
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    with serving(server) as port:
        yield f"{'https' if tls is not None else 'http'}://127.0.0.1:{port}"


@contextmanager
def serving(server: ThreadingHTTPServer) -> Iterator[int]:
    """Run ``server`` (bound to 127.0.0.1) in a thread; yield its port; stop it at the end."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def make_venv(path: Path) -> Path:
    """A virtualenv with pip (no setuptools, no wheel); return its interpreter."""
    subprocess.run(
        [sys.executable, "-m", "virtualenv", "-q", "--no-setuptools", "--no-wheel", str(path)],
        check=True,
        env=clean_env(),
        capture_output=True,
    )
    return path / "bin" / "python"


def site_packages(python: Path) -> Path:
    done = subprocess.run(
        [str(python), "-I", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    )
    return Path(done.stdout.strip())


def run_pip(python: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # -B: pip must not compile its own modules into the venv, or before/after snapshots of
    # the venv would see pip's __pycache__ rather than what intoto-pip did.
    return subprocess.run(
        [str(python), "-B", "-m", "pip", *args], env=clean_env(), capture_output=True, text=True
    )


def run_intoto_pip(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the CLI as a user would, in a clean pip environment (or ``env``)."""
    return subprocess.run(
        [sys.executable, "-m", "intoto_pip.cli.main", *args],
        env=clean_env() if env is None else env,
        capture_output=True,
        text=True,
        cwd=cwd,
    )
