"""``verify ARCHIVE``: embedded and detached metadata, the built-in final-product check,
inspections in the sandbox, parameters, trust from the policy, and archive attacks."""

from __future__ import annotations

import hashlib
import io
import json
import sys
import tarfile
import warnings
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from intoto_pip.cli.main import main
from intoto_pip.models.envelope import dump_envelope, sign_payload
from intoto_pip.models.layout import Inspection
from intoto_pip.models.rules import parse_rules
from intoto_pip.store import link_filename, sublayout_dirname
from intoto_pip.verify.archive import ArchiveVerifyRequest, verify_archive
from intoto_pip.verify.policy import Trust
from tests.support.signing import (
    Project,
    layout_payload,
    link_payload,
    make_key,
    signed_sdist,
    write_sdist,
)
from tests.support.wheels import wheel_members, write_wheel

FILES = {"demo_pkg/__init__.py": b"VALUE = 1\n"}
WHEEL = "demo_pkg-1.0-py3-none-any.whl"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    return Project(tmp_path_factory.mktemp("keys"))


def _request(project: Project, **kwargs: object) -> ArchiveVerifyRequest:
    trust = Trust(layout_keys=(project.owner.public,))
    return ArchiveVerifyRequest(trust_for=lambda name: trust, **kwargs)  # type: ignore[arg-type]


def _cli(*args: str) -> int:
    return main(["verify", *args])


def test_signed_wheel_verifies(project: Project, tmp_path: Path) -> None:
    wheel = project.signed_wheel(tmp_path, "demo-pkg", "1.0", FILES)
    verdict = verify_archive(wheel, _request(project))
    assert verdict.verified, verdict.reason
    assert verdict.mode == "embedded"
    assert verdict.name == "demo-pkg"
    assert verdict.layout_keys == (project.owner.public.keyid,)
    assert verdict.functionaries == {"build": (project.functionary.public.keyid,)}


def test_cli_exit_codes(
    project: Project, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wheel = project.signed_wheel(tmp_path, "demo-pkg", "1.0", FILES)
    assert _cli(str(wheel), "--layout-key", str(project.owner.public_path)) == 0
    assert "verified" in capsys.readouterr().out
    assert _cli(str(wheel), "--layout-key", str(project.functionary.public_path)) == 1
    assert "no valid signature" in capsys.readouterr().err
    assert _cli(str(wheel), "--layout-key", str(tmp_path / "missing.pub")) == 2
    assert _cli(str(wheel)) == 2
    assert _cli(str(tmp_path / "nothing.whl"), "--layout-key", str(project.owner.public_path)) == 2
    assert (
        _cli(str(wheel), "--layout-key", str(project.owner.public_path), "--param", "NAME=x") == 2
    )


def test_json_output(project: Project, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wheel = project.signed_wheel(tmp_path, "demo-pkg", "1.0", FILES)
    assert _cli(str(wheel), "--layout-key", str(project.owner.public_path), "--json") == 0
    [entry] = json.loads(capsys.readouterr().out)
    assert entry["verified"] is True and entry["archive"] == WHEEL


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        ({"demo_pkg/__init__.py": b"VALUE = 2\n"}, "different contents: 'demo_pkg/__init__.py'"),
        ({"demo_pkg/extra.py": b"evil()\n"}, "not among the products: 'demo_pkg/extra.py'"),
    ],
)
def test_final_product_check_binds_the_bytes(
    project: Project, tmp_path: Path, tamper: dict[str, bytes], expected: str
) -> None:
    wheel = project.signed_wheel(tmp_path, "demo-pkg", "1.0", FILES, tamper=tamper)
    verdict = verify_archive(wheel, _request(project))
    assert not verdict.verified
    assert "built-in final-product check" in verdict.reason and expected in verdict.reason


def test_missing_product_is_refused(project: Project, tmp_path: Path) -> None:
    members = wheel_members("demo-pkg", "1.0", {**FILES, "demo_pkg/b.py": b"B\n"})
    info = "demo_pkg-1.0.dist-info"
    for rel, data in project.metadata_files(members).items():
        members[f"{info}/in-toto/{rel}"] = data
    del members["demo_pkg/b.py"]
    wheel = write_wheel(tmp_path / WHEEL, members, f"{info}/RECORD")
    verdict = verify_archive(wheel, _request(project))
    assert "missing from the archive: 'demo_pkg/b.py'" in verdict.reason


def _plain_wheel(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    members = wheel_members("demo-pkg", "1.0", FILES)
    return write_wheel(folder / WHEEL, members, "demo_pkg-1.0.dist-info/RECORD")


def _detached(project: Project, folder: Path, archive: Path) -> None:
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    folder.mkdir(parents=True)
    products = {archive.name: {"sha256": digest}}
    envelope = sign_payload(
        layout_payload(project.functionary.public), [project.owner.signer], dsse=False
    )
    (folder / "root.layout").write_bytes(dump_envelope(envelope))
    link = sign_payload(link_payload("build", products), [project.functionary.signer], dsse=True)
    (folder / link_filename("build", project.functionary.public.keyid)).write_bytes(
        dump_envelope(link)
    )


def test_detached_metadata_beside_the_archive(project: Project, tmp_path: Path) -> None:
    wheel = _plain_wheel(tmp_path)
    assert verify_archive(wheel, _request(project)).no_metadata
    _detached(project, tmp_path / f"{WHEEL}.intoto", wheel)
    verdict = verify_archive(wheel, _request(project))
    assert verdict.verified, verdict.reason
    assert verdict.mode == "detached"


def test_detached_metadata_binds_the_archive_file(project: Project, tmp_path: Path) -> None:
    wheel = _plain_wheel(tmp_path / "a")
    _detached(project, tmp_path / "meta" / f"{WHEEL}.intoto", wheel)
    other = tmp_path / "b" / WHEEL
    other.parent.mkdir()
    members = wheel_members("demo-pkg", "1.0", {"demo_pkg/__init__.py": b"EVIL = 1\n"})
    write_wheel(other, members, "demo_pkg-1.0.dist-info/RECORD")
    key = str(project.owner.public_path)
    assert _cli(str(wheel), "--layout-key", key, "--metadata", str(tmp_path / "meta")) == 0
    assert _cli(str(other), "--layout-key", key, "--metadata", str(tmp_path / "meta")) == 1


def test_signed_sdist_verifies_with_prefixed_names(project: Project, tmp_path: Path) -> None:
    sdist = signed_sdist(project, tmp_path, "demo", "1.0", {"demo.py": b"x = 1\n"})
    verdict = verify_archive(sdist, _request(project))
    assert verdict.verified, verdict.reason


def _inspection_layout(project: Project, script: str) -> dict[str, object]:
    inspection = Inspection(
        name="check",
        run=(sys.executable, "-c", script),
        expected_materials=parse_rules(
            [["MATCH", "*", "WITH", "PRODUCTS", "FROM", "build"], ["DISALLOW", "*"]], where="t"
        ),
    )
    return layout_payload(project.functionary.public, inspections=[inspection])


def test_inspection_runs_in_the_sandbox(project: Project, tmp_path: Path) -> None:
    # PYTHONSAFEPATH=1: the sandbox is put on sys.path by the layout, after the standard library.
    script = (
        "import sys; sys.path.append('.'); import demo_pkg; "
        "sys.exit(0 if demo_pkg.VALUE == 1 else 1)"
    )
    layout = _inspection_layout(project, script)
    wheel = project.signed_wheel(tmp_path, "demo-pkg", "1.0", FILES, layout=layout)
    verdict = verify_archive(wheel, _request(project))
    assert verdict.verified, verdict.reason
    assert verdict.inspections == ("check",)


def test_no_inspection_writes_nothing_into_the_sandbox(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without inspections the final-product check uses the hashes taken when the archive was
    checked; with one, the product is written for it to look at."""
    from intoto_pip.archives.checked import CheckedArchive

    written: list[str] = []
    extract = CheckedArchive.extract_products

    def spy(self: CheckedArchive, dest: Path) -> dict[str, str]:
        written.append(self.archive.filename)
        return extract(self, dest)

    monkeypatch.setattr(CheckedArchive, "extract_products", spy)
    plain = project.signed_wheel(tmp_path / "a", "demo-pkg", "1.0", FILES)
    assert verify_archive(plain, _request(project)).verified
    assert written == []
    layout = _inspection_layout(project, "import sys; sys.path.append('.'); import demo_pkg")
    inspected = project.signed_wheel(tmp_path / "b", "demo-pkg", "1.0", FILES, layout=layout)
    assert verify_archive(inspected, _request(project)).verified
    assert written == [WHEEL]


def test_failing_inspection_refuses(project: Project, tmp_path: Path) -> None:
    layout = _inspection_layout(project, "import sys; sys.exit(3)")
    wheel = project.signed_wheel(tmp_path, "demo-pkg", "1.0", FILES, layout=layout)
    verdict = verify_archive(wheel, _request(project))
    assert not verdict.verified and "check" in verdict.reason


@pytest.mark.parametrize(("package", "verified"), [("demo_pkg", True), ("other", False)])
def test_name_parameter_is_substituted(
    project: Project, tmp_path: Path, package: str, verified: bool
) -> None:
    rules = [["REQUIRE", "{NAME}/__init__.py"], ["ALLOW", "*"]]
    layout = layout_payload(project.functionary.public, product_rules=rules)
    files = {f"{package}/__init__.py": b"x = 1\n"}
    wheel = project.signed_wheel(tmp_path, "demo-pkg", "1.0", files, layout=layout)
    verdict = verify_archive(wheel, _request(project))
    assert verdict.verified is verified, verdict.reason


def test_expired_layout_is_refused(project: Project, tmp_path: Path) -> None:
    past = datetime.now(UTC) - timedelta(days=1)
    layout = layout_payload(project.functionary.public, expires=past)
    wheel = project.signed_wheel(tmp_path, "demo-pkg", "1.0", FILES, layout=layout)
    verdict = verify_archive(wheel, _request(project))
    assert not verdict.verified and "expired" in verdict.reason


def test_policy_keys_and_out_of_band_layout(project: Project, tmp_path: Path) -> None:
    wheel = project.signed_wheel(tmp_path / "w", "demo-pkg", "1.0", FILES)
    other_owner = make_key(tmp_path / "k", "owner2")
    envelope = sign_payload(
        layout_payload(project.functionary.public), [other_owner.signer], dsse=False
    )
    (tmp_path / "oob.layout").write_bytes(dump_envelope(envelope))
    policy = tmp_path / "policy.toml"
    policy.write_text(
        '[projects."Demo_Pkg"]\nlayout-keys = ["k/owner2.pub"]\nlayout = "oob.layout"\n'
    )
    assert _cli(str(wheel), "--policy", str(policy)) == 0
    # The shipped layout (signed by the first owner) is not what the policy trusts.
    policy.write_text('[projects.demo-pkg]\nlayout-keys = ["k/owner2.pub"]\n')
    assert _cli(str(wheel), "--policy", str(policy)) == 1
    policy.write_text("[projects.demo-pkg]\nlayout-keys = []\n")
    assert _cli(str(wheel), "--policy", str(policy)) == 2


def test_no_metadata_exit_1(
    project: Project, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wheel = _plain_wheel(tmp_path)
    assert _cli(str(wheel), "--layout-key", str(project.owner.public_path)) == 1
    assert "no in-toto metadata" in capsys.readouterr().err


# -- archive attacks: refused before anything is written outside the sandbox ---------------


def _zip(path: Path, entries: list[tuple[zipfile.ZipInfo | str, bytes]]) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about duplicate names
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            for info, data in entries:
                archive.writestr(info, data)
    return path


def _symlink_info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = 0o120777 << 16
    return info


def _tar(path: Path, entries: list[tarfile.TarInfo]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for info in entries:
            archive.addfile(info, io.BytesIO(b"x" * info.size) if info.isfile() else None)
    return path


def _tar_info(
    name: str, kind: bytes = tarfile.REGTYPE, size: int = 1, link: str = ""
) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.size, info.linkname = kind, size if kind == tarfile.REGTYPE else 0, link
    return info


TAR = "demo-1.0.tar.gz"
ATTACKS: dict[str, Callable[[Path], Path]] = {
    "zip-dotdot": lambda d: _zip(d / WHEEL, [("../evil.py", b"x")]),
    "zip-absolute": lambda d: _zip(d / WHEEL, [("/tmp/evil.py", b"x")]),
    "zip-duplicate": lambda d: _zip(d / WHEEL, [("demo_pkg/a.py", b"1"), ("demo_pkg/a.py", b"2")]),
    "zip-symlink": lambda d: _zip(d / WHEEL, [(_symlink_info("demo_pkg/link"), b"/etc/passwd")]),
    "zip-case-collision": lambda d: _zip(
        d / WHEEL, [("demo_pkg/A.py", b"1"), ("demo_pkg/a.py", b"2")]
    ),
    # Over the 64 MiB floor above which ArchiveLimits caps the ratio.
    "zip-bomb": lambda d: _zip(d / WHEEL, [("demo_pkg/zeros.bin", bytes(80 * 1024 * 1024))]),
    "tar-symlink": lambda d: _tar(d / TAR, [_tar_info("demo-1.0/l", tarfile.SYMTYPE, link="/etc")]),
    "tar-hardlink": lambda d: _tar(
        d / TAR, [_tar_info("demo-1.0/h", tarfile.LNKTYPE, link="/etc/passwd")]
    ),
    "tar-device": lambda d: _tar(d / TAR, [_tar_info("demo-1.0/dev", tarfile.CHRTYPE)]),
    "tar-dotdot": lambda d: _tar(d / TAR, [_tar_info("demo-1.0/../../evil.py")]),
}

EXPECTED = {
    "zip-dotdot": "escapes the archive root",
    "zip-absolute": "is an absolute path",
    "zip-duplicate": "is a duplicate member",
    "zip-symlink": "is a symbolic link",
    "zip-case-collision": "collides with",
    "zip-bomb": "zip bomb",
    "tar-symlink": "is a symbolic link",
    "tar-hardlink": "is a hard link",
    "tar-device": "is a character device",
    "tar-dotdot": "escapes the archive root",
}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_archive_attacks_are_refused(
    project: Project, tmp_path: Path, attack: str, capsys: pytest.CaptureFixture[str]
) -> None:
    work = tmp_path / "work" / "deep"
    work.mkdir(parents=True)
    archive = ATTACKS[attack](work)
    sandboxes = tmp_path / "sandboxes"
    sandboxes.mkdir()
    verdict = verify_archive(archive, _request(project, sandbox_parent=sandboxes))
    assert not verdict.verified and EXPECTED[attack] in verdict.reason
    assert list(sandboxes.iterdir()) == []
    assert sorted(p.name for p in tmp_path.rglob("*")) == sorted(
        ["work", "deep", archive.name, "sandboxes"]
    )
    assert _cli(str(archive), "--layout-key", str(project.owner.public_path)) == 1
    err = capsys.readouterr().err
    assert "NOT verified" in err and "Traceback" not in err


def test_record_mismatch_is_refused(project: Project, tmp_path: Path) -> None:
    members = wheel_members("demo-pkg", "1.0", FILES)
    info = "demo_pkg-1.0.dist-info"
    for rel, data in project.metadata_files(members).items():
        members[f"{info}/in-toto/{rel}"] = data
    record = "".join(f"{name},sha256=AAAA,{len(data)}\n" for name, data in members.items())
    members[f"{info}/RECORD"] = record.encode() + f"{info}/RECORD,,\n".encode()
    wheel = write_wheel(tmp_path / WHEEL, members, f"{info}/RECORD", record=False)
    verdict = verify_archive(wheel, _request(project))
    assert not verdict.verified and "RECORD" in verdict.reason


def test_sdist_without_metadata_is_refused(project: Project, tmp_path: Path) -> None:
    members = {"demo-1.0/PKG-INFO": b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n\n"}
    sdist = write_sdist(tmp_path / TAR, members)
    verdict = verify_archive(sdist, _request(project))
    assert verdict.no_metadata


@pytest.mark.parametrize(
    "crafted",
    [
        "demo_pkg-1.0-py3-none-any;touch${IFS}pwned.whl",
        "demo_pkg-1.0-py3-none-any$(id).whl",
        "demo_pkg-1.0-py3-none-any*.whl",
        "demo_pkg-1.0-py3-none-any[x].whl",
        "demo_pkg-1.0-py3-none-any x.whl",
    ],
)
def test_parameters_taken_from_a_file_name_pass_the_param_check(
    project: Project, tmp_path: Path, capsys: pytest.CaptureFixture[str], crafted: str
) -> None:
    # {ARCHIVE} may reach a shell through an inspection (`sh -c "unzip {ARCHIVE}"`): a file
    # name that the wheel-name grammar lets through must still not carry shell or glob syntax.
    wheel = project.signed_wheel(tmp_path, "demo-pkg", "1.0", FILES)
    renamed = wheel.rename(tmp_path / crafted)
    assert _cli(str(renamed), "--layout-key", str(project.owner.public_path)) == 1
    err = capsys.readouterr().err
    assert crafted in err and "ARCHIVE" in err


UNREAD = {
    "a stray file": "payload.py",
    "a link for a key the layout does not name": "build.deadbeef.link",
    "a link of a step the layout does not have": link_filename("release", "ab" * 32),
    "a file in a folder": "notes/readme.txt",
}


@pytest.mark.parametrize("case", sorted(UNREAD))
def test_evidence_folder_holding_files_no_verification_reads_is_refused(
    project: Project, tmp_path: Path, case: str
) -> None:
    """The in-toto folder is not part of the final product, so anything in it that the
    verification did not read would be installed unverified."""
    stray = f"demo_pkg-1.0.dist-info/in-toto/{UNREAD[case]}"
    wheel = project.signed_wheel(tmp_path, "demo-pkg", "1.0", FILES, tamper={stray: b"x = 1\n"})
    verdict = verify_archive(wheel, _request(project))
    assert not verdict.verified
    assert verdict.reason == (
        f"{WHEEL}:demo_pkg-1.0.dist-info/in-toto/ holds files that no verification reads: "
        f"{UNREAD[case]!r} (an evidence folder holds only the layout, the links of its steps "
        "and of their sublayouts)"
    )


def test_sdist_evidence_folder_holding_a_stray_file_is_refused(
    project: Project, tmp_path: Path
) -> None:
    sdist = signed_sdist(project, tmp_path, "demo", "1.0", {"demo/__init__.py": b"A = 1\n"})
    with tarfile.open(sdist) as archive:
        members = {m.name: archive.extractfile(m).read() for m in archive if m.isfile()}  # type: ignore[union-attr]
    members["demo-1.0/.in-toto/extra.py"] = b"evil()\n"
    verdict = verify_archive(write_sdist(sdist, members), _request(project))
    assert not verdict.verified
    assert "demo-1.0/.in-toto/ holds files that no verification reads: 'extra.py'" in verdict.reason


def test_sublayout_links_in_the_evidence_folder_are_read(project: Project, tmp_path: Path) -> None:
    members = wheel_members("demo-pkg", "1.0", FILES)
    info = "demo_pkg-1.0.dist-info"
    functionary = project.functionary
    products = {
        name: {"sha256": hashlib.sha256(data).hexdigest()} for name, data in members.items()
    }
    sublayout = layout_payload(functionary.public, step="compile")
    keyid = functionary.public.keyid
    folder = sublayout_dirname("build", keyid)
    inner = link_payload("compile", products)
    files = {
        "root.layout": dump_envelope(
            sign_payload(layout_payload(functionary.public), [project.owner.signer], dsse=False)
        ),
        link_filename("build", functionary.public.keyid): dump_envelope(
            sign_payload(sublayout, [functionary.signer], dsse=False)
        ),
        f"{folder}/{link_filename('compile', keyid)}": dump_envelope(
            sign_payload(inner, [functionary.signer], dsse=False)
        ),
    }
    for rel, data in files.items():
        members[f"{info}/in-toto/{rel}"] = data
    wheel = write_wheel(tmp_path / WHEEL, members, f"{info}/RECORD")
    verdict = verify_archive(wheel, _request(project))
    assert verdict.verified, verdict.reason
