"""Finding a distribution's PEP 740 provenance: a folder, beside the archive, or the index.

In this order, the first that has it:

1. ``--provenance-dir DIR``: ``DIR/<file name>.provenance``;
2. a local archive (or one pip found through a ``file:`` link): ``<archive>.provenance``
   beside it;
3. the index's PEP 691 JSON page (``Accept: application/vnd.pypi.simple.v1+json``): the
   ``provenance`` URL of the entry with this file name and sha256 (``null``: the index says
   there is none);
4. when that page has no ``provenance`` key (an index older than PEP 740, or an HTML-only
   one) and the index is laid out as PyPI's (``.../simple/``): the Integrity API,
   ``<index root>/integrity/<project>/<version>/<file name>/provenance``.

Nothing found is not an error here: the caller decides (``verify.provenance_policy``). A fetch
that fails is a ``VerificationError`` (the provenance could not be read).
"""

from __future__ import annotations

import json
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from intoto_pip.archives.names import canonical_name
from intoto_pip.errors import VerificationError
from intoto_pip.install.fetch import FetchedFile
from intoto_pip.verify.provenance import ProvenanceSource

JSON_PAGE = "application/vnd.pypi.simple.v1+json"
MAX_PROVENANCE_BYTES = 4 * 1024 * 1024  # PyPI's are ~10 kB; a file carries a few at most
MAX_PAGE_BYTES = 64 * 1024 * 1024
TIMEOUT = 60.0
SUFFIX = ".provenance"


@dataclass(frozen=True, kw_only=True)
class ProvenanceLookup:
    """Where to look: an explicit folder, and the indexes the files came from."""

    provenance_dir: Path | None = None
    index_urls: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Found:
    """The document found (or None), and where we looked, for messages."""

    source: ProvenanceSource | None
    looked_in: str


def find_provenance(
    fetched: FetchedFile, name: str, version: str, lookup: ProvenanceLookup
) -> Found:
    """The provenance of ``fetched`` (a file of project ``name`` at ``version``), or where we
    looked in vain."""
    looked: list[str] = []
    if lookup.provenance_dir is not None:
        path = lookup.provenance_dir / (fetched.filename + SUFFIX)
        looked.append(str(lookup.provenance_dir))
        if path.is_file():
            return Found(source=_read_path(path), looked_in=str(path))
    if fetched.url.startswith("file:"):
        path = Path(urllib.parse.unquote(urllib.parse.urlsplit(fetched.url).path) + SUFFIX)
        looked.append(f"{path} (beside the archive)")
        found = _read_path(path) if path.is_file() else None
        return Found(source=found, looked_in=", ".join(looked))
    for index in lookup.index_urls:
        source = _from_index(index, fetched, canonical_name(name), version, looked)
        if source is not None:
            return Found(source=source, looked_in=source.where)
    return Found(source=None, looked_in=", ".join(looked) or "no index")


def _read_path(path: Path) -> ProvenanceSource:
    from intoto_pip.store import read_metadata_bytes

    return ProvenanceSource(where=str(path), data=read_metadata_bytes(path))


def _from_index(
    index: str, fetched: FetchedFile, name: str, version: str, looked: list[str]
) -> ProvenanceSource | None:
    from intoto_pip.install.simple_api import project_page

    page = project_page(index, name)
    looked.append(page)
    entry = _page_entry(page, fetched)
    if entry is not None and "provenance" in entry:
        url = entry["provenance"]
        if not isinstance(url, str):
            return None  # the index says: no provenance for this file
        return _read_url(urllib.parse.urljoin(page, url), missing_ok=False)
    integrity = integrity_url(index, name, version, fetched.filename)
    if integrity is None:
        return None
    looked.append(integrity)
    return _read_url(integrity, missing_ok=True)


def integrity_url(index: str, name: str, version: str, filename: str) -> str | None:
    """PyPI's Integrity API path for a file, for an index laid out as PyPI's (``/simple/``)."""
    parts = urllib.parse.urlsplit(index)
    path = parts.path.rstrip("/")
    if not path.endswith("/simple"):
        return None
    quoted = "/".join(urllib.parse.quote(part, safe="") for part in (name, version, filename))
    root = path.removesuffix("simple")
    return urllib.parse.urlunsplit(
        (parts.scheme, parts.netloc, f"{root}integrity/{quoted}/provenance", "", "")
    )


def _page_entry(page: str, fetched: FetchedFile) -> dict[str, Any] | None:
    """The JSON page's entry for this file (same name, and same sha256 when it gives one)."""
    data = _get(page, accept=JSON_PAGE, limit=MAX_PAGE_BYTES, missing_ok=True)
    if data is None:
        return None
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return None  # an HTML page: the index does not speak PEP 691
    files = document.get("files") if isinstance(document, dict) else None
    for entry in files if isinstance(files, list) else []:
        if not isinstance(entry, dict) or entry.get("filename") != fetched.filename:
            continue
        hashes = entry.get("hashes")
        sha256 = hashes.get("sha256") if isinstance(hashes, dict) else None
        if sha256 in (None, fetched.sha256):
            return entry
    return None


def _read_url(url: str, *, missing_ok: bool) -> ProvenanceSource | None:
    data = _get(url, accept="application/json", limit=MAX_PROVENANCE_BYTES, missing_ok=missing_ok)
    return None if data is None else ProvenanceSource(where=url, data=data)


def _get(url: str, *, accept: str, limit: int, missing_ok: bool) -> bytes | None:
    """The body at ``url``; None for a 404 (or 406) when ``missing_ok``."""
    import urllib.error
    import urllib.request

    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise VerificationError(f"{url}: provenance is fetched over http(s) only")
    request = urllib.request.Request(url, headers={"Accept": accept})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
            data: bytes = response.read(limit + 1)
    except urllib.error.HTTPError as exc:
        if missing_ok and exc.code in (404, 406, 410):
            return None
        raise VerificationError(f"{url}: cannot read provenance (HTTP {exc.code})") from exc
    except OSError as exc:
        raise VerificationError(f"{url}: cannot read provenance ({exc})") from exc
    if len(data) > limit:
        raise VerificationError(f"{url}: larger than {limit} bytes")
    return data


@dataclass(frozen=True, kw_only=True)
class IndexFile:
    """A file the index lists, with the sha256 it gives (what ``provenance show`` checks)."""

    filename: str
    url: str
    sha256: str


def index_files(index: str, name: str, version: str) -> list[IndexFile]:
    """The files of ``name`` ``version`` on the index's PEP 691 JSON page."""
    from intoto_pip.archives.checked import identify
    from intoto_pip.install.simple_api import project_page

    page = project_page(index, name)
    data = _get(page, accept=JSON_PAGE, limit=MAX_PAGE_BYTES, missing_ok=False) or b""
    try:
        files = json.loads(data).get("files", [])
    except (ValueError, UnicodeDecodeError, AttributeError) as exc:
        raise VerificationError(f"{page}: not a PEP 691 JSON page") from exc
    found = []
    for entry in files if isinstance(files, list) else []:
        filename = entry.get("filename") if isinstance(entry, dict) else None
        sha256 = (entry.get("hashes") or {}).get("sha256") if isinstance(entry, dict) else None
        if not isinstance(filename, str) or not isinstance(sha256, str):
            continue
        try:
            same = identify(filename).version == version
        except VerificationError:
            continue
        if same:
            found.append(
                IndexFile(
                    filename=filename,
                    url=urllib.parse.urljoin(page, str(entry.get("url", ""))),
                    sha256=sha256,
                )
            )
    return found
