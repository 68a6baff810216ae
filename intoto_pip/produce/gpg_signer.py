"""Signing with GnuPG and reading keys out of a keyring, through the ``gpg`` binary.

As the reference does: signatures come from ``gpg --detach-sign --digest-algo SHA256``
(``--local-user KEYID`` when a key is named, the keyring's default key otherwise), public keys
from ``gpg --export KEYID``. Everything gpg prints is then read by our own parser
(``crypto.gpg_keyring``); only the private key operation is left to gpg. The command is
``$GNUPG`` if set, else ``gpg2`` or ``gpg`` on PATH.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from intoto_pip.crypto.gpg_keyring import key_from_export, signature_entry
from intoto_pip.crypto.gpg_keys import GpgKey
from intoto_pip.errors import InputError, KeyLoadError, MetadataError

GPG_MISSING: Final = (
    "gpg not found: signing or reading keyrings with GPG needs GnuPG "
    "(Debian/Ubuntu: apt-get install gnupg; macOS: brew install gnupg)"
)
# Long enough for a passphrase prompt or a hardware token's touch.
TIMEOUT: Final = 120.0


@dataclass(frozen=True, kw_only=True)
class GpgOptions:
    """Which keyring to use: ``home`` is ``--homedir`` (None: gpg's default)."""

    home: Path | None = None
    timeout: float = TIMEOUT


def gpg_command() -> str:
    """The gpg program to run; InputError naming what to install if there is none."""
    for name in (os.environ.get("GNUPG"), "gpg2", "gpg"):
        if name and shutil.which(name):
            return name
    raise InputError(GPG_MISSING)


def _run(args: Sequence[str], options: GpgOptions, data: bytes = b"") -> bytes:
    command = [gpg_command()]
    if options.home is not None:
        command += ["--homedir", str(options.home)]
    command += list(args)
    try:
        done = subprocess.run(
            command, input=data, capture_output=True, timeout=options.timeout, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise KeyLoadError(f"gpg {args[0]} did not finish within {options.timeout:g} s") from exc
    except OSError as exc:
        raise InputError(f"cannot run gpg: {exc.strerror or exc}") from exc
    if done.returncode != 0:
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        reason = lines[-1] if lines else f"exit code {done.returncode}"
        raise KeyLoadError(f"gpg {args[0]} failed: {reason}")
    return done.stdout


def export_key(keyid: str, options: GpgOptions) -> GpgKey:
    """The public key (with its signing subkeys) that ``keyid`` names in the keyring."""
    data = _run(["--export", keyid], options)
    if not data:
        raise KeyLoadError(f"no GPG key {keyid} in the keyring{_where(options)}")
    try:
        return key_from_export(data, keyid, where=f"gpg key {keyid}")
    except MetadataError as exc:
        raise KeyLoadError(str(exc)) from exc


def export_keys(keyids: Sequence[str], options: GpgOptions) -> tuple[GpgKey, ...]:
    return tuple(export_key(keyid, options) for keyid in keyids)


def _where(options: GpgOptions) -> str:
    return f" {options.home}" if options.home is not None else ""


def _detach_sign(keyid: str | None, data: bytes, options: GpgOptions) -> bytes:
    user = ["--local-user", keyid] if keyid else []
    return _run(["--detach-sign", "--digest-algo", "SHA256", *user], options, data)


@dataclass(frozen=True, kw_only=True)
class GpgSigner:
    """A ``Signer`` whose private key stays in GnuPG; ``sign`` returns the signature packet."""

    public_key: GpgKey
    keyid: str | None
    options: GpgOptions

    def sign(self, data: bytes) -> bytes:
        packet = _detach_sign(self.keyid, data, self.options)
        try:
            entry = signature_entry(packet, where="gpg signature")
        except MetadataError as exc:
            raise KeyLoadError(f"gpg made a signature we cannot use: {exc}") from exc
        if not self.public_key.accepts(entry.keyid):
            raise KeyLoadError(
                f"gpg signed with key {entry.keyid}, which is not key "
                f"{self.public_key.keyid} or one of its signing subkeys"
            )
        return packet


def gpg_signer(keyid: str | None, options: GpgOptions) -> GpgSigner:
    """A signer for ``keyid``, or for gpg's default signing key when ``keyid`` is None."""
    if keyid is None:
        # Which key gpg signs with by default is gpg's to say: ask it with a probe signature.
        probe = signature_entry(_detach_sign(None, b"", options), where="gpg signature")
        return GpgSigner(public_key=export_key(probe.keyid, options), keyid=None, options=options)
    return GpgSigner(public_key=export_key(keyid, options), keyid=keyid, options=options)
