"""intoto-pip's own downloads connect as pip was told to: its certificate authorities, client
certificate, proxy, timeout and trusted hosts; and nothing else loosens a check."""

from __future__ import annotations

import http.server
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from intoto_pip.errors import InstallError
from intoto_pip.install.connection import Connection
from intoto_pip.install.fetch import fetch_url
from intoto_pip.install.pip_settings import sort_settings
from tests.support.pki import Pki, make_pki

BODY = b"wheel bytes\n"


class _Files(http.server.BaseHTTPRequestHandler):
    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        type(self).seen.append(self.path)
        self.send_response(200)
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, *args: object) -> None:
        pass


def _serve(context: ssl.SSLContext | None = None) -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Files)
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        scheme = "https" if context else "http"
        yield f"{scheme}://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def https_index(pki: Pki) -> Iterator[str]:
    """An https server whose certificate a private authority signed."""
    yield from _serve(pki.server_context())


def test_pips_settings_become_the_connection() -> None:
    settings = sort_settings(
        "global.cert='/etc/ca.pem'\nglobal.client-cert='/etc/me.pem'\n"
        "global.proxy='http://proxy:3128'\nglobal.timeout='7'\n"
        "global.trusted-host='a.example b.example:8443'\n"
    )
    assert Connection.from_settings(settings) == Connection(
        ca_file="/etc/ca.pem",
        client_cert="/etc/me.pem",
        proxy="http://proxy:3128",
        timeout=7.0,
        trusted_hosts=frozenset({"a.example", "b.example:8443"}),
    )
    assert Connection.from_settings(None) == Connection()
    with pytest.raises(InstallError, match="timeout"):
        Connection.from_settings(sort_settings("global.timeout='soon'\n"))


def test_a_private_authority_given_as_cert_is_trusted(
    https_index: str, pki: Pki, tmp_path: Path
) -> None:
    ca, client = pki.authority, pki.client
    url = f"{https_index}/files/demo-1.0-py3-none-any.whl"
    with pytest.raises(InstallError, match="download failed"):  # the system's authorities
        fetch_url(url, tmp_path, expected_sha256=None)
    connection = Connection(ca_file=str(ca), client_cert=str(client))
    fetched = fetch_url(url, tmp_path, expected_sha256=None, connection=connection)
    assert fetched.path.read_bytes() == BODY


def test_only_a_trusted_host_goes_unchecked(https_index: str, tmp_path: Path) -> None:
    url = f"{https_index}/files/demo-1.0-py3-none-any.whl"
    port = url.split(":")[2].split("/")[0]
    others = Connection(trusted_hosts=frozenset({"localhost", f"127.0.0.1:{int(port) + 1}"}))
    with pytest.raises(InstallError, match="download failed"):
        fetch_url(url, tmp_path, expected_sha256=None, connection=others)
    this = Connection(trusted_hosts=frozenset({f"127.0.0.1:{port}"}))
    fetched = fetch_url(url, tmp_path, expected_sha256=None, connection=this)
    assert fetched.path.read_bytes() == BODY


def test_the_index_hash_is_checked_whatever_the_connection(
    https_index: str, tmp_path: Path
) -> None:
    url = f"{https_index}/files/demo-1.0-py3-none-any.whl"
    port = url.split(":")[2].split("/")[0]
    trusted = Connection(trusted_hosts=frozenset({f"127.0.0.1:{port}"}))
    with pytest.raises(Exception, match="does not match the index"):
        fetch_url(url, tmp_path, expected_sha256="00" * 32, connection=trusted)


def test_downloads_go_through_pips_proxy(tmp_path: Path) -> None:
    _Files.seen = []
    for proxy in _serve():
        connection = Connection(proxy=proxy)
        url = "http://index.invalid/files/demo-1.0-py3-none-any.whl"
        fetched = fetch_url(url, tmp_path, expected_sha256=None, connection=connection)
        assert fetched.path.read_bytes() == BODY
    assert _Files.seen == ["http://index.invalid/files/demo-1.0-py3-none-any.whl"]
