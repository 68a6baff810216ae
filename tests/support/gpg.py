"""GPG test data: the committed fixtures (no gpg needed) and a temporary keyring (gpg needed)."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from fixtures.gpg.generate import DATA, gnupg_home, gpg
from intoto_pip.crypto.gpg_keys import GpgKey
from intoto_pip.models.envelope import Envelope, parse_envelope

# A fresh GNUPGHOME whose agent is stopped afterwards: the generator's, one for both.
keyring = gnupg_home

# After every fixture key was made (2020) and before any unexpired one could lapse.
NOW = datetime(2026, 1, 1, tzinfo=UTC)
NAMES = (
    "rsa",
    "dsa",
    "ed25519",
    "rsa-subkey",
    "ed25519-subkey",
    "expired-subkey",
    "expired-key",
    "encrypt-subkey",
    "revoked-subkey",
)

needs_gpg = pytest.mark.skipif(
    shutil.which("gpg") is None, reason="the gpg binary is not installed (apt-get install gnupg)"
)


def keydict(name: str) -> dict[str, Any]:
    """The key dict the reference exported for fixture key ``name``."""
    value: dict[str, Any] = json.loads((DATA / f"{name}.json").read_text())
    return value


def reference_key(name: str) -> GpgKey:
    return GpgKey.from_keydict(keydict(name), where=name)


def export_bytes(name: str) -> bytes:
    return (DATA / f"{name}.gpg").read_bytes()


def link(name: str) -> Envelope:
    path = DATA / f"{name}.link"
    return parse_envelope(path.read_bytes(), what=str(path))


def link_document(name: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads((DATA / f"{name}.link").read_text())
    return value


def new_key(home: Path, name: str, algorithm: str, usage: str = "sign") -> str:
    """Make a key without passphrase; return its fingerprint."""
    gpg(home, "--quick-gen-key", f"{name} <{name}@test.invalid>", algorithm, usage, "never")
    listing = gpg(home, "--with-colons", "--list-keys", f"<{name}@test.invalid>").decode()
    return next(line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr"))


def add_subkey(home: Path, fingerprint: str, algorithm: str) -> None:
    gpg(home, "--quick-add-key", fingerprint, algorithm, "sign", "never")


def _mpi(value: int) -> bytes:
    return value.bit_length().to_bytes(2, "big") + value.to_bytes((value.bit_length() + 7) // 8)


def subpacket(kind: int, data: bytes, *, critical: bool = False) -> bytes:
    return bytes([len(data) + 1, kind | (0x80 if critical else 0)]) + data


class SoftKey:
    """An RSA GPG key held in memory, to sign what gpg never would (odd headers, short MPIs)."""

    def __init__(self, created: int = 1_600_000_000, validity: int | None = None) -> None:
        from cryptography.hazmat.primitives.asymmetric import rsa

        from intoto_pip.crypto.gpg_packets import fingerprint_of

        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        numbers = self.private.public_key().public_numbers()
        body = b"\x04" + created.to_bytes(4, "big") + b"\x01" + _mpi(numbers.n) + _mpi(numbers.e)
        self.key = GpgKey(
            keyid=fingerprint_of(body),
            type="rsa",
            public=(("e", f"{numbers.e:x}".rjust(6, "0")), ("n", f"{numbers.n:x}")),
            creation_time=created,
            validity_period=validity,
        )

    def header(self, *extra: bytes, hash_id: int = 8, created: int = 1_700_000_000) -> bytes:
        """other_headers: v4, binary, RSA, ``hash_id``, with creation time and issuer."""
        hashed = subpacket(2, created.to_bytes(4, "big"))
        hashed += subpacket(33, b"\x04" + bytes.fromhex(self.key.keyid)) + b"".join(extra)
        return bytes([4, 0, 1, hash_id]) + len(hashed).to_bytes(2, "big") + hashed

    def sign(self, data: bytes, header: bytes) -> bytes:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        trailer = b"\x04\xff" + len(header).to_bytes(4, "big")
        return self.private.sign(data + header + trailer, padding.PKCS1v15(), hashes.SHA256())
