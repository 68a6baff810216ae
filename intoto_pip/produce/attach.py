"""Attach a layout and links to an archive built elsewhere (``intoto-pip attach``).

The links come from a folder: ``<step>.<keyid8>.link`` files (links, or sublayouts signed by
a functionary) and sublayout link folders ``<step>.<keyid8>/``; anything else there is
ignored. Every layout and link is parsed first, so a broken file is refused here rather
than by every consumer. The archive is checked as a whole before it is rewritten (see
:mod:`intoto_pip.produce.embed` for what the rewrite keeps and normalises).

An archive that already carries in-toto metadata is refused unless the new metadata is
identical or ``replace`` is set. When the layout has no inspection, a verifier compares the
archive's members with the products of the layout's last step (DESIGN §5); if no given link
for that step records exactly those products, the result says so as a warning.
"""

from __future__ import annotations

import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from intoto_pip.archives.checked import open_checked
from intoto_pip.errors import InputError, IntotoPipError
from intoto_pip.models.envelope import parse_envelope
from intoto_pip.models.layout import Layout
from intoto_pip.models.link import Link
from intoto_pip.produce.embed import EmbedOptions, Evidence, embed, final_products, target_of
from intoto_pip.store import read_user_file

LINK_FILE: Final = re.compile(r"(?P<step>[^/]+)\.[0-9a-f]{8}\.link", re.ASCII)
_SUBLAYOUT_DIR: Final = re.compile(r"[^/]+\.[0-9a-f]{8}", re.ASCII)
_MAX_DEPTH: Final = 10


@dataclass(frozen=True, kw_only=True)
class AttachRequest:
    archive: Path
    layout: Path
    link_dir: Path
    output: Path | None = None  # a file, or an existing folder; None: rewrite in place
    replace: bool = False
    source_date_epoch: int | None = None


@dataclass(frozen=True, kw_only=True)
class AttachResult:
    output: Path
    files: tuple[str, ...]  # names inside the in-toto folder, as written
    warnings: tuple[str, ...] = ()


def link_step(name: str) -> str | None:
    """The step a link file is named for (``build.1234abcd.link`` -> ``build``)."""
    match = LINK_FILE.fullmatch(name.rpartition("/")[2])
    return match["step"] if match else None


def read_links(folder: Path) -> dict[str, bytes]:
    """Link files and sublayout folders below ``folder``, checked, by folder-relative path."""
    if not folder.is_dir():
        raise InputError(f"link folder {folder} not found")
    found: dict[str, bytes] = {}
    _collect(folder, "", found, 0)
    for name, data in found.items():
        check_link(name, data, where=f"{folder}/{name}")
    return found


def _collect(folder: Path, prefix: str, found: dict[str, bytes], depth: int) -> None:
    if depth > _MAX_DEPTH:
        raise InputError(f"{folder}: link folders nested deeper than {_MAX_DEPTH} levels")
    for entry in sorted(folder.iterdir()):
        mode = entry.lstat().st_mode
        if stat.S_ISREG(mode) and LINK_FILE.fullmatch(entry.name):
            found[prefix + entry.name] = read_user_file(entry)
        elif stat.S_ISDIR(mode) and _SUBLAYOUT_DIR.fullmatch(entry.name):
            _collect(entry, f"{prefix}{entry.name}/", found, depth + 1)


def _payload(data: bytes, where: str) -> dict[str, Any]:
    try:
        return parse_envelope(data, what=where).payload
    except IntotoPipError as exc:
        raise InputError(str(exc)) from None


def check_link(name: str, data: bytes, *, where: str) -> Link | None:
    """Parse a link file (None for a sublayout); its signed step must match its file name."""
    payload = _payload(data, where)
    try:
        if payload.get("_type") == "layout":
            Layout.from_dict(payload, where=where)
            return None
        link = Link.from_dict(payload, where=where)
    except IntotoPipError as exc:
        raise InputError(str(exc)) from None
    if link.name != link_step(name):
        raise InputError(f"{where}: signed for step {link.name!r}, named for {link_step(name)!r}")
    return link


def parse_layout(data: bytes, *, where: str) -> Layout:
    """The layout in a signed layout file; InputError when it does not parse."""
    payload = _payload(data, where)
    try:
        return Layout.from_dict(payload, where=where)
    except IntotoPipError as exc:
        raise InputError(str(exc)) from None


def _output_path(request: AttachRequest) -> Path:
    output = request.output
    if output is None:
        return request.archive
    if output.is_dir():
        return output / request.archive.name
    if output.name != request.archive.name:
        raise InputError(
            f"-o {output}: not an existing folder, and an output file must keep the name "
            f"{request.archive.name} (end a folder's name with / to create it)"
        )
    return output


def for_layout(links: Mapping[str, bytes], layout: Layout) -> tuple[dict[str, bytes], list[str]]:
    """The links (and sublayout files) of the layout's steps, and the names of the others: a
    verifier refuses an evidence folder holding files its verification never reads."""
    steps = {step.name for step in layout.steps}
    kept: dict[str, bytes] = {}
    left_out: list[str] = []
    for name, data in links.items():
        top, slash, _rest = name.partition("/")
        step = top.rpartition(".")[0] if slash else link_step(name)
        if step in steps:
            kept[name] = data
        else:
            left_out.append(name)
    return kept, left_out


def left_out_warning(left_out: list[str], where: str) -> str:
    return (
        f"{where}: left out {', '.join(sorted(left_out))}: no step of the layout has that name, "
        "and verifiers refuse evidence they do not read"
    )


def attach(request: AttachRequest) -> AttachResult:
    """Embed the layout and links into the archive; the result lists what was written."""
    layout_bytes = read_user_file(request.layout)
    layout = parse_layout(layout_bytes, where=str(request.layout))
    links, left_out = for_layout(read_links(request.link_dir), layout)
    output = _output_path(request)
    with open_checked(request.archive) as checked:
        target = target_of(checked)
        products = final_products(checked)
    evidence = Evidence(layout=layout_bytes, links=links)
    options = EmbedOptions(source_date_epoch=request.source_date_epoch, replace=request.replace)
    embed(request.archive, output, target, evidence, options)
    warnings = product_warnings(layout, links, products, where=str(request.link_dir))
    if left_out:
        warnings = (left_out_warning(left_out, str(request.link_dir)), *warnings)
    return AttachResult(output=output, files=tuple(evidence.files()), warnings=warnings)


def product_warnings(
    layout: Layout,
    links: Mapping[str, bytes],
    products: Mapping[str, Mapping[str, str]],
    *,
    where: str,
) -> tuple[str, ...]:
    """Say when no link of the last step records the archive's members (no inspections)."""
    if layout.inspect or not layout.steps:
        return ()
    last = layout.steps[-1].name
    for name, data in links.items():
        if "/" in name or link_step(name) != last:
            continue
        link = check_link(name, data, where=name)
        if link is not None and {k: dict(v) for k, v in link.products.items()} == products:
            return ()
    return (
        f"no link for step {last!r} in {where} records this archive's members as its"
        " products: verifiers will refuse the archive (final-product check)",
    )
