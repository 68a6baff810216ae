"""Real wheels from PyPI pass every check: structure, caps, identity, RECORD, planted metadata.

Each once failed a rule that real wheels meet (issue 13); they are pinned in real_wheels.py.
"""

from __future__ import annotations

import pytest

from intoto_pip.archives.checked import open_checked
from intoto_pip.archives.reader import SafeArchive
from tests.archives.real_wheels import REAL_WHEELS, real_wheel

SETUPTOOLS = "setuptools-80.9.0-py3-none-any.whl"
FLIT_CORE = "flit_core-3.12.0-py3-none-any.whl"
PILLOW = "pillow-13.0.0-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl"


@pytest.mark.parametrize("filename", sorted(REAL_WHEELS))
def test_real_wheel_is_checked_whole_and_accepted(filename: str) -> None:
    with open_checked(real_wheel(filename)) as checked:
        assert checked.products
        hashes = checked.archive.sha256_of_members()
    assert len(hashes) == len(checked.archive.members)


@pytest.mark.parametrize(
    ("filename", "own", "vendored"),
    [
        (SETUPTOOLS, "setuptools-80.9.0.dist-info", "setuptools/_vendor/packaging-24.2.dist-info"),
        (FLIT_CORE, "flit_core-3.12.0.dist-info", "flit_core/vendor/tomli-1.2.3.dist-info"),
    ],
)
def test_vendored_dist_info_below_a_package_folder_is_an_ordinary_file(
    filename: str, own: str, vendored: str
) -> None:
    with open_checked(real_wheel(filename)) as checked:
        assert checked.info.dist_info == own  # type: ignore[union-attr]
        assert f"{vendored}/METADATA" in checked.products


def test_pillow_library_compressing_223_to_1_is_not_a_bomb() -> None:
    with SafeArchive.open(real_wheel(PILLOW)) as archive:
        library = next(m for m in archive.members if m.name.startswith("pillow.libs/libXau"))
        assert library.size > 2_000_000
        assert len(archive.read(library.name)) == library.size
