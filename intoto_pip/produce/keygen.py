"""Make a functionary's key pair: NAME (PKCS#8, owner-only) and NAME.pub (SPKI)."""

from __future__ import annotations

from pathlib import Path

from intoto_pip.crypto.keys import PublicKey, generate_private_key_pem, public_key_from_pem
from intoto_pip.errors import InputError
from intoto_pip.store import write_atomic

KEY_TYPES = ("ed25519", "rsa", "ecdsa")
PRIVATE_KEY_MODE = 0o600


def public_key_path(private_path: Path) -> Path:
    return private_path.with_name(private_path.name + ".pub")


def write_key_pair(
    path: Path, keytype: str = "ed25519", *, password: str | None = None, overwrite: bool = False
) -> PublicKey:
    """Generate a key pair and write both files atomically; return the public key.

    Refuses (InputError) to replace existing files unless ``overwrite``: a lost private
    key cannot be recovered.
    """
    if keytype not in KEY_TYPES:
        raise InputError(f"unknown key type {keytype!r}: use one of {', '.join(KEY_TYPES)}")
    public_path = public_key_path(path)
    if not overwrite:
        for existing in (path, public_path):
            if existing.exists() or existing.is_symlink():
                raise InputError(f"{existing} already exists: choose another name, or give --force")
    if not path.parent.is_dir():
        raise InputError(f"folder {str(path.parent)!r} does not exist")
    private_pem, public_pem = generate_private_key_pem(keytype, password)
    # The private key is created owner-only from the start (the temp file is 0600).
    write_atomic(path, private_pem, mode=PRIVATE_KEY_MODE)
    write_atomic(public_path, public_pem)
    return public_key_from_pem(public_pem, source=str(public_path))
