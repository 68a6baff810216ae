"""``python -m benchmarks.provenance``: PEP 740 verification per distribution, and start-up.

In one process, on the real attestations in fixtures/pep740/: the import of sigstore and
pypi-attestations (paid once, only by a command that checks provenance), the making of the
verifier over the embedded trust root (once per command), then each distribution's check
(median of ``--repeat`` rounds, in ms). Then ``intoto-pip --version`` start-up in a fresh
interpreter, and whether it imported sigstore (it must not). Never part of the test run.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures" / "pep740"
FILES = (
    ("pypi_attestations-0.0.19.tar.gz", "pypi_attestations-0.0.19.tar.gz.provenance"),
    ("pypi_attestations-0.0.19.tar.gz", "pypi_attestations-0.0.19.tar.gz.slsa.attestation"),
    ("gitlab_oidc_project-0.0.3.tar.gz", "gitlab_oidc_project-0.0.3.tar.gz.publish.attestation"),
)
STARTUP_PROBE = (
    "import sys, time; t = time.perf_counter(); from intoto_pip.cli.main import main; "
    "import contextlib, io\n"
    "with contextlib.redirect_stdout(io.StringIO()): main(['--version'])\n"
    "print(time.perf_counter() - t, 'sigstore' in sys.modules)"
)


def measure(repeat: int) -> dict[str, float]:
    """Milliseconds: import, checker set-up, and the median check of each file."""
    started = time.perf_counter()
    from intoto_pip.verify.provenance import ProvenanceChecker, ProvenanceSource

    imported = time.perf_counter()
    checker = ProvenanceChecker()
    ready = time.perf_counter()
    result = {
        "import of intoto_pip.verify.provenance": (imported - started) * 1e3,
        "sigstore import + verifier over the embedded root (once per command)": (ready - imported)
        * 1e3,
    }
    for archive, document in FILES:
        data = (FIXTURES / archive).read_bytes()
        source = ProvenanceSource(where=document, data=(FIXTURES / document).read_bytes())
        times = []
        for _ in range(repeat):
            t = time.perf_counter()
            digest = hashlib.sha256(data).hexdigest()
            checker.check(source, filename=archive, sha256=digest)
            times.append((time.perf_counter() - t) * 1e3)
        result[f"check {document} (median)"] = statistics.median(times)
    return result


def startup(repeat: int) -> tuple[float, bool]:
    """Median seconds of ``--version`` in a fresh interpreter; whether sigstore was loaded."""
    samples, loaded = [], False
    for _ in range(repeat):
        done = subprocess.run(
            [sys.executable, "-c", STARTUP_PROBE], capture_output=True, text=True, check=True
        )
        seconds, flag = done.stdout.split()
        samples.append(float(seconds))
        loaded = loaded or flag == "True"
    return statistics.median(samples), loaded


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.provenance", description=__doc__)
    parser.add_argument("--repeat", type=int, default=20, help="rounds per file (default 20)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    result = measure(args.repeat)
    seconds, loaded = startup(5)
    result["`intoto-pip --version` in a fresh interpreter (median of 5)"] = seconds * 1e3
    if args.json:
        print(json.dumps({**result, "version_imports_sigstore": loaded}, indent=2))
        return 0
    print("| what | ms |\n|---|---:|")
    for key, value in result.items():
        print(f"| {key} | {value:.1f} |")
    print(f"\n`--version` imports sigstore: {loaded}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
