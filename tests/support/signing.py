"""Signed test distributions made directly with the library (no build backend needed).

A ``Project`` holds an owner key (signs the layout) and a functionary key (signs the ``build``
link). ``signed_wheel`` writes a wheel whose ``<dist-info>/in-toto/`` holds a layout and a
build link over the wheel's product names (every member but RECORD and the in-toto folder).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from intoto_pip.crypto.keys import (
    PrivateKeySigner,
    PublicKey,
    generate_private_key_pem,
    load_signer,
)
from intoto_pip.models.envelope import dump_envelope, sign_payload
from intoto_pip.models.layout import Inspection, Layout, Step
from intoto_pip.models.link import Link
from intoto_pip.models.rules import parse_rules
from intoto_pip.store import link_filename
from tests.support.wheels import dist_info, wheel_filename, wheel_members, write_wheel

BUILD_COMMAND = ("python", "-m", "build")
DEFAULT_PRODUCT_RULES: tuple[tuple[str, ...], ...] = (("CREATE", "*"),)


@dataclass(frozen=True)
class KeyPair:
    private_path: Path
    public_path: Path
    signer: PrivateKeySigner

    @property
    def public(self) -> PublicKey:
        return self.signer.public_key


def make_key(folder: Path, name: str, keytype: str = "ed25519") -> KeyPair:
    """Write NAME (PKCS#8) and NAME.pub (SPKI) into ``folder``; return both and a signer."""
    folder.mkdir(parents=True, exist_ok=True)
    private_pem, public_pem = generate_private_key_pem(keytype)
    private_path = folder / name
    public_path = folder / f"{name}.pub"
    private_path.write_bytes(private_pem)
    public_path.write_bytes(public_pem)
    return KeyPair(private_path, public_path, load_signer(private_path))


def sha256_artifacts(members: Mapping[str, bytes]) -> dict[str, dict[str, str]]:
    return {name: {"sha256": hashlib.sha256(data).hexdigest()} for name, data in members.items()}


def layout_payload(
    functionary: PublicKey,
    *,
    step: str = "build",
    product_rules: Sequence[Sequence[str]] = DEFAULT_PRODUCT_RULES,
    inspections: Sequence[Inspection] = (),
    expires: datetime | None = None,
) -> dict[str, Any]:
    layout = Layout(
        steps=(
            Step(
                name=step,
                pubkeys=(functionary.keyid,),
                threshold=1,
                expected_products=parse_rules([list(r) for r in product_rules], where="test"),
                expected_command=BUILD_COMMAND,
            ),
        ),
        inspect=tuple(inspections),
        keys={functionary.keyid: functionary},
        expires=expires or datetime.now(UTC) + timedelta(days=30),
    )
    return layout.to_dict()


def link_payload(step: str, products: Mapping[str, Mapping[str, str]]) -> dict[str, Any]:
    link = Link(name=step, command=BUILD_COMMAND, products=products)
    return link.to_dict()


@dataclass
class Project:
    """An owner and a functionary key for one project, kept in ``folder``."""

    folder: Path
    owner: KeyPair = field(init=False)
    functionary: KeyPair = field(init=False)

    def __post_init__(self) -> None:
        self.owner = make_key(self.folder, "owner")
        self.functionary = make_key(self.folder, "functionary")

    def metadata_files(
        self,
        products: Mapping[str, bytes],
        *,
        layout: Mapping[str, Any] | None = None,
        link_products: Mapping[str, Mapping[str, str]] | None = None,
    ) -> dict[str, bytes]:
        """{relative name: bytes} of a signed root.layout and build link over ``products``."""
        layout_dict = dict(layout) if layout else layout_payload(self.functionary.public)
        envelope = sign_payload(layout_dict, [self.owner.signer], dsse=False)
        chosen = link_products if link_products is not None else sha256_artifacts(products)
        link = sign_payload(link_payload("build", chosen), [self.functionary.signer], dsse=False)
        return {
            "root.layout": dump_envelope(envelope),
            link_filename("build", self.functionary.public.keyid): dump_envelope(link),
        }

    def signed_wheel(
        self,
        folder: Path,
        name: str,
        version: str,
        files: Mapping[str, bytes],
        *,
        requires: Sequence[str] = (),
        entry_points: str | None = None,
        layout: Mapping[str, Any] | None = None,
        tamper: Mapping[str, bytes] | None = None,
    ) -> Path:
        """A wheel with embedded metadata; ``tamper`` replaces members after signing."""
        members = wheel_members(name, version, files, requires=requires, entry_points=entry_points)
        info = dist_info(name, version)
        for rel, data in self.metadata_files(members, layout=layout).items():
            members[f"{info}/in-toto/{rel}"] = data
        members.update(tamper or {})
        folder.mkdir(parents=True, exist_ok=True)
        return write_wheel(folder / wheel_filename(name, version), members, f"{info}/RECORD")


def write_sdist(path: Path, members: Mapping[str, bytes]) -> Path:
    """A .tar.gz holding ``members`` as regular files (mode 0644)."""
    import io
    import tarfile

    with tarfile.open(path, "w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            archive.addfile(info, io.BytesIO(data))
    return path


def sdist_members(name: str, version: str, files: Mapping[str, bytes]) -> dict[str, bytes]:
    top = f"{name}-{version}"
    pkg_info = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\n".encode()
    members = {f"{top}/PKG-INFO": pkg_info}
    members.update({f"{top}/{rel}": data for rel, data in files.items()})
    return members


def signed_sdist(
    project: Project, folder: Path, name: str, version: str, files: Mapping[str, bytes]
) -> Path:
    """An sdist with ``<name>-<ver>/.in-toto/`` over its members (named with the prefix)."""
    members = sdist_members(name, version, files)
    for rel, data in project.metadata_files(members).items():
        members[f"{name}-{version}/.in-toto/{rel}"] = data
    folder.mkdir(parents=True, exist_ok=True)
    return write_sdist(folder / f"{name}-{version}.tar.gz", members)
