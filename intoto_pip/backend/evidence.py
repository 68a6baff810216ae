"""The evidence a build starts from: the signed layout and earlier links.

Looked up in the project folder (the folder the hook runs in):

- the layout: the configured ``layout`` file, else ``.in-toto/root.layout``;
- earlier links: the configured ``links`` folder, else the ``.in-toto/`` folder.

``.in-toto/`` is what an sdist built by this backend carries, so a wheel built from the
unpacked sdist (what ``python -m build`` does) finds the layout and earlier links there even
when the sdist does not include the configured paths. The sdist's own link for the configured
step is *not* taken from ``.in-toto/``: it attests the sdist's members, not the wheel's, and
the wheel gets its own link for that step. From a ``links`` folder every link is taken (a
link for the same step by another functionary counts towards a threshold); a link with the
same file name as the one being signed is replaced by it.

A links folder holds ``<step>.<keyid8>.link`` files (links, or sublayouts signed by a
functionary) and sublayout link folders ``<step>.<keyid8>/`` (taken whole); other files are
ignored (see :func:`intoto_pip.produce.attach.read_links`). Every layout and link is parsed
before it is embedded, so a broken file fails the build, not the consumer's install.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from intoto_pip.backend.config import BuildConfig
from intoto_pip.backend.recorder import SDIST_INTOTO_DIR
from intoto_pip.crypto.keys import VerificationKey
from intoto_pip.errors import InputError
from intoto_pip.produce.attach import (
    for_layout,
    left_out_warning,
    link_step,
    parse_layout,
    read_links,
)
from intoto_pip.store import read_user_file

LAYOUT_NAME: Final = "root.layout"


class EvidenceWarning(UserWarning):
    """A build went ahead with less evidence than a verifier will want (shown by frontends)."""


@dataclass(frozen=True, kw_only=True)
class EarlierEvidence:
    """The layout (None when there is none) and the earlier link files by folder path."""

    layout: bytes | None
    layout_path: Path | None
    links: dict[str, bytes] = field(default_factory=dict)


def gather_evidence(config: BuildConfig) -> EarlierEvidence:
    """Read the layout and earlier links; InputError when a configured path is unusable."""
    fallback = config.project_dir / SDIST_INTOTO_DIR
    layout_path = _first_file(config.layout, fallback / LAYOUT_NAME)
    for path in (fallback, layout_path):
        # Configured paths are checked in load_config; .in-toto/ could be a link too.
        if path is not None and not path.resolve().is_relative_to(config.project_dir.resolve()):
            raise InputError(f"{path}: links to outside the project folder")
    if config.links is not None and config.links.is_dir():
        links = read_links(config.links)
    elif fallback.is_dir():
        links = {
            name: data
            for name, data in read_links(fallback).items()
            if _step_owning(name) != config.step
        }
    elif config.links is not None:
        raise InputError(f"links folder {config.links} not found (nor {fallback})")
    else:
        links = {}
    layout = None if layout_path is None else read_user_file(layout_path)
    if layout is not None:
        links, left_out = for_layout(links, parse_layout(layout, where=str(layout_path)))
        if left_out:
            warnings.warn(left_out_warning(left_out, "links"), EvidenceWarning, stacklevel=3)
    return EarlierEvidence(layout=layout, layout_path=layout_path, links=links)


def _step_owning(name: str) -> str | None:
    """The step a link file, or a file in a sublayout folder, belongs to."""
    top, slash, _rest = name.partition("/")
    return top.rpartition(".")[0] if slash else link_step(name)


def _first_file(*candidates: Path) -> Path | None:
    return next((path for path in candidates if path.is_file()), None)


def check_layout(data: bytes, *, where: str, step: str, key: VerificationKey | None) -> list[str]:
    """Parse the layout; InputError when the step or key cannot fit it; warnings as text."""
    layout = parse_layout(data, where=where)
    found = layout.step(step)
    if found is None:
        names = ", ".join(repr(s.name) for s in layout.steps) or "none"
        raise InputError(f"{where}: has no step {step!r} (its steps: {names}); set step = ...")
    if key is not None and key.keyid not in found.pubkeys:
        raise InputError(
            f"{where}: key {key.keyid[:8]} is not among the functionaries of step {step!r}"
        )
    if layout.expires <= datetime.now(UTC):
        return [f"{where}: expired on {layout.expires:%Y-%m-%d}: consumers will refuse it"]
    return []
