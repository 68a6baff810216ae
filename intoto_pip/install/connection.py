"""How intoto-pip's own downloads connect: the way pip was told to.

pip resolves with the connection settings of its environment and files (``pip_settings``:
``cert``, ``client-cert``, ``proxy``, ``timeout``, ``trusted-host``); the files it picks are
then downloaded here, and must be reached the same way: a private index behind a company proxy
with its own certificate authority would otherwise resolve and then fail to download.

As pip: ``cert`` replaces the default certificate authorities, ``client-cert`` (one PEM file
with the key and the certificate) is shown to servers that ask, ``proxy`` carries http and https
(else the ``http_proxy``/``https_proxy`` environment, as before), and ``trusted-host`` turns
the certificate check off for those hosts (``host`` or ``host:port``). What is downloaded is
verified either way: the index's sha256 and the in-toto evidence decide, not the connection.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass
from email.message import Message
from types import TracebackType
from typing import TYPE_CHECKING, Protocol

from intoto_pip.errors import InstallError

if TYPE_CHECKING:
    import ssl
    import urllib.request

    from intoto_pip.install.pip_settings import PipSettings

DEFAULT_TIMEOUT = 60.0


class Response(Protocol):
    """What ``Connection.open`` returns: urllib's response (http, https or file)."""

    headers: Message

    def read(self, size: int = -1, /) -> bytes: ...

    def __enter__(self) -> Response: ...

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
        /,
    ) -> None: ...


@dataclass(frozen=True, kw_only=True)
class Connection:
    ca_file: str | None = None
    client_cert: str | None = None
    proxy: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    trusted_hosts: frozenset[str] = frozenset()

    @classmethod
    def from_settings(cls, settings: PipSettings | None) -> Connection:
        """The connection pip's taken settings describe (the defaults without any)."""
        if settings is None:
            return cls()
        timeout = DEFAULT_TIMEOUT
        given = settings.value("timeout")
        if given is not None:
            try:
                timeout = float(given)
            except ValueError:
                raise InstallError(f"pip setting timeout={given!r} is not a number") from None
        return cls(
            ca_file=settings.value("cert") or None,
            client_cert=settings.value("client-cert") or None,
            proxy=settings.value("proxy") or None,
            timeout=timeout if timeout > 0 else DEFAULT_TIMEOUT,
            trusted_hosts=frozenset(
                word for v in settings.values("trusted-host") for word in v.split()
            ),
        )

    def open(self, request: str | urllib.request.Request) -> Response:
        """Open ``request`` (an http, https or file URL) through this connection."""
        import urllib.request  # here: it brings http.client and ssl, which local installs skip

        url = request if isinstance(request, str) else request.full_url
        handlers: list[urllib.request.BaseHandler] = []
        if self.proxy:
            handlers.append(urllib.request.ProxyHandler({"http": self.proxy, "https": self.proxy}))
        if urllib.parse.urlsplit(url).scheme == "https":
            handlers.append(urllib.request.HTTPSHandler(context=self._context(url)))
        opener = urllib.request.build_opener(*handlers)
        response: Response = opener.open(request, timeout=self.timeout)
        return response

    def _context(self, url: str) -> ssl.SSLContext:
        import ssl

        parts = urllib.parse.urlsplit(url)
        host = parts.hostname or ""
        trusted = host in self.trusted_hosts or f"{host}:{parts.port}" in self.trusted_hosts
        try:
            context = ssl.create_default_context(cafile=self.ca_file)
            if trusted:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            if self.client_cert:
                context.load_cert_chain(self.client_cert)
        except (OSError, ssl.SSLError) as exc:
            raise InstallError(f"cannot set up the connection to {host}: {exc}") from exc
        return context
