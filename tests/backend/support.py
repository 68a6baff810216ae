"""Projects, keys and layouts for the backend tests (fake backend, real keys, real signatures)."""

from __future__ import annotations

import io
import tarfile
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from intoto_pip.models.envelope import dump_envelope, parse_envelope, sign_payload
from intoto_pip.models.layout import Layout, Step
from intoto_pip.models.link import Link
from intoto_pip.models.rules import parse_rules
from intoto_pip.store import link_filename
from tests.support.signing import KeyPair, make_key

FAKE_BACKEND = "tests.backend.fake_backend"
SOURCE = {"src/demo/__init__.py": b"VALUE = 1\n", "src/demo/tool.py": b"print('hi')\n"}


@dataclass(frozen=True)
class Keys:
    owner: KeyPair
    builder: KeyPair
    other: KeyPair


def make_keys(folder: Path, builder_type: str = "ed25519") -> Keys:
    return Keys(
        owner=make_key(folder, "owner"),
        builder=make_key(folder, "builder", builder_type),
        other=make_key(folder, "other"),
    )


def layout_bytes(
    owner: KeyPair,
    steps: Sequence[tuple[str, Sequence[KeyPair]]],
    *,
    expires: datetime | None = None,
) -> bytes:
    """A signed layout with the given (step, functionaries); rules allow everything."""
    keys = {pair.public.keyid: pair.public for _, pairs in steps for pair in pairs}
    layout = Layout(
        steps=tuple(
            Step(
                name=name,
                pubkeys=tuple(pair.public.keyid for pair in pairs),
                expected_products=parse_rules([["ALLOW", "*"]], where="test"),
            )
            for name, pairs in steps
        ),
        inspect=(),
        keys=keys,
        expires=expires or datetime.now(UTC) + timedelta(days=30),
    )
    return dump_envelope(sign_payload(layout.to_dict(), [owner.signer], dsse=False))


def link_file(
    step: str, signer: KeyPair, products: Mapping[str, str] | None = None
) -> tuple[str, bytes]:
    link = Link(name=step, products={n: {"sha256": h} for n, h in (products or {}).items()})
    envelope = sign_payload(link.to_dict(), [signer.signer], dsse=False)
    return link_filename(step, signer.public.keyid), dump_envelope(envelope)


def make_project(
    root: Path,
    *,
    layout: bytes | None,
    links: Mapping[str, bytes] | None = None,
    backend: str = FAKE_BACKEND,
    settings: str = "",
) -> Path:
    """A project using intoto_pip.backend, with clutter the recorder must leave out."""
    table = f'backend = "{backend}"\nlinks = "in-toto/links"\n{settings}'
    files = {
        "pyproject.toml": (
            '[build-system]\nrequires = ["intoto-pip"]\nbuild-backend = "intoto_pip.backend"\n'
            '[project]\nname = "demo"\nversion = "1.0"\n'
            f"[tool.intoto-pip.build]\n{table}"
        ).encode(),
        **SOURCE,
        ".git/HEAD": b"ref: refs/heads/main\n",
        "build/lib/demo/__init__.py": b"stale\n",
        "src/demo/__pycache__/tool.cpython-311.pyc": b"\0",
        "demo.egg-info/PKG-INFO": b"stale\n",
    }
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    if layout is not None:
        (root / "in-toto").mkdir(exist_ok=True)
        (root / "in-toto/root.layout").write_bytes(layout)
    (root / "in-toto/links").mkdir(parents=True, exist_ok=True)
    for name, data in (links or {}).items():
        (root / "in-toto/links" / name).write_bytes(data)
    return root


def archive_members(path: Path) -> dict[str, bytes]:
    """Regular members of a wheel or .tar.gz sdist, in archive order."""
    if path.suffix == ".whl":
        with zipfile.ZipFile(path) as archive:
            return {i.filename: archive.read(i) for i in archive.infolist() if not i.is_dir()}
    with tarfile.open(path, "r:gz") as tar:
        found: dict[str, bytes] = {}
        for member in tar.getmembers():
            handle = tar.extractfile(member) if member.isfile() else None
            if handle is not None:
                found[member.name] = handle.read()
        return found


def in_toto_files(path: Path, prefix: str) -> dict[str, bytes]:
    members = archive_members(path)
    return {n[len(prefix) :]: d for n, d in members.items() if n.startswith(prefix)}


def read_link(data: bytes) -> Link:
    return Link.from_dict(parse_envelope(data, what="link").payload)


def unpack_sdist(path: Path, dest: Path) -> Path:
    with tarfile.open(path, "r:gz") as tar:
        tar.extractall(dest, filter="data")
    (top,) = dest.iterdir()
    return top


def tar_bytes(members: Mapping[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()
