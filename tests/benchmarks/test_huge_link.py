"""Pair 8's inputs: a layout and a many-artifact link made by the reference, which both sides
verify; and the pair runs only when named."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from benchmarks.__main__ import OPT_IN, PAIRS, parse_args
from benchmarks.reftool import many_products

REFTOOL = Path(__file__).resolve().parents[2] / "benchmarks" / "reftool.py"
COUNT = 3_000


def _reftool(jobs: list[dict[str, object]], work: Path) -> None:
    (work / "jobs.json").write_text(json.dumps(jobs), encoding="utf-8")
    subprocess.run([sys.executable, str(REFTOOL), str(work / "jobs.json")], check=True)


def _made(work: Path) -> Path:
    """The pair's metadata for COUNT artifacts, in ``work/meta`` (keys beside it)."""
    meta = work / "meta"
    meta.mkdir()
    _reftool(
        [
            {"op": "keypair", "out": str(work / "owner")},
            {"op": "keypair", "out": str(work / "functionary")},
            {
                "op": "layout",
                "out": str(meta / "root.layout"),
                "signing_key": str(work / "owner"),
                "functionaries": [str(work / "functionary.pub")],
                "steps": [
                    {
                        "name": "build",
                        "functionary": 0,
                        "expected_materials": [["DISALLOW", "*"]],
                        "expected_products": [["CREATE", "src/*"], ["DISALLOW", "*"]],
                    }
                ],
            },
            {
                "op": "many_link",
                "out_dir": str(meta),
                "signing_key": str(work / "functionary"),
                "name": "build",
                "count": COUNT,
            },
        ],
        work,
    )
    return meta


def _ours(meta: Path, pub: Path) -> subprocess.CompletedProcess[str]:
    argv = ("verify", "--layout", "root.layout", "--layout-key", str(pub), "--link-dir", ".")
    return _run([sys.executable, "-m", "intoto_pip.cli.main", *argv], meta)


def _reference(meta: Path, pub: Path) -> subprocess.CompletedProcess[str]:
    tool = str(Path(sys.executable).parent / "in-toto-verify")
    return _run(
        [tool, "--layout", "root.layout", "--verification-keys", str(pub), "--link-dir", "."], meta
    )


def _run(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)


def test_many_products_are_distinct_names_with_distinct_hashes() -> None:
    products = many_products(2_500)
    assert len(products) == 2_500
    assert "src/d0002/file_0002499.py" in products
    assert len({entry["sha256"] for entry in products.values()}) == 2_500


def test_the_link_reference_made_verifies_with_both_tools(tmp_path: Path) -> None:
    meta = _made(tmp_path)
    [link] = meta.glob("build.*.link")
    assert len(json.loads(link.read_text(encoding="utf-8"))["signed"]["products"]) == COUNT
    ours = _ours(meta, tmp_path / "owner.pub")
    assert ours.returncode == 0, ours.stderr
    reference = _reference(meta, tmp_path / "owner.pub")
    assert reference.returncode == 0, reference.stderr


def test_a_product_the_layout_disallows_fails_both_tools(tmp_path: Path) -> None:
    """The rule chain is really applied to the link's artifacts: one product outside
    ``src/`` (signed in, so only the rules can catch it) fails both sides."""
    meta = _made(tmp_path)
    for link in meta.glob("build.*.link"):
        link.unlink()
    _reftool(
        [
            {
                "op": "link",
                "out_dir": str(meta),
                "signing_key": str(tmp_path / "functionary"),
                "name": "build",
                "products": {**many_products(10), "setup.py": {"sha256": "0" * 64}},
            }
        ],
        tmp_path,
    )
    ours = _ours(meta, tmp_path / "owner.pub")
    assert ours.returncode == 1, ours.stderr
    assert "setup.py" in ours.stderr + ours.stdout
    reference = _reference(meta, tmp_path / "owner.pub")
    assert reference.returncode == 1, reference.stderr
    assert "setup.py" in reference.stderr + reference.stdout


def test_pair_8_runs_only_when_named() -> None:
    assert "8" in PAIRS and "8" in OPT_IN
    assert "8" not in parse_args([]).only
    assert parse_args(["--only", "8"]).only == ["8"]
