"""A loopback index that speaks PEP 691 JSON and serves PEP 740 provenance, as PyPI does.

``/simple/<project>/`` answers HTML or, when asked with ``Accept:
application/vnd.pypi.simple.v1+json``, JSON whose file entries carry a ``provenance`` URL
(``mode="url"``), ``null`` (``"none"``), or no such key, leaving the Integrity API path
``/integrity/<project>/<version>/<file>/provenance`` to serve it (``"integrity"``).
"""

from __future__ import annotations

import hashlib
import html
import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from tests.support.index import serving

JSON_TYPE = "application/vnd.pypi.simple.v1+json"


@dataclass
class Pep691Index:
    root: Path
    projects: dict[str, list[str]] = field(default_factory=dict)
    provenance: dict[str, bytes] = field(default_factory=dict)  # file name -> document
    modes: dict[str, str] = field(default_factory=dict)  # file name -> url|none|integrity
    requests: list[str] = field(default_factory=list)

    def add(
        self, archive: Path, project: str, *, provenance: bytes | None = None, mode: str = "url"
    ) -> None:
        (self.root / "files").mkdir(parents=True, exist_ok=True)
        shutil.copyfile(archive, self.root / "files" / archive.name)
        name = str(canonicalize_name(project))
        self.projects.setdefault(name, []).append(archive.name)
        if provenance is not None:
            self.provenance[archive.name] = provenance
        self.modes[archive.name] = mode if provenance is not None else "none"

    def entry(self, filename: str) -> dict[str, Any]:
        digest = hashlib.sha256((self.root / "files" / filename).read_bytes()).hexdigest()
        entry: dict[str, Any] = {
            "filename": filename,
            "url": f"../../files/{filename}",
            "hashes": {"sha256": digest},
        }
        mode = self.modes[filename]
        if mode == "url":
            entry["provenance"] = f"../../provenance/{filename}.provenance"
        elif mode == "none":
            entry["provenance"] = None
        return entry


class _Handler(BaseHTTPRequestHandler):
    index: Pep691Index

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.index.requests.append(self.path)
        parts = [p for p in self.path.split("?")[0].split("/") if p]
        body, kind = self._route(parts)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _route(self, parts: list[str]) -> tuple[bytes | None, str]:
        index = self.index
        if len(parts) == 2 and parts[0] == "simple" and parts[1] in index.projects:
            files = index.projects[parts[1]]
            if JSON_TYPE in self.headers.get("Accept", ""):
                page = {
                    "meta": {"api-version": "1.1"},
                    "name": parts[1],
                    "files": [index.entry(f) for f in files],
                }
                return json.dumps(page).encode(), JSON_TYPE
            links = "".join(
                f'<a href="../../files/{html.escape(f)}#sha256='
                f'{index.entry(f)["hashes"]["sha256"]}">{html.escape(f)}</a>\n'
                for f in files
            )
            return f"<html><body>{links}</body></html>".encode(), "text/html"
        if len(parts) == 2 and parts[0] == "files":
            path = index.root / "files" / parts[1]
            return (path.read_bytes() if path.is_file() else None), "application/octet-stream"
        if len(parts) == 2 and parts[0] == "provenance":
            filename = parts[1].removesuffix(".provenance")
            ok = index.modes.get(filename) == "url"
            return (index.provenance[filename] if ok else None), "application/json"
        if len(parts) == 5 and parts[0] == "integrity" and parts[4] == "provenance":
            ok = index.modes.get(parts[3]) == "integrity"
            return (index.provenance[parts[3]] if ok else None), "application/json"
        return None, ""


@contextmanager
def serve_pep691(index: Pep691Index) -> Iterator[str]:
    """Serve on 127.0.0.1; yield the index URL (``.../simple/``)."""
    handler = type("Handler", (_Handler,), {"index": index})
    with serving(ThreadingHTTPServer(("127.0.0.1", 0), handler)) as port:
        yield f"http://127.0.0.1:{port}/simple/"
