"""``intoto_pip.backend``: a PEP 517 build backend that attaches in-toto evidence.

Configure it in ``pyproject.toml``::

    [build-system]
    requires = ["intoto-pip", "setuptools>=68"]
    build-backend = "intoto_pip.backend"

    [tool.intoto-pip.build]
    backend = "setuptools.build_meta"   # the real backend (it must be in requires too)
    backend-path = []                   # optional: project folders holding an in-tree backend
    layout = "in-toto/root.layout"      # default; the signed layout to embed
    links = "in-toto/links"             # optional: earlier links to embed
    step = "build"                      # default: the step of the link this build signs
    require-signature = false           # true: a build without a key fails
    exclude = []                        # optional: more material exclude patterns
    use-dsse = false                    # true: sign the link in a DSSE envelope

The hooks delegate to the real backend, forwarding ``config_settings`` untouched. Only the
optional hooks it defines are visible here (frontends probe with ``getattr``); a failure of
the real backend becomes one ``BackendError`` naming it and the hook.

``build_wheel`` and ``build_sdist`` record materials (the source tree, see
:mod:`~intoto_pip.backend.recorder`), let the real backend build, record the archive's
products (DESIGN §5), sign a link for ``step`` with the key at ``INTOTO_PIP_SIGNING_KEY``
(password in ``INTOTO_PIP_SIGNING_KEY_PASSWORD``), and embed the layout, earlier links and
the new link (:mod:`~intoto_pip.produce.embed`). ``SOURCE_DATE_EPOCH`` is honoured.

What goes where, for the usual ``python -m build`` (sdist, then a wheel from the sdist):

- the sdist gets ``<name>-<version>/.in-toto/``: the layout, the earlier links, and a link
  for ``step`` whose products are the sdist's members;
- the wheel, built in the unpacked sdist, finds the layout and earlier links in
  ``.in-toto/`` and gets ``<dist-info>/in-toto/``: the layout, the earlier links, and its own
  link for ``step`` whose products are the wheel's members (the sdist's link is not copied).

So each archive carries exactly one link for ``step`` per functionary, describing that very
archive, and one layout whose last step is ``step`` verifies both (built-in final-product
check). Without a key, the archive carries the evidence already present (layout and earlier
links) and a warning names ``INTOTO_PIP_SIGNING_KEY`` (unless ``require-signature = true``,
which makes the build fail). Editable builds are delegated untouched.

``get_requires_for_build_*`` return the real backend's requirements and nothing more: this
module already runs, so ``intoto-pip`` (and with it everything it imports) is installed.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from intoto_pip.backend.build import BuildRequest, build_with_evidence
from intoto_pip.backend.config import load_config
from intoto_pip.backend.delegate import (
    OPTIONAL_HOOKS,
    UNSUPPORTED_OPERATION,
    RealBackend,
    load_backend,
)

__all__ = [
    "build_sdist",
    "build_wheel",
    "get_requires_for_build_sdist",
    "get_requires_for_build_wheel",
]

ConfigSettings = Mapping[str, Any] | None


def _real_backend() -> RealBackend:
    config = load_config(Path.cwd())
    return load_backend(config.backend, config.backend_path)


def _requires(hook: str, config_settings: ConfigSettings) -> list[str]:
    backend = _real_backend()
    if not backend.has(hook):
        return []
    return list(backend.call(hook, config_settings))


def get_requires_for_build_wheel(config_settings: ConfigSettings = None) -> list[str]:
    return _requires("get_requires_for_build_wheel", config_settings)


def get_requires_for_build_sdist(config_settings: ConfigSettings = None) -> list[str]:
    return _requires("get_requires_for_build_sdist", config_settings)


def build_wheel(
    wheel_directory: str,
    config_settings: ConfigSettings = None,
    metadata_directory: str | None = None,
) -> str:
    request = BuildRequest(
        kind="wheel",
        output_dir=Path(wheel_directory),
        config_settings=config_settings,
        metadata_directory=metadata_directory,
    )
    return _build(request)


def build_sdist(sdist_directory: str, config_settings: ConfigSettings = None) -> str:
    request = BuildRequest(
        kind="sdist", output_dir=Path(sdist_directory), config_settings=config_settings
    )
    return _build(request)


def _build(request: BuildRequest) -> str:
    outcome = build_with_evidence(request, project_dir=Path.cwd(), environ=os.environ)
    # The hooks are the backend's front end: frontends show what a backend says on stderr.
    print(f"intoto_pip.backend: {outcome.summary(request.output_dir)}", file=sys.stderr)
    return outcome.name


def __getattr__(name: str) -> Any:
    """The optional hooks, and ``UnsupportedOperation``, exactly when the real backend has them."""
    if name in OPTIONAL_HOOKS:
        return _real_backend().optional_hook(name)
    if name == UNSUPPORTED_OPERATION:
        target = getattr(_real_backend().target, name, None)
        if isinstance(target, type):
            return target
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
