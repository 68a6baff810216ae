"""Reading a PEP 751 lock and choosing its files for the *target* interpreter: markers and
tags are the target's, an sdist needs --no-binary, and every problem names its place."""

from __future__ import annotations

import hashlib
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from intoto_pip.errors import InputError, VerificationError
from intoto_pip.install.fetch import FetchedFile
from intoto_pip.install.lock_install import check_locked
from intoto_pip.install.pylock import is_lock_file, read_lock, select_files
from intoto_pip.install.target import Target, probe_target

SHA = "a" * 64
HEAD = 'lock-version = "1.0"\ncreated-by = "test"\n'


def _wheel(name: str, tag: str = "py3-none-any", extra: str = "") -> str:
    return (
        f'{{ name = "{name}-1.0-{tag}.whl", url = "https://files.example/{name}-1.0-{tag}.whl", '
        f'size = 10, hashes = {{ sha256 = "{SHA}" }}{extra} }}'
    )


def _package(name: str, *lines: str) -> str:
    return "\n".join(["", "[[packages]]", f'name = "{name}"', 'version = "1.0"', *lines])


def _lock(tmp_path: Path, *packages: str, head: str = HEAD) -> Path:
    path = tmp_path / "pylock.toml"
    path.write_text(head + "\n".join(packages) + "\n")
    return path


@pytest.fixture(scope="module")
def target() -> Target:
    return probe_target(Path(sys.executable))


def _select(path: Path, target: Target, no_binary: frozenset[str] = frozenset()) -> list[str]:
    files = select_files(read_lock(path), path, target, no_binary=no_binary)
    return [f.filename for f in files]


def test_lock_file_names_are_pep_751s() -> None:
    assert is_lock_file("pylock.toml") and is_lock_file("ci/pylock.dev.toml")
    assert not is_lock_file("requirements.txt") and not is_lock_file("pylock.txt")


def test_markers_are_evaluated_for_the_target_not_for_this_interpreter(
    tmp_path: Path, target: Target
) -> None:
    lock = _lock(
        tmp_path,
        _package("old", "marker = \"python_version < '3.9'\"", f"wheels = [{_wheel('old')}]"),
        _package("any", f"wheels = [{_wheel('any')}]"),
    )
    assert _select(lock, target) == ["any-1.0-py3-none-any.whl"]  # this interpreter is 3.11+
    py38 = replace(target, markers={**target.markers, "python_version": "3.8"})
    assert _select(lock, py38) == ["old-1.0-py3-none-any.whl", "any-1.0-py3-none-any.whl"]


def test_the_best_wheel_for_the_targets_tags_is_chosen(tmp_path: Path, target: Target) -> None:
    wheels = [_wheel("x"), _wheel("x", "cp38-cp38-win_amd64")]
    lock = _lock(tmp_path, _package("x", f"wheels = [{', '.join(wheels)}]"))
    assert _select(lock, target) == ["x-1.0-py3-none-any.whl"]
    windows = replace(target, tags=("cp38-cp38-win_amd64", "py3-none-any"))
    assert _select(lock, windows) == ["x-1.0-cp38-cp38-win_amd64.whl"]


def test_a_package_with_no_file_for_the_target_is_refused_with_its_place(
    tmp_path: Path, target: Target
) -> None:
    lock = _lock(tmp_path, _package("x", f"wheels = [{_wheel('x', 'cp38-cp38-win_amd64')}]"))
    with pytest.raises(InputError, match=r"pylock.toml: No wheel found .* at packages\[0\]"):
        _select(lock, target)


def test_an_sdist_is_taken_only_when_opted_into(tmp_path: Path, target: Target) -> None:
    md5 = SHA[:32]
    sdist = (
        f'sdist = {{ name = "x-1.0.tar.gz", path = "x-1.0.tar.gz", hashes = {{ md5 = "{md5}" }} }}'
    )
    lock = _lock(tmp_path, _package("x", sdist, f"wheels = [{_wheel('x', 'cp38-cp38-win_amd64')}]"))
    with pytest.raises(InputError, match=r"packages\[0\]\.sdist: .* add --no-binary x"):
        _select(lock, target)
    (locked,) = select_files(read_lock(lock), lock, target, no_binary=frozenset({"x"}))
    assert (locked.filename, locked.is_wheel, locked.path) == (
        "x-1.0.tar.gz",
        False,
        tmp_path / "x-1.0.tar.gz",
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (HEAD.replace('"1.0"', '"2.0"'), r"pylock.toml: lock-version: 2.0 is not supported"),
        (HEAD + "packages = 1\n", r"pylock.toml: packages: Unexpected type int"),
        (
            HEAD + '[[packages]]\nname = "x"\nwheels = [{ name = "x-1.0-py3-none-any.whl" }]\n',
            r"pylock.toml: packages\[0\]\.wheels\[0\]\.hashes: Missing required value",
        ),
        ("lock-version = ", r"pylock.toml: not a TOML file"),
    ],
)
def test_a_malformed_lock_is_a_one_line_usage_error_naming_the_place(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "pylock.toml"
    path.write_text(text)
    with pytest.raises(InputError, match=message) as caught:
        read_lock(path)
    assert "\n" not in str(caught.value)


def test_hashes_intoto_pip_cannot_check_are_refused(tmp_path: Path, target: Target) -> None:
    wheel = _wheel("x").replace(f'sha256 = "{SHA}"', 'blake9 = "00"')
    lock = _lock(tmp_path, _package("x", f"wheels = [{wheel}]"))
    with pytest.raises(InputError, match=r"packages\[0\]\.wheels\[0\]\.hashes: no hash in an algo"):
        _select(lock, target)


def test_sources_that_would_be_built_unverified_are_refused(tmp_path: Path, target: Target) -> None:
    vcs = 'vcs = { type = "git", url = "https://example/x.git", commit-id = "abc" }'
    lock = _lock(tmp_path, _package("x", vcs))
    with pytest.raises(InputError, match=r"packages\[0\]: x comes from a vcs"):
        _select(lock, target)


def test_attestation_identities_become_publisher_pins(tmp_path: Path, target: Target) -> None:
    identity = (
        'attestation-identities = [{ kind = "GitHub", repository = "o/r", '
        'workflow = "release.yml", claims = { ref = "x" } }]'
    )
    lock = _lock(tmp_path, _package("x", f"wheels = [{_wheel('x')}]", identity))
    (locked,) = select_files(read_lock(lock), lock, target)
    (pin,) = locked.identities
    assert (pin.kind, pin.repository, pin.workflow) == ("GitHub", "o/r", "release.yml")
    assert pin.source == f"{lock}: packages[0].attestation-identities[0]"
    unknown = _lock(
        tmp_path,
        _package(
            "x", f"wheels = [{_wheel('x')}]", 'attestation-identities = [{ kind = "Nobody" }]'
        ),
    )
    with pytest.raises(InputError, match=r"attestation-identities\[0\]\.kind: expected one of"):
        select_files(read_lock(unknown), unknown, target)


def _fetched(path: Path) -> FetchedFile:
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    return FetchedFile(path=path, filename=path.name, url="u", sha256=digest, size=len(data))


def test_a_file_whose_size_or_hash_differs_from_the_lock_is_refused(
    tmp_path: Path, target: Target
) -> None:
    wheel = tmp_path / "x-1.0-py3-none-any.whl"
    wheel.write_bytes(b"0123456789")
    good = {
        "sha256": hashlib.sha256(b"0123456789").hexdigest(),
        "sha512": hashlib.sha512(b"0123456789").hexdigest(),
    }
    lock = _lock(tmp_path, _package("x", f"wheels = [{_wheel('x')}]"))
    (locked,) = select_files(read_lock(lock), lock, target)
    check_locked(_fetched(wheel), replace(locked, hashes=good))
    with pytest.raises(VerificationError, match=r"packages\[0\]\.wheels\[0\]: .* has sha256"):
        check_locked(_fetched(wheel), locked)
    with pytest.raises(VerificationError, match=r"has sha512 .* not the file that was locked"):
        check_locked(_fetched(wheel), replace(locked, hashes={**good, "sha512": "0" * 128}))
    with pytest.raises(VerificationError, match="is 10 bytes, the lock says 11"):
        check_locked(_fetched(wheel), replace(locked, hashes=good, size=11))
