"""Pair 8 (opt-in: ``--only 8``): verify one step whose link records 1,000,000 artifacts.

Issue 20 asks that a link of a million artifacts verifies, and that the peak memory of
verifying it stays at or below the reference's. Both sides verify the very same files: a
layout and a ``build`` link made and signed by the *reference* (``reftool.py``, op
``many_link``), about 121 MB of JSON, with one step (``CREATE src/*``, then ``DISALLOW *``)
and no inspection, so nothing is read but the metadata. A: ``intoto-pip verify --layout``;
B: ``in-toto-verify``. Not in the default run: the reference takes about half a minute and
more than a gigabyte for each round, and making the link takes the reference nearly a minute
(in each run: the keys are new in each).
"""

from __future__ import annotations

from pathlib import Path

from benchmarks.context import Case, Context, fresh_dir, invocation, reftool, require_ours
from benchmarks.harness import Side

STEP = "build"


def verify_huge_link(context: Context) -> Case:
    count = context.sizes.huge_link
    require_ours(context, "verify", "--layout")
    meta = _metadata(context, fresh_dir(context.work / "p8" / "meta"), count)
    layout, pub = str(meta / "root.layout"), str(context.keys.owner_pub)
    scratch = fresh_dir(context.work / "p8" / "cwd")  # the working folder: nothing is written
    a = (
        context.envs.ours_bin("intoto-pip"),
        *("verify", "--layout", layout, "--layout-key", pub, "--link-dir", str(meta)),
    )
    b = (
        context.envs.ref_bin("in-toto-verify"),
        *("--layout", layout, "--verification-keys", pub, "--link-dir", str(meta)),
    )
    size = sum(path.stat().st_size for path in meta.glob("*.link"))
    return Case(
        key="8",
        title=f"8. verify one link of {count:,} artifacts: intoto-pip verify vs in-toto-verify",
        target=1.0,
        a=Side(label="intoto-pip verify", invocations=(invocation(context, a, scratch),)),
        b=Side(label="in-toto-verify", invocations=(invocation(context, b, scratch),)),
        artifacts=count,
        notes=(
            f"The link is {size:,} bytes, made and signed by the reference; "
            "issue 20 asks for peak RSS A ≤ B (the last column).",
        ),
    )


def _metadata(context: Context, meta: Path, count: int) -> Path:
    """The layout and the link of ``count`` artifacts, made in ``meta`` by the reference."""
    keys = context.keys
    reftool(
        context,
        [
            {
                "op": "layout",
                "out": str(meta / "root.layout"),
                "signing_key": str(keys.owner),
                "functionaries": [str(keys.functionary_pub)],
                "steps": [
                    {
                        "name": STEP,
                        "functionary": 0,
                        "expected_materials": [["DISALLOW", "*"]],
                        "expected_products": [["CREATE", "src/*"], ["DISALLOW", "*"]],
                    }
                ],
            },
            {
                "op": "many_link",
                "out_dir": str(meta),
                "signing_key": str(keys.functionary),
                "name": STEP,
                "count": count,
            },
        ],
    )
    return meta
