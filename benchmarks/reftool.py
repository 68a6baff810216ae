"""Make keys, layouts and links with the REFERENCE in-toto; runs inside ``venv-ref``.

Run as ``venv-ref/bin/python reftool.py JOBS.json``: a JSON list of jobs, done in order.

- ``{"op": "keypair", "out": PATH}`` writes an ed25519 PKCS#8 key and ``PATH.pub`` (SPKI);
- ``{"op": "layout", "out": PATH, "signing_key": PEM, "functionaries": [PUB...],
  "steps": [...], "inspect": [...], "expires_days": N}`` where a step is
  ``{"name", "functionary": index, "expected_materials", "expected_products",
  "expected_command"?}`` and an
  inspection ``{"name", "run", "expected_materials", "expected_products"}``;
- ``{"op": "link", "out_dir": DIR, "signing_key": PEM, "name": STEP, "materials": {...},
  "products": {...}}`` writes ``STEP.<keyid[:8]>.link``;
- ``{"op": "many_link", ..., "count": N}``: the same with N products named as a large source
  tree is (``src/d0001/file_0001234.py``, 1,000 to a folder), each with the sha256 of its
  number: a link far larger than any folder it would be practical to record.

It uses only the reference's public models and securesystemslib's signer, never intoto_pip,
so the inputs it makes are independent of the code being measured.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from in_toto.models.layout import Inspection, Layout, Step
from in_toto.models.link import Link
from in_toto.models.metadata import Metablock

# securesystemslib re-exports these without __all__; mypy's strict mode cannot see it.
from securesystemslib.signer import CryptoSigner, SSlibKey  # type: ignore[attr-defined]


def _keypair(job: dict[str, Any]) -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    out = Path(job["out"])
    out.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    out.with_name(out.name + ".pub").write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


def _signer(path: str) -> Any:
    private = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    return CryptoSigner(private)


def _key_dict(pub_path: str) -> dict[str, Any]:
    public = serialization.load_pem_public_key(Path(pub_path).read_bytes())
    key = SSlibKey.from_crypto(public)
    as_dict: dict[str, Any] = key.to_dict()
    as_dict["keyid"] = key.keyid
    return as_dict


def _layout(job: dict[str, Any]) -> None:
    layout = Layout()
    layout.set_relative_expiration(days=int(job.get("expires_days", 365)))
    keyids = [layout.add_functionary_key(_key_dict(pub))["keyid"] for pub in job["functionaries"]]
    for step in job["steps"]:
        layout.steps.append(
            Step(
                name=step["name"],
                pubkeys=[keyids[step["functionary"]]],
                threshold=1,
                expected_materials=step["expected_materials"],
                expected_products=step["expected_products"],
                expected_command=step.get("expected_command", []),
            )
        )
    for inspection in job.get("inspect", []):
        layout.inspect.append(
            Inspection(
                name=inspection["name"],
                run=inspection["run"],
                expected_materials=inspection["expected_materials"],
                expected_products=inspection["expected_products"],
            )
        )
    metablock = Metablock(signed=layout)
    metablock.create_signature(_signer(job["signing_key"]))
    metablock.dump(job["out"])


def _link(job: dict[str, Any]) -> None:
    link = Link(
        name=job["name"],
        materials=job.get("materials", {}),
        products=job.get("products", {}),
        byproducts={},
        command=[],
        environment={},
    )
    metablock = Metablock(signed=link)
    signer = _signer(job["signing_key"])
    metablock.create_signature(signer)
    keyid = signer.public_key.keyid
    metablock.dump(str(Path(job["out_dir"]) / f"{job['name']}.{keyid[:8]}.link"))


def many_products(count: int) -> dict[str, dict[str, str]]:
    """``count`` artifacts as ``many_link`` names and hashes them."""
    return {
        f"src/d{index // 1000:04d}/file_{index:07d}.py": {
            "sha256": hashlib.sha256(b"%d" % index).hexdigest()
        }
        for index in range(count)
    }


def _many_link(job: dict[str, Any]) -> None:
    _link({**job, "products": many_products(int(job["count"]))})


_OPS = {"keypair": _keypair, "layout": _layout, "link": _link, "many_link": _many_link}


def main(argv: list[str]) -> int:
    jobs = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    for job in jobs:
        _OPS[job["op"]](job)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
