"""The real PEP 740 attestations in fixtures/pep740/ (see its NOTICE), and ways to mutate them.

Also ``no_network``: a guard that fails any socket connection that leaves loopback, so a test
proves the Sigstore checks open none.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent / "fixtures" / "pep740"
PYPI_SDIST = ROOT / "pypi_attestations-0.0.19.tar.gz"
GITLAB_SDIST = ROOT / "gitlab_oidc_project-0.0.3.tar.gz"
RFC_WHEEL = ROOT / "rfc8785-0.1.2-py3-none-any.whl"
PYPI_PIN = "github:trailofbits/pypi-attestations@release.yml"
GITLAB_PIN = "gitlab:facutuesca/gitlab-oidc-project@.gitlab-ci.yml"


def attestation(archive: Path, kind: str = "publish") -> dict[str, Any]:
    data: dict[str, Any] = json.loads((ROOT / f"{archive.name}.{kind}.attestation").read_text())
    return data


def provenance_object(archive: Path) -> dict[str, Any]:
    """The PEP 740 provenance object for an archive (the real one where the fixtures have it)."""
    real = ROOT / f"{archive.name}.provenance"
    if real.exists():
        data: dict[str, Any] = json.loads(real.read_text())
        return data
    publisher = {
        "kind": "GitLab",
        "repository": "facutuesca/gitlab-oidc-project",
        "workflow_filepath": ".gitlab-ci.yml",
        "environment": None,
    }
    bundle = {"publisher": publisher, "attestations": [attestation(archive)]}
    return {"version": 1, "attestation_bundles": [bundle]}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def edit_statement(item: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """The attestation with its signed statement edited after signing (signature unchanged)."""
    statement = json.loads(base64.b64decode(item["envelope"]["statement"]))
    statement.update(changes)
    encoded = base64.b64encode(json.dumps(statement).encode()).decode()
    return {**item, "envelope": {**item["envelope"], "statement": encoded}}


def staging_root() -> Path:
    """sigstore's embedded staging trust root (the instance the rfc8785 file was signed on)."""
    from importlib.resources import files

    folder = files("sigstore").joinpath("_store", "https%3A%2F%2Ftuf-repo-cdn.sigstage.dev")
    return Path(str(folder.joinpath("trusted_root.json")))


def _loopback(address: object) -> bool:
    host = address[0] if isinstance(address, tuple) else address
    if isinstance(host, str) and host == "localhost":
        return True
    try:
        return ipaddress.ip_address(str(host)).is_loopback
    except ValueError:
        return False  # a host name: it would be resolved and leave the machine


@contextmanager
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[object]]:
    """Fail every connection to a non-loopback address; yield the attempts made."""
    attempts: list[object] = []
    real_connect = socket.socket.connect
    real_create = socket.create_connection

    def connect(self: socket.socket, address: Any) -> None:
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _loopback(address):
            attempts.append(address)
            raise OSError(f"test: network connection to {address} refused")
        real_connect(self, address)

    def create_connection(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
        if not _loopback(address):
            attempts.append(address)
            raise OSError(f"test: network connection to {address} refused")
        return real_create(address, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "create_connection", create_connection)
    yield attempts
