"""``match-products``: do the files here match the products a link records?

The link's signature is not checked (as with in-toto-match-products); it may be a classic
Metablock or a DSSE envelope. Files are recorded as ``run`` records them, following
symlinked folders (the reference does not follow them here, though its ``run`` does).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from intoto_pip.artifacts.collect import RecordOptions, record_artifacts_report
from intoto_pip.models.envelope import parse_envelope
from intoto_pip.models.link import Link
from intoto_pip.store import read_user_file


@dataclass(frozen=True, kw_only=True)
class ProductsMatch:
    only_in_products: tuple[str, ...]  # in the link, not here
    not_in_products: tuple[str, ...]  # here, not in the link
    differ: tuple[str, ...]  # in both, with other hashes
    skipped: tuple[str, ...] = ()

    @property
    def matches(self) -> bool:
        return not (self.only_in_products or self.not_in_products or self.differ)


def match_products(
    link_path: Path, paths: Sequence[str] = (".",), options: RecordOptions | None = None
) -> ProductsMatch:
    envelope = parse_envelope(read_user_file(link_path), what=str(link_path))
    link = Link.from_dict(envelope.payload, where=f"{link_path}: link")
    report = record_artifacts_report(list(paths) or ["."], options or RecordOptions())
    local = report.artifacts
    products = link.products
    return ProductsMatch(
        only_in_products=tuple(sorted(products.keys() - local.keys())),
        not_in_products=tuple(sorted(local.keys() - products.keys())),
        differ=tuple(
            sorted(name for name in products.keys() & local.keys() if products[name] != local[name])
        ),
        skipped=report.skipped,
    )
