"""Key files for producer tests: generated once per key type per session, copied per test."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from intoto_pip.crypto.keys import (
    PrivateKeySigner,
    PublicKey,
    generate_private_key_pem,
    load_signer,
)

KEY_TYPES = ("ed25519", "rsa", "ecdsa")


@cache
def _pems(keytype: str, variant: int, password: str | None) -> tuple[bytes, bytes]:
    return generate_private_key_pem(keytype, password)


@dataclass(frozen=True)
class KeyFiles:
    private: Path
    public: Path

    def signer(self, password: str | None = None) -> PrivateKeySigner:
        return load_signer(self.private, password)

    @property
    def key(self) -> PublicKey:
        return self.signer().public_key if not _encrypted(self.private) else _public(self)


def _encrypted(path: Path) -> bool:
    return b"ENCRYPTED" in path.read_bytes()


def _public(files: KeyFiles) -> PublicKey:
    from intoto_pip.crypto.keys import load_public_key

    return load_public_key(files.public)


def write_key(
    folder: Path,
    name: str,
    keytype: str = "ed25519",
    *,
    variant: int = 0,
    password: str | None = None,
) -> KeyFiles:
    """NAME and NAME.pub in ``folder``; the same (keytype, variant, password) gives one key."""
    private_pem, public_pem = _pems(keytype, variant, password)
    private = folder / name
    public = folder / f"{name}.pub"
    private.write_bytes(private_pem)
    public.write_bytes(public_pem)
    return KeyFiles(private, public)
