"""From a verified sdist to a wheel: unpack its product privately, then build in isolation."""

from __future__ import annotations

from pathlib import Path

from intoto_pip.archives.checked import open_checked
from intoto_pip.archives.names import SdistInfo
from intoto_pip.archives.sandbox import make_sandbox
from intoto_pip.install.build import InstallInto, build_wheel


def build_verified_sdist(sdist: Path, python: str, folder: Path, install_into: InstallInto) -> Path:
    """Build a wheel from ``sdist`` (which must already be verified); return the wheel."""
    workdir = make_sandbox(folder)
    tree = make_sandbox(workdir)
    with open_checked(sdist) as checked:
        checked.extract_products(tree)
        assert isinstance(checked.info, SdistInfo)
        top = checked.info.top
    return build_wheel(tree / top, python, workdir, install_into)
