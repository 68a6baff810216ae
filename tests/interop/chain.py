"""Supply chains carried out with the reference CLIs, decided by both verifiers.

Steps run through the reference ``in-toto-run`` / ``in-toto-record`` with PKCS#8 keys made by
``cryptography``; layouts are signed either with the reference's Python API or with ours.
``decide`` runs ``in-toto-verify`` and ``intoto-pip verify`` on separate copies of the
folder (inspections change it, and the reference leaves ``<inspection>.link`` behind).
"""

from __future__ import annotations

import contextlib
import io
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from intoto_pip.cli.main import main
from intoto_pip.crypto.keys import load_public_key, load_signer
from intoto_pip.models.envelope import dump_envelope, sign_payload
from tests.interop.conftest import ReferenceCLI

EXPIRES = "2099-01-01T00:00:00Z"
EXPIRED = "2001-01-01T00:00:00Z"
LINK_DIR_EXTRA = "links"


def _private_key(keytype: str) -> PrivateKeyTypes:
    if keytype == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if keytype == "ecdsa":
        return ec.generate_private_key(ec.SECP256R1())
    return ed25519.Ed25519PrivateKey.generate()


@dataclass(frozen=True)
class Keys:
    """PKCS#8 ``<name>`` and SPKI ``<name>.pub`` files in one folder."""

    folder: Path

    def create(self, name: str, keytype: str = "ed25519") -> None:
        key = _private_key(keytype)
        self.folder.mkdir(parents=True, exist_ok=True)
        private = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        public = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.private(name).write_bytes(private)
        self.public(name).write_bytes(public)

    def private(self, name: str) -> Path:
        return self.folder / name

    def public(self, name: str) -> Path:
        return self.folder / f"{name}.pub"

    def keyid(self, name: str) -> str:
        return load_public_key(self.public(name)).keyid

    def keydict(self, name: str) -> dict[str, Any]:
        return load_public_key(self.public(name)).to_keydict()


@dataclass(frozen=True)
class Reference:
    """The reference producer CLIs, failing loudly if a step does not succeed."""

    cli: ReferenceCLI
    keys: Keys

    def _check(self, tool: str, args: list[str], cwd: Path) -> None:
        done = self.cli.run(tool, *args, cwd=cwd)
        if done.returncode != 0:
            raise AssertionError(f"{tool} {args} failed: {done.stderr}")

    def run(
        self,
        cwd: Path,
        step: str,
        who: str,
        command: Sequence[str] = (),
        *,
        materials: Sequence[str] = (),
        products: Sequence[str] = (),
        dsse: bool = False,
        out: Path | None = None,
    ) -> None:
        args = ["-n", step, "--signing-key", str(self.keys.private(who))]
        args += self._paths(materials, products, dsse, out)
        args += ["--", *command] if command else ["-x"]
        self._check("in-toto-run", args, cwd)

    def record(
        self,
        cwd: Path,
        action: str,
        step: str,
        who: str,
        paths: Sequence[str],
        *,
        dsse: bool = False,
    ) -> None:
        flag = "-m" if action == "start" else "-p"
        args = [action, "-n", step, "--signing-key", str(self.keys.private(who)), flag, *paths]
        self._check("in-toto-record", [*args, *(["--use-dsse"] if dsse else [])], cwd)

    @staticmethod
    def _paths(
        materials: Sequence[str], products: Sequence[str], dsse: bool, out: Path | None
    ) -> list[str]:
        args: list[str] = []
        if materials:
            args += ["-m", *materials]
        if products:
            args += ["-p", *products]
        if dsse:
            args.append("--use-dsse")
        if out is not None:
            args += ["-d", str(out)]
        return args


def sign_with_reference(
    payload: dict[str, Any], keys: Sequence[Path], out: Path, *, dsse: bool = False
) -> None:
    """Sign a layout (or sublayout) with the reference's Python API."""
    from in_toto.models._signer import load_crypto_signer_from_pkcs8_file
    from in_toto.models.layout import Layout
    from in_toto.models.metadata import Envelope, Metablock

    layout = Layout.read(payload)
    metadata = Envelope.from_signable(layout) if dsse else Metablock(signed=layout)
    for path in keys:
        metadata.create_signature(load_crypto_signer_from_pkcs8_file(str(path)))
    metadata.dump(str(out))


def sign_with_ours(
    payload: dict[str, Any], keys: Sequence[Path], out: Path, *, dsse: bool = False
) -> None:
    envelope = sign_payload(payload, [load_signer(path) for path in keys], dsse=dsse)
    out.write_bytes(dump_envelope(envelope))


@dataclass(frozen=True)
class Verdicts:
    reference: int
    ours: int
    reference_output: str
    our_output: str

    @property
    def agree(self) -> bool:
        return (self.reference == 0) == (self.ours == 0)


def decide_reference(
    cli: ReferenceCLI, folder: Path, layout_keys: Sequence[Path]
) -> tuple[int, str]:
    keys = [str(path) for path in layout_keys]
    done = cli.run("in-toto-verify", "-l", "root.layout", "--verification-keys", *keys, cwd=folder)
    return done.returncode, done.stdout + done.stderr


def decide_ours(
    folder: Path, layout_keys: Sequence[Path], extra: Sequence[str] = ()
) -> tuple[int, str]:
    keys = [str(path) for path in layout_keys]
    captured = io.StringIO()
    with (
        contextlib.chdir(folder),
        contextlib.redirect_stderr(captured),
        contextlib.redirect_stdout(captured),
    ):
        code = main(["verify", "-l", "root.layout", "--verification-keys", *keys, *extra])
    return code, captured.getvalue()


def decide(cli: ReferenceCLI, folder: Path, layout_keys: Sequence[Path]) -> Verdicts:
    """Both verifiers, each on its own copy of ``folder``."""
    theirs = folder.with_name(folder.name + "-reference")
    mine = folder.with_name(folder.name + "-ours")
    shutil.copytree(folder, theirs, symlinks=True)
    shutil.copytree(folder, mine, symlinks=True)
    reference, reference_output = decide_reference(cli, theirs, layout_keys)
    ours, our_output = decide_ours(mine, layout_keys)
    return Verdicts(reference, ours, reference_output, our_output)


def demo_layout(keys: Keys, *, expires: str = EXPIRES) -> dict[str, Any]:
    """The reference demo's layout (bob clones and updates, carl packages, untar inspects)."""
    return {
        "_type": "layout",
        "expires": expires,
        "readme": "",
        "keys": {keys.keyid(who): keys.keydict(who) for who in ("bob", "carl")},
        "steps": [
            {
                "_type": "step",
                "name": "clone",
                "pubkeys": [keys.keyid("bob")],
                "threshold": 1,
                "expected_materials": [],
                "expected_products": [["CREATE", "demo-project/foo.py"], ["DISALLOW", "*"]],
                "expected_command": ["git", "clone", "https://github.com/in-toto/demo-project.git"],
            },
            {
                "_type": "step",
                "name": "update-version",
                "pubkeys": [keys.keyid("bob")],
                "threshold": 1,
                "expected_materials": [
                    ["MATCH", "demo-project/*", "WITH", "PRODUCTS", "FROM", "clone"],
                    ["DISALLOW", "*"],
                ],
                "expected_products": [["MODIFY", "demo-project/foo.py"], ["DISALLOW", "*"]],
                "expected_command": [],
            },
            {
                "_type": "step",
                "name": "package",
                "pubkeys": [keys.keyid("carl")],
                "threshold": 1,
                "expected_materials": [
                    ["MATCH", "demo-project/*", "WITH", "PRODUCTS", "FROM", "update-version"],
                    ["DISALLOW", "*"],
                ],
                "expected_products": [["CREATE", "demo-project.tar.gz"], ["DISALLOW", "*"]],
                "expected_command": [
                    "tar",
                    "--exclude",
                    ".git",
                    "-zcvf",
                    "demo-project.tar.gz",
                    "demo-project",
                ],
            },
        ],
        "inspect": [
            {
                "_type": "inspection",
                "name": "untar",
                "run": ["tar", "xzf", "demo-project.tar.gz"],
                "expected_materials": [
                    ["MATCH", "demo-project.tar.gz", "WITH", "PRODUCTS", "FROM", "package"],
                    ["ALLOW", ".keep"],
                    ["ALLOW", "alice.pub"],
                    ["ALLOW", "root.layout"],
                    ["ALLOW", "*.link"],
                    ["DISALLOW", "*"],
                ],
                "expected_products": [
                    ["MATCH", "demo-project/foo.py", "WITH", "PRODUCTS", "FROM", "update-version"],
                    ["ALLOW", "demo-project/.git/*"],
                    ["ALLOW", "demo-project.tar.gz"],
                    ["ALLOW", ".keep"],
                    ["ALLOW", "alice.pub"],
                    ["ALLOW", "root.layout"],
                    ["ALLOW", "*.link"],
                    ["DISALLOW", "*"],
                ],
            }
        ],
    }


def carry_out_demo(reference: Reference, work: Path, final: Path, *, dsse: bool = False) -> None:
    """The demo's steps in ``work``; the final product and links are copied to ``final``."""
    work.mkdir(parents=True)
    create = "mkdir demo-project && echo 'VERSION = \"foo-v0\"' > demo-project/foo.py"
    reference.run(work, "clone", "bob", ["sh", "-c", create], products=["demo-project"], dsse=dsse)
    reference.record(work, "start", "update-version", "bob", ["demo-project"], dsse=dsse)
    (work / "demo-project" / "foo.py").write_text('VERSION = "foo-v1"\n')
    reference.record(work, "stop", "update-version", "bob", ["demo-project"], dsse=dsse)
    tar = ["tar", "--exclude", ".git", "-zcvf", "demo-project.tar.gz", "demo-project"]
    reference.run(
        work,
        "package",
        "carl",
        tar,
        materials=["demo-project"],
        products=["demo-project.tar.gz"],
        dsse=dsse,
    )
    final.mkdir(parents=True)
    for link in work.glob("*.link"):
        shutil.copy2(link, final / link.name)
    shutil.copy2(work / "demo-project.tar.gz", final / "demo-project.tar.gz")
    shutil.copy2(reference.keys.public("alice"), final / "alice.pub")
