"""The functionary's signing key, from the environment only (never from the project tree).

``INTOTO_PIP_SIGNING_KEY`` names a PEM private key file; ``INTOTO_PIP_SIGNING_KEY_PASSWORD``
decrypts it when set. An empty variable counts as unset, as CI systems commonly pass empty
values when a secret is not available (pull requests from forks). A relative path is refused
at every hook: a frontend runs each hook in a folder of its choosing (``python -m build``
builds the wheel from the unpacked sdist in a temporary copy), so a relative path that worked
for the sdist would fail only at the wheel. Saying so at the first hook saves a broken build.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Final

from intoto_pip.crypto.keys import Signer, load_signer
from intoto_pip.errors import KeyLoadError

KEY_ENV: Final = "INTOTO_PIP_SIGNING_KEY"
PASSWORD_ENV: Final = "INTOTO_PIP_SIGNING_KEY_PASSWORD"  # noqa: S105 - a variable name


def key_path_from(environ: Mapping[str, str]) -> Path | None:
    value = environ.get(KEY_ENV, "")
    return Path(value) if value else None


def signer_from_environment(environ: Mapping[str, str], project_dir: Path) -> Signer | None:
    """Load the key named by the environment, or None when no key is configured.

    KeyLoadError when the key cannot be read or decrypted, or lies inside ``project_dir``:
    a key in the tree could end up in the very archive it signs.
    """
    path = key_path_from(environ)
    if path is None:
        return None
    if not path.is_absolute():
        raise KeyLoadError(
            f"{KEY_ENV}={path} is a relative path: build frontends run each hook in a folder "
            f"of their own, so give an absolute path (e.g. {KEY_ENV}=$PWD/{path})"
        )
    if path.resolve().is_relative_to(project_dir.resolve()):
        raise KeyLoadError(
            f"{KEY_ENV}={path} lies inside the project tree: keep private keys outside"
            " what gets packaged"
        )
    return load_signer(path, environ.get(PASSWORD_ENV) or None)
