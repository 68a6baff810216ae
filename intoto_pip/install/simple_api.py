"""Finding a project's sdist on a PEP 503 simple index, for projects opted in with --no-binary.

pip never sees these projects: letting it resolve an sdist would make it run the sdist's build
backend (to learn its metadata) before anything was verified.
"""

from __future__ import annotations

import urllib.parse
import urllib.request
from dataclasses import dataclass
from html.parser import HTMLParser

from packaging.requirements import Requirement
from packaging.version import Version

from intoto_pip.archives.names import canonical_name, parse_sdist_filename
from intoto_pip.errors import ArchiveError, InstallError
from intoto_pip.install.connection import Connection

DEFAULT_INDEX = "https://pypi.org/simple/"
MAX_PAGE_BYTES = 64 * 1024 * 1024
TIMEOUT = 60.0


@dataclass(frozen=True, kw_only=True)
class SdistLink:
    url: str
    filename: str
    version: Version
    sha256: str | None


class _Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "a" and values.get("href"):
            self.links.append((str(values["href"]), values))


def project_page(index_url: str, name: str) -> str:
    """The page URL of ``name`` on the index (PEP 503: normalised name, trailing slash)."""
    return urllib.parse.urljoin(index_url.rstrip("/") + "/", canonical_name(name) + "/")


def parse_page(page_url: str, html: str, name: str) -> list[SdistLink]:
    """The sdists of ``name`` on a simple-index page; yanked files are left out."""
    parser = _Anchors()
    parser.feed(html)
    found = []
    for href, attrs in parser.links:
        if attrs.get("data-yanked") is not None:
            continue
        url, _, fragment = urllib.parse.urljoin(page_url, href).partition("#")
        filename = urllib.parse.unquote(url.rsplit("/", 1)[-1])
        if not filename.endswith((".tar.gz", ".zip")):
            continue
        try:
            parsed = parse_sdist_filename(filename)
        except ArchiveError:
            continue
        if parsed.name != canonical_name(name):
            continue
        algo, _, digest = fragment.partition("=")
        sha256 = digest if algo == "sha256" and digest else None
        found.append(SdistLink(url=url, filename=filename, version=parsed.version, sha256=sha256))
    return found


def choose(links: list[SdistLink], requirement: Requirement, *, pre: bool) -> SdistLink:
    """The newest sdist the requirement accepts (pre-releases only with --pre or when pinned)."""
    allow_pre = pre or bool(requirement.specifier.prereleases)
    matching = [
        link
        for link in links
        if requirement.specifier.contains(link.version, prereleases=allow_pre)
    ]
    if not matching:
        raise InstallError(f"no sdist of {requirement} found on the index (--no-binary)")
    best = max(link.version for link in matching)
    # .tar.gz first: the sdist format PEP 625 standardises.
    return sorted(
        (link for link in matching if link.version == best),
        key=lambda link: not link.filename.endswith(".tar.gz"),
    )[0]


def find_sdist(
    index_url: str | None,
    requirement: Requirement,
    *,
    pre: bool,
    connection: Connection | None = None,
) -> SdistLink:
    """The newest sdist of ``requirement`` on the index, read through ``connection`` (pip's
    connection settings; the defaults without)."""
    page = project_page(index_url or DEFAULT_INDEX, requirement.name)
    if urllib.parse.urlsplit(page).scheme not in ("http", "https", "file"):
        raise InstallError(f"{page}: unsupported index URL scheme")
    request = urllib.request.Request(page, headers={"Accept": "text/html"})  # noqa: S310
    try:
        with (connection or Connection(timeout=TIMEOUT)).open(request) as response:
            data = response.read(MAX_PAGE_BYTES + 1)
    except OSError as exc:
        raise InstallError(f"{page}: cannot read the index page ({exc})") from exc
    if len(data) > MAX_PAGE_BYTES:
        raise InstallError(f"{page}: index page larger than {MAX_PAGE_BYTES} bytes")
    return choose(
        parse_page(page, data.decode("utf-8", "replace"), requirement.name), requirement, pre=pre
    )
