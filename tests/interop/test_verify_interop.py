"""``intoto-pip verify`` decides reference-made supply chains as ``in-toto-verify`` does.

Every scenario starts from the reference demo flow (clone, update-version, package, untar
inspection) carried out with the reference CLIs, changes one thing, and asks both
verifiers. The one documented divergence (DESIGN §4: inspections see ``.git``, ``*.pyc``
and ``*~``) has its own test, which asserts that the verdicts differ.
"""

from __future__ import annotations

import io
import json
import shutil
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from intoto_pip.store import link_filename, sublayout_dirname
from tests.interop.chain import (
    EXPIRED,
    Keys,
    Reference,
    carry_out_demo,
    decide,
    demo_layout,
    sign_with_ours,
    sign_with_reference,
)
from tests.interop.conftest import ReferenceCLI

Layout = dict[str, Any]


@dataclass(frozen=True)
class Demo:
    root: Path
    keys: Keys
    reference: Reference

    def link(self, folder: Path, step: str, who: str) -> Path:
        return folder / link_filename(step, self.keys.keyid(who))

    def work_copy(self, name: str) -> Path:
        """A private copy of the folder the demo's steps ran in."""
        copy = self.root / "work-copies" / name
        shutil.copytree(self.root / "work", copy)
        return copy


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, reference_cli: ReferenceCLI) -> Demo:
    root = tmp_path_factory.mktemp("demo")
    keys = Keys(root / "keys")
    for name, keytype in [
        ("alice", "ed25519"),
        ("alice2", "ecdsa"),
        ("bob", "ed25519"),
        ("carl", "ecdsa"),
        ("dave", "rsa"),
        ("mallory", "ed25519"),
    ]:
        keys.create(name, keytype)
    reference = Reference(reference_cli, keys)
    carry_out_demo(reference, root / "work", root / "final")
    carry_out_demo(reference, root / "work-dsse", root / "final-dsse", dsse=True)
    return Demo(root, keys, reference)


Prepare = Callable[[Demo, Path], None]
EditLayout = Callable[[Layout, Keys], None]


@dataclass(frozen=True)
class Case:
    name: str
    verified: bool
    base: str = "final"
    sign: Callable[..., None] = sign_with_reference
    dsse: bool = False
    signers: tuple[str, ...] = ("alice",)
    verify_with: tuple[str, ...] = ("alice",)
    edit_layout: EditLayout | None = None
    prepare: Prepare | None = None
    says: str = ""  # what our refusal must name


# ---- changes to the final folder ----------------------------------------------------------


def tamper_tarball(demo: Demo, folder: Path) -> None:
    data = b'VERSION = "evil"\n'
    info = tarfile.TarInfo("demo-project/foo.py")
    info.size = len(data)
    with tarfile.open(folder / "demo-project.tar.gz", "w:gz") as archive:
        archive.addfile(info, io.BytesIO(data))


def remove_package_link(demo: Demo, folder: Path) -> None:
    demo.link(folder, "package", "carl").unlink()


def resign_package_link_by_mallory(demo: Demo, folder: Path) -> None:
    from intoto_pip.crypto.keys import load_signer
    from intoto_pip.models.envelope import dump_envelope, sign_payload

    path = demo.link(folder, "package", "carl")
    payload = json.loads(path.read_text())["signed"]
    mallory = load_signer(demo.keys.private("mallory"))
    path.write_bytes(dump_envelope(sign_payload(payload, [mallory], dsse=False)))


def tamper_link_hash(demo: Demo, folder: Path) -> None:
    path = demo.link(folder, "package", "carl")
    document = json.loads(path.read_text())
    document["signed"]["products"]["demo-project.tar.gz"]["sha256"] = "0" * 64
    path.write_text(json.dumps(document))


def add_extra_file(demo: Demo, folder: Path) -> None:
    (folder / "evil.sh").write_text("echo pwned\n")


def add_git_and_pyc(demo: Demo, folder: Path) -> None:
    (folder / ".git").mkdir()
    (folder / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (folder / "cache.pyc").write_bytes(b"\x00")


def bob_also_packages(demo: Demo, folder: Path) -> None:
    work = demo.work_copy(f"bob-{folder.name}")
    demo.reference.run(
        work, "package", "bob", materials=["demo-project"], products=["demo-project.tar.gz"]
    )
    shutil.copy2(demo.link(work, "package", "bob"), demo.link(folder, "package", "bob"))


def bob_packages_something_else(demo: Demo, folder: Path) -> None:
    work = demo.work_copy(f"bob-{folder.name}")
    tamper_tarball(demo, work)
    demo.reference.run(
        work, "package", "bob", materials=["demo-project"], products=["demo-project.tar.gz"]
    )
    shutil.copy2(demo.link(work, "package", "bob"), demo.link(folder, "package", "bob"))


def sublayout_payload(keys: Keys) -> Layout:
    """carl delegates 'package' to dave's step 'pack'."""
    return {
        "_type": "layout",
        "expires": "2099-01-01T00:00:00Z",
        "readme": "",
        "keys": {keys.keyid("dave"): keys.keydict("dave")},
        "steps": [
            {
                "_type": "step",
                "name": "pack",
                "pubkeys": [keys.keyid("dave")],
                "threshold": 1,
                "expected_materials": [["ALLOW", "demo-project/*"], ["DISALLOW", "*"]],
                "expected_products": [["CREATE", "demo-project.tar.gz"], ["DISALLOW", "*"]],
                "expected_command": [],
            }
        ],
        "inspect": [],
    }


def delegate_package(demo: Demo, folder: Path, *, signer: str = "dave") -> None:
    keys = demo.keys
    sign_with_reference(
        sublayout_payload(keys), [keys.private("carl")], demo.link(folder, "package", "carl")
    )
    subfolder = folder / sublayout_dirname("package", keys.keyid("carl"))
    subfolder.mkdir()
    work = demo.work_copy(f"dave-{folder.name}")
    demo.reference.run(
        work, "pack", signer, materials=["demo-project"], products=["demo-project.tar.gz"]
    )
    made = work / link_filename("pack", keys.keyid(signer))
    shutil.copy2(made, subfolder / link_filename("pack", keys.keyid("dave")))


def delegate_package_to_impostor(demo: Demo, folder: Path) -> None:
    delegate_package(demo, folder, signer="mallory")


# ---- changes to the layout ------------------------------------------------------------------


def expire(layout: Layout, keys: Keys) -> None:
    layout["expires"] = EXPIRED


def failing_inspection(layout: Layout, keys: Keys) -> None:
    layout["inspect"][0]["run"] = ["false"]


def package_threshold_two(layout: Layout, keys: Keys) -> None:
    package = layout["steps"][2]
    package["pubkeys"] = [keys.keyid("carl"), keys.keyid("bob")]
    package["threshold"] = 2


def prefixed_match(dest_prefix: str) -> EditLayout:
    def edit(layout: Layout, keys: Keys) -> None:
        rule = [
            "MATCH",
            "foo.py",
            "IN",
            "demo-project",
            "WITH",
            "PRODUCTS",
            "IN",
            dest_prefix,
            "FROM",
            "update-version",
        ]
        layout["inspect"][0]["expected_products"][0] = rule

    return edit


def create_instead_of_modify(layout: Layout, keys: Keys) -> None:
    layout["steps"][1]["expected_products"][0] = ["CREATE", "demo-project/foo.py"]


def require_consumed(layout: Layout, keys: Keys) -> None:
    layout["inspect"][0]["expected_materials"].insert(1, ["REQUIRE", "demo-project.tar.gz"])


CASES = [
    Case("demo-classic", True),
    Case("demo-dsse", True, base="final-dsse", dsse=True),
    Case("classic-links-our-dsse-layout", True, sign=sign_with_ours, dsse=True),
    Case("dsse-links-our-classic-layout", True, base="final-dsse", sign=sign_with_ours),
    Case(
        "tampered-tarball",
        False,
        prepare=tamper_tarball,
        says="expected_materials[5] 'DISALLOW *' disallowed materials: 'demo-project.tar.gz'",
    ),
    Case("missing-link", False, prepare=remove_package_link, says="step 'package' needs 1 link"),
    Case(
        "link-signed-by-unauthorised-key",
        False,
        prepare=resign_package_link_by_mallory,
        says="no valid signature by key",
    ),
    Case(
        "link-changed-after-signing",
        False,
        prepare=tamper_link_hash,
        says="no valid signature by key",
    ),
    Case(
        "wrong-layout-key",
        False,
        verify_with=("mallory",),
        says="layout: no valid signature by key",
    ),
    Case(
        "expired-layout", False, edit_layout=expire, says="layout expired at 2001-01-01T00:00:00Z"
    ),
    Case("two-layout-keys", True, signers=("alice", "alice2"), verify_with=("alice", "alice2")),
    Case(
        "second-layout-key-missing",
        False,
        verify_with=("alice", "alice2"),
        says="layout: no valid signature by key",
    ),
    Case(
        "extra-file-in-final-product",
        False,
        prepare=add_extra_file,
        says="disallowed materials: 'evil.sh'",
    ),
    Case(
        "failing-inspection",
        False,
        edit_layout=failing_inspection,
        says="inspection 'untar': command 'false' exited with 1",
    ),
    Case("threshold-met", True, edit_layout=package_threshold_two, prepare=bob_also_packages),
    Case(
        "threshold-short",
        False,
        edit_layout=package_threshold_two,
        says="step 'package' needs 2 link(s) signed by distinct authorised keys, found 1",
    ),
    Case(
        "threshold-disagree",
        False,
        edit_layout=package_threshold_two,
        prepare=bob_packages_something_else,
        says="report different products: 'demo-project.tar.gz'",
    ),
    Case("sublayout", True, prepare=delegate_package),
    Case(
        "sublayout-link-by-impostor",
        False,
        prepare=delegate_package_to_impostor,
        says="step 'pack' needs 1 link",
    ),
    Case("match-with-prefixes", True, edit_layout=prefixed_match("demo-project")),
    Case(
        "match-with-wrong-prefix",
        False,
        edit_layout=prefixed_match("elsewhere"),
        says="disallowed products: 'demo-project/foo.py'",
    ),
    Case(
        "step-rule-create-vs-modify",
        False,
        edit_layout=create_instead_of_modify,
        says="step 'update-version': expected_products[1] 'DISALLOW *'",
    ),
    Case(
        "require-after-consumption",
        False,
        edit_layout=require_consumed,
        says="did not find 'demo-project.tar.gz' (an earlier rule consumed it)",
    ),
]


def build(demo: Demo, case: Case) -> Path:
    folder = demo.root / "scenarios" / case.name
    shutil.copytree(demo.root / case.base, folder)
    layout = demo_layout(demo.keys)
    if case.edit_layout is not None:
        case.edit_layout(layout, demo.keys)
    signers = [demo.keys.private(name) for name in case.signers]
    case.sign(layout, signers, folder / "root.layout", dsse=case.dsse)
    if case.prepare is not None:
        case.prepare(demo, folder)
    return folder


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_same_verdict_as_reference(demo: Demo, reference_cli: ReferenceCLI, case: Case) -> None:
    folder = build(demo, case)
    verdicts = decide(reference_cli, folder, [demo.keys.public(name) for name in case.verify_with])
    assert (verdicts.reference == 0) == case.verified, verdicts.reference_output
    assert (verdicts.ours == 0) == case.verified, verdicts.our_output
    if not case.verified:
        assert verdicts.ours == 1
        assert case.says in verdicts.our_output
        assert "Traceback" not in verdicts.our_output
        assert verdicts.our_output.count("intoto-pip: error:") == 1


def test_documented_divergence_inspections_see_git_and_pyc(
    demo: Demo, reference_cli: ReferenceCLI
) -> None:
    # DESIGN §4: the reference hides '.git', '*.pyc' and '*~' from inspections; we do not.
    folder = build(demo, Case("divergence-git-pyc", True, prepare=add_git_and_pyc))
    verdicts = decide(reference_cli, folder, [demo.keys.public("alice")])
    assert verdicts.reference == 0, verdicts.reference_output
    assert verdicts.ours == 1
    assert "disallowed materials: '.git/HEAD', 'cache.pyc'" in verdicts.our_output
