"""The PEP 517 hooks of intoto_pip.backend, in process, over a fake real backend."""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from pathlib import Path

import pytest

import intoto_pip.backend as hooks
from intoto_pip.archives.checked import open_checked
from intoto_pip.backend.delegate import BackendError
from intoto_pip.backend.evidence import EvidenceWarning
from intoto_pip.crypto.keys import generate_private_key_pem
from intoto_pip.errors import InputError, KeyLoadError, VerificationError
from intoto_pip.models.envelope import dump_envelope, parse_envelope, sign_payload, verified_keys
from intoto_pip.produce.embed import final_products
from tests.backend import fake_backend
from tests.backend.support import (
    Keys,
    archive_members,
    in_toto_files,
    layout_bytes,
    link_file,
    make_keys,
    make_project,
    read_link,
    unpack_sdist,
)

WHEEL_INTOTO = "demo-1.0.dist-info/in-toto/"
SDIST_INTOTO = "demo-1.0/.in-toto/"


@pytest.fixture
def keys(tmp_path: Path) -> Keys:
    return make_keys(tmp_path / "keys")


@pytest.fixture
def project(tmp_path: Path, keys: Keys, monkeypatch: pytest.MonkeyPatch) -> Path:
    layout = layout_bytes(keys.owner, [("test", [keys.other]), ("build", [keys.builder])])
    links = dict([link_file("test", keys.other)])
    # The owner's key as PEM text: each signed build is verified before the hook returns.
    pem = keys.owner.public_path.read_text()
    settings = f'layout-keys = ["""{pem}"""]\n'
    root = make_project(tmp_path / "proj", layout=layout, links=links, settings=settings)
    monkeypatch.chdir(root)
    for name in ("INTOTO_PIP_SIGNING_KEY", "INTOTO_PIP_SIGNING_KEY_PASSWORD", "SOURCE_DATE_EPOCH"):
        monkeypatch.delenv(name, raising=False)
    fake_backend.CALLS.clear()
    return root


@pytest.fixture
def signing(keys: Keys, project: Path, monkeypatch: pytest.MonkeyPatch) -> Keys:
    monkeypatch.setenv("INTOTO_PIP_SIGNING_KEY", str(keys.builder.private_path))
    return keys


def set_table(project: Path, extra: str) -> None:
    path = project / "pyproject.toml"
    path.write_text(path.read_text() + extra)


# --- delegation -------------------------------------------------------------------------------


OPTIONAL = (
    "prepare_metadata_for_build_wheel",
    "build_editable",
    "get_requires_for_build_editable",
    "prepare_metadata_for_build_editable",
)


@pytest.mark.parametrize("hook", ["prepare_metadata_for_build_wheel", "build_editable"])
def test_optional_hooks_are_there_when_the_real_backend_has_them(project: Path, hook: str) -> None:
    assert hasattr(hooks, hook)


def test_optional_hooks_are_absent_when_the_real_backend_lacks_them(project: Path) -> None:
    text = (project / "pyproject.toml").read_text()
    (project / "pyproject.toml").write_text(
        text.replace('"tests.backend.fake_backend"', '"tests.backend.fake_backend:Minimal"')
    )
    for hook in OPTIONAL:
        assert not hasattr(hooks, hook), hook
    assert not hasattr(hooks, "UnsupportedOperation")
    assert hooks.get_requires_for_build_wheel(None) == []


def test_fake_backend_lacks_some_optional_hooks(project: Path) -> None:
    # The fake backend has no get_requires_for_build_editable: neither have we.
    assert not hasattr(hooks, "get_requires_for_build_editable")
    assert not hasattr(hooks, "prepare_metadata_for_build_editable")
    assert hooks.UnsupportedOperation is fake_backend.UnsupportedOperation


def test_get_requires_are_the_real_backends_and_settings_are_forwarded(project: Path) -> None:
    settings = {"--build-option": ["--x"], "key": "value"}
    assert hooks.get_requires_for_build_wheel(settings) == ["fake-requirement>=1"]
    assert hooks.get_requires_for_build_sdist(settings) == ["fake-sdist-requirement"]
    assert [
        ("get_requires_for_build_wheel", settings),
        ("get_requires_for_build_sdist", settings),
    ] == fake_backend.CALLS


def test_prepare_metadata_is_forwarded(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "meta"
    out.mkdir()
    assert hooks.prepare_metadata_for_build_wheel(str(out), {"a": "b"}) == "demo-1.0.dist-info"
    assert fake_backend.CALLS == [("prepare_metadata_for_build_wheel", {"a": "b"})]


def test_editable_builds_are_delegated_untouched(
    signing: Keys, project: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    name = hooks.build_editable(str(out), {"e": "1"})
    assert fake_backend.CALLS == [("build_editable", {"e": "1"})]
    assert not any("in-toto" in member for member in archive_members(out / name))


def test_a_failing_backend_becomes_one_clear_error(
    signing: Keys, project: Path, tmp_path: Path
) -> None:
    with pytest.raises(
        BackendError, match=r"'tests\.backend\.fake_backend' failed in build_wheel"
    ) as info:
        hooks.build_wheel(str(tmp_path), {"fail": "compiler exploded"})
    assert "RuntimeError: compiler exploded" in str(info.value)
    assert isinstance(info.value.__cause__, RuntimeError)


def test_unsupported_operation_passes_through(project: Path, tmp_path: Path) -> None:
    with pytest.warns(EvidenceWarning), pytest.raises(fake_backend.UnsupportedOperation):
        hooks.build_sdist(str(tmp_path), {"unsupported": "no sdists here"})


def test_an_unimportable_backend_is_named(project: Path, tmp_path: Path) -> None:
    text = (project / "pyproject.toml").read_text()
    (project / "pyproject.toml").write_text(
        text.replace('"tests.backend.fake_backend"', '"no_such_backend_module.build"')
    )
    with pytest.raises(BackendError, match=r"cannot import the build backend 'no_such_backend_mod"):
        hooks.build_wheel(str(tmp_path))
    with pytest.raises(BackendError, match="list its distribution in \\[build-system\\] requires"):
        hasattr(hooks, "build_editable")


# --- evidence in the wheel --------------------------------------------------------------------


def build(kind: str, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    name = hooks.build_wheel(str(out)) if kind == "wheel" else hooks.build_sdist(str(out))
    return out / name


def test_wheel_carries_layout_earlier_links_and_a_signed_build_link(
    signing: Keys, project: Path, tmp_path: Path
) -> None:
    wheel = build("wheel", tmp_path / "out")
    files = in_toto_files(wheel, WHEEL_INTOTO)
    test_link, build_link = (
        link_file("test", signing.other)[0],
        link_file("build", signing.builder)[0],
    )
    assert sorted(files) == sorted(["root.layout", test_link, build_link])
    assert files["root.layout"] == (project / "in-toto/root.layout").read_bytes()
    assert files[test_link] == (project / "in-toto/links" / test_link).read_bytes()
    envelope = parse_envelope(files[build_link], what="link")
    assert verified_keys(envelope, [signing.builder.public]) == [signing.builder.public]
    # open_checked checks the regenerated RECORD strictly; the products are the final members.
    with open_checked(wheel) as checked:
        assert read_link(files[build_link]).products == final_products(checked)
        assert list(checked.archive.sha256_of_members())[-1] == "demo-1.0.dist-info/RECORD"


def test_materials_are_the_source_tree_before_the_build(
    signing: Keys, project: Path, tmp_path: Path
) -> None:
    wheel = build("wheel", tmp_path / "out")
    link = read_link(in_toto_files(wheel, WHEEL_INTOTO)[link_file("build", signing.builder)[0]])
    expected = {
        name: {"sha256": hashlib.sha256((project / name).read_bytes()).hexdigest()}
        for name in ("pyproject.toml", "src/demo/__init__.py", "src/demo/tool.py")
    }
    # No .git, build/, *.egg-info, __pycache__, in-toto/ (layout and links), nor what the
    # backend wrote during the build (generated.txt).
    assert link.materials == expected
    assert (project / "generated.txt").exists()


def test_sdist_carries_dot_in_toto_with_its_own_link(
    signing: Keys, project: Path, tmp_path: Path
) -> None:
    sdist = build("sdist", tmp_path / "out")
    files = in_toto_files(sdist, SDIST_INTOTO)
    build_link = link_file("build", signing.builder)[0]
    assert sorted(files) == sorted(["root.layout", link_file("test", signing.other)[0], build_link])
    with open_checked(sdist) as checked:
        products = final_products(checked)
    assert read_link(files[build_link]).products == products
    assert "demo-1.0/pyproject.toml" in products
    assert not any(name.startswith(SDIST_INTOTO) for name in products)


def test_wheel_from_unpacked_sdist_uses_dot_in_toto_without_the_sdists_link(
    keys: Keys, project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The sdist is signed by one functionary, the wheel by another: the wheel must carry
    # only its own build link, or a verifier could pick the sdist's.
    monkeypatch.setenv("INTOTO_PIP_SIGNING_KEY", str(keys.other.private_path))
    steps = [("test", [keys.other]), ("build", [keys.other, keys.builder])]
    layout = layout_bytes(keys.owner, steps)
    (project / "in-toto/root.layout").write_bytes(layout)
    sdist = build("sdist", tmp_path / "out")
    unpacked = unpack_sdist(sdist, tmp_path / "unpacked")
    assert not (unpacked / "in-toto").exists()
    monkeypatch.chdir(unpacked)
    monkeypatch.setenv("INTOTO_PIP_SIGNING_KEY", str(keys.builder.private_path))
    wheel = build("wheel", tmp_path / "out")
    files = in_toto_files(wheel, WHEEL_INTOTO)
    earlier = link_file("test", keys.other)[0]
    assert sorted(files) == sorted(["root.layout", earlier, link_file("build", keys.builder)[0]])
    assert files["root.layout"] == layout
    materials = read_link(files[link_file("build", keys.builder)[0]]).materials
    assert "PKG-INFO" in materials
    assert not any(name.startswith(".in-toto") for name in materials)


def test_without_a_key_the_evidence_present_is_embedded_with_a_warning(
    keys: Keys, project: Path, tmp_path: Path
) -> None:
    with pytest.warns(EvidenceWarning, match="INTOTO_PIP_SIGNING_KEY is not set"):
        wheel = build("wheel", tmp_path / "out")
    files = in_toto_files(wheel, WHEEL_INTOTO)
    assert sorted(files) == sorted(["root.layout", link_file("test", keys.other)[0]])


def test_require_signature_makes_a_build_without_a_key_fail(project: Path, tmp_path: Path) -> None:
    set_table(project, "require-signature = true\n")
    with pytest.raises(InputError, match=r"INTOTO_PIP_SIGNING_KEY is not set, but .*require-sig"):
        build("wheel", tmp_path / "out")
    assert fake_backend.CALLS == []


def test_without_a_layout_and_key_the_archive_is_plain(project: Path, tmp_path: Path) -> None:
    (project / "in-toto/root.layout").unlink()
    with pytest.warns(EvidenceWarning) as record:
        wheel = build("wheel", tmp_path / "out")
    assert any("no layout at" in str(w.message) for w in record)
    assert not any("in-toto" in name for name in archive_members(wheel))


def test_a_key_without_a_layout_fails(signing: Keys, project: Path, tmp_path: Path) -> None:
    (project / "in-toto/root.layout").unlink()
    with pytest.raises(InputError, match="no layout to embed"):
        build("wheel", tmp_path / "out")


def test_a_key_inside_the_project_tree_is_refused(
    keys: Keys, project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inside = project / "secret.pem"
    inside.write_bytes(keys.builder.private_path.read_bytes())
    monkeypatch.setenv("INTOTO_PIP_SIGNING_KEY", str(inside))
    with pytest.raises(KeyLoadError, match="inside the project tree"):
        build("wheel", tmp_path / "out")


def test_a_relative_key_path_is_refused_at_the_first_hook(
    keys: Keys, project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``python -m build`` builds the wheel from the unpacked sdist in another folder: a
    relative path that works for the sdist would fail only there. Refused at once."""
    relative = Path(os.path.relpath(keys.builder.private_path, project))
    assert (project / relative).is_file()  # it would be found from the project folder
    monkeypatch.setenv("INTOTO_PIP_SIGNING_KEY", str(relative))
    with pytest.raises(KeyLoadError, match=r"is a relative path: .* give an absolute path"):
        build("sdist", tmp_path / "out")


def test_an_encrypted_key_uses_the_password_variable(
    keys: Keys, project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    private, _ = generate_private_key_pem("ed25519", password="s3cret")
    key = tmp_path / "keys" / "encrypted"
    key.write_bytes(private)
    monkeypatch.setenv("INTOTO_PIP_SIGNING_KEY", str(key))
    with pytest.raises(KeyLoadError, match="encrypted"):
        build("wheel", tmp_path / "out")
    monkeypatch.setenv("INTOTO_PIP_SIGNING_KEY_PASSWORD", "s3cret")
    # The key loads; the layout does not authorise it, which is the next check.
    with pytest.raises(InputError, match="is not among the functionaries of step 'build'"):
        build("wheel", tmp_path / "out")


def test_a_step_missing_from_the_layout_is_refused(
    signing: Keys, project: Path, tmp_path: Path
) -> None:
    set_table(project, 'step = "compile"\n')
    with pytest.raises(InputError, match="has no step 'compile' \\(its steps: 'test', 'build'\\)"):
        build("wheel", tmp_path / "out")


def test_a_configured_step_names_the_link(signing: Keys, project: Path, tmp_path: Path) -> None:
    steps = [("test", [signing.other]), ("compile", [signing.builder])]
    (project / "in-toto/root.layout").write_bytes(layout_bytes(signing.owner, steps))
    set_table(project, 'step = "compile"\nuse-dsse = true\n')
    files = in_toto_files(build("wheel", tmp_path / "out"), WHEEL_INTOTO)
    data = files[link_file("compile", signing.builder)[0]]
    assert parse_envelope(data, what="link").kind == "dsse"
    assert read_link(data).name == "compile"


def test_an_expired_layout_warns(signing: Keys, project: Path, tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    old = datetime.now(UTC) - timedelta(days=1)
    steps = [("test", [signing.other]), ("build", [signing.builder])]
    layout = layout_bytes(signing.owner, steps, expires=old)
    (project / "in-toto/root.layout").write_bytes(layout)
    with (
        pytest.warns(EvidenceWarning, match="expired on .*consumers will refuse it"),
        pytest.raises(VerificationError, match="would not verify against the layout"),
    ):
        build("wheel", tmp_path / "out")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_a_build_the_layout_refuses_writes_nothing(
    signing: Keys, project: Path, tmp_path: Path
) -> None:
    """The layout's last step allows only what it names: a generated file (setuptools-scm's
    _version.py, say) makes the archive unverifiable, and the build fails instead of
    shipping it."""
    layout = layout_bytes(signing.owner, [("test", [signing.other]), ("build", [signing.builder])])
    envelope = json.loads(layout)
    envelope["signed"]["steps"][1]["expected_products"] = [["DISALLOW", "*"]]
    (project / "in-toto/root.layout").write_bytes(
        dump_envelope(sign_payload(envelope["signed"], [signing.owner.signer], dsse=False))
    )
    with pytest.raises(VerificationError, match="just built would not verify"):
        build("wheel", tmp_path / "out")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_without_layout_keys_the_build_warns_that_it_was_not_verified(
    signing: Keys, project: Path, tmp_path: Path
) -> None:
    text = (project / "pyproject.toml").read_text()
    (project / "pyproject.toml").write_text(text.split("layout-keys")[0])
    with pytest.warns(EvidenceWarning, match=r"has no layout-keys: .* was not verified"):
        build("wheel", tmp_path / "out")


def test_a_broken_earlier_link_fails_the_build(
    signing: Keys, project: Path, tmp_path: Path
) -> None:
    name = link_file("test", signing.other)[0]
    (project / "in-toto/links" / name).write_bytes(b"{}")
    with pytest.raises(InputError, match=name):
        build("wheel", tmp_path / "out")


def test_a_link_filed_under_another_step_fails_the_build(
    signing: Keys, project: Path, tmp_path: Path
) -> None:
    name, data = link_file("test", signing.other)
    (project / "in-toto/links" / name).unlink()
    (project / "in-toto/links" / name.replace("test.", "lint.")).write_bytes(data)
    with pytest.raises(InputError, match="signed for step 'test', named for 'lint'"):
        build("wheel", tmp_path / "out")


# --- reproducibility --------------------------------------------------------------------------


def test_source_date_epoch_fixes_every_time(
    signing: Keys, project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    with zipfile.ZipFile(build("wheel", tmp_path / "out")) as archive:
        times = {info.date_time for info in archive.infolist()}
    assert times == {(2023, 11, 14, 22, 13, 20)}


def test_ed25519_builds_are_byte_identical(
    signing: Keys, project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    # The fake backend writes generated.txt into the tree; the setting leaves it out.
    set_table(project, 'exclude = ["/generated.txt"]\n')
    for kind in ("wheel", "sdist"):
        first = build(kind, tmp_path / "one").read_bytes()
        second = build(kind, tmp_path / "two").read_bytes()
        assert first == second, kind


def test_ecdsa_builds_differ_only_in_signature_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = make_keys(tmp_path / "ec-keys", builder_type="ecdsa")
    layout = layout_bytes(keys.owner, [("build", [keys.builder])])
    settings = 'exclude = ["generated.txt"]\nlayout-keys = ["../ec-keys/owner.pub"]\n'
    project = make_project(tmp_path / "ec", layout=layout, settings=settings)
    monkeypatch.chdir(project)
    monkeypatch.setenv("INTOTO_PIP_SIGNING_KEY", str(keys.builder.private_path))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    first, second = build("wheel", tmp_path / "one"), build("wheel", tmp_path / "two")
    one, two = archive_members(first), archive_members(second)
    link = WHEEL_INTOTO + link_file("build", keys.builder)[0]
    differing = {name for name in one if one[name] != two[name]}
    # ECDSA (random nonce) and RSA-PSS (random salt) signatures differ on every signing.
    assert differing == {link, "demo-1.0.dist-info/RECORD"}
    assert list(one) == list(two)
    first_link = parse_envelope(one[link], what="1")
    second_link = parse_envelope(two[link], what="2")
    assert first_link.payload == second_link.payload
    assert first_link.signatures != second_link.signatures


def test_a_consumer_building_the_sdist_without_a_key_gets_the_earlier_evidence(
    signing: Keys, project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sdist = build("sdist", tmp_path / "out")
    unpacked = unpack_sdist(sdist, tmp_path / "unpacked")
    monkeypatch.chdir(unpacked)
    monkeypatch.delenv("INTOTO_PIP_SIGNING_KEY")
    with pytest.warns(EvidenceWarning, match="INTOTO_PIP_SIGNING_KEY"):
        wheel = build("wheel", tmp_path / "consumer")
    files = in_toto_files(wheel, WHEEL_INTOTO)
    # The sdist's build link describes the sdist: it is not passed off as the wheel's.
    assert sorted(files) == sorted(["root.layout", link_file("test", signing.other)[0]])


def test_a_configured_links_folder_that_is_missing_is_named(
    signing: Keys, project: Path, tmp_path: Path
) -> None:
    for path in sorted((project / "in-toto/links").iterdir()):
        path.unlink()
    (project / "in-toto/links").rmdir()
    with pytest.raises(InputError, match=r"links folder .*in-toto/links not found"):
        build("wheel", tmp_path / "out")


def test_a_build_says_what_it_wrote(
    signing: Keys, project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    name = build("wheel", tmp_path / "out").name
    keyid = signing.builder.public.keyid[:8]
    assert capsys.readouterr().err.strip() == (
        f"intoto_pip.backend: wrote {tmp_path / 'out' / name} with root.layout and 2 link(s) "
        f"(signed by {keyid}; verified against the layout)"
    )


def test_a_layout_key_file_out_of_reach_warns_instead_of_failing(
    signing: Keys, project: Path, tmp_path: Path
) -> None:
    """In an unpacked sdist a key path beside the project is gone: the wheel is still built,
    with a warning that it was not verified, naming both ways out (a key file in the project,
    which the sdist carries, or PEM text)."""
    text = (project / "pyproject.toml").read_text().split("layout-keys")[0]
    (project / "pyproject.toml").write_text(text + 'layout-keys = ["../nowhere/owner.pub"]\n')
    hint = r"keep the key file in the project and in the sdist, or give it as PEM text"
    with pytest.warns(EvidenceWarning, match=rf"\.\./nowhere/owner\.pub is not found.*{hint}"):
        build("wheel", tmp_path / "out")


def test_links_of_steps_the_layout_does_not_have_are_left_out_with_a_warning(
    signing: Keys, project: Path, tmp_path: Path
) -> None:
    """A verifier refuses an evidence folder holding files it never reads: a link for a step
    the layout lacks would make the archive unverifiable, so it stays out, said."""
    layout = layout_bytes(signing.owner, [("build", [signing.builder])])
    (project / "in-toto/root.layout").write_bytes(layout)
    with pytest.warns(EvidenceWarning, match=r"left out test\.[0-9a-f]{8}\.link"):
        wheel = build("wheel", tmp_path / "out")
    assert sorted(in_toto_files(wheel, WHEEL_INTOTO)) == sorted(
        ["root.layout", link_file("build", signing.builder)[0]]
    )
