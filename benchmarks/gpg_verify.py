"""``python -m benchmarks.gpg_verify``: what verifying a GPG-signed link costs over ed25519.

Both links are the same payload in a Metablock: one signed by the reference with a GPG RSA
key (``fixtures/gpg/data/rsa.link``), one by an ed25519 PEM key. Each round parses the file
(strict JSON, envelope) and checks its signature against the key, as link verification does.
The target (issue 17) is at most 2 ms more per GPG link. No gpg binary is needed.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import ed25519

from fixtures.gpg.generate import DATA
from intoto_pip.crypto.gpg_keys import GpgKey
from intoto_pip.crypto.keys import VerificationKey, signer_from_private_key
from intoto_pip.models.envelope import dump_envelope, parse_envelope, sign_payload, verified_keys

TARGET_MS = 2.0


@dataclass(frozen=True)
class Timing:
    label: str
    median_ms: float


def _job(data: bytes, key: VerificationKey) -> Callable[[], None]:
    def verify() -> None:
        envelope = parse_envelope(data, what="link")
        if verified_keys(envelope, [key]) != [key]:
            raise AssertionError("the benchmark link does not verify")

    return verify


def _median_ms(job: Callable[[], None], rounds: int) -> float:
    job()  # warm-up (key caches)
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        job()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def measure(rounds: int = 300) -> list[Timing]:
    """Median time to parse and verify one link: GPG (RSA, DSA, Ed25519) and PEM ed25519."""
    import json

    jobs: dict[str, Callable[[], None]] = {}
    for name in ("rsa", "dsa", "ed25519"):
        key = GpgKey.from_keydict(json.loads((DATA / f"{name}.json").read_text()), where=name)
        jobs[f"gpg {name}"] = _job((DATA / f"{name}.link").read_bytes(), key)
    signer = signer_from_private_key(ed25519.Ed25519PrivateKey.generate())
    payload = parse_envelope((DATA / "rsa.link").read_bytes(), what="link").payload
    data = dump_envelope(sign_payload(payload, [signer], dsse=False))
    jobs["pem ed25519"] = _job(data, signer.public_key)
    return [Timing(label, _median_ms(job, rounds)) for label, job in jobs.items()]


def report(timings: Sequence[Timing]) -> str:
    base = next(t.median_ms for t in timings if t.label == "pem ed25519")
    lines = ["| link signed by | median ms | over ed25519 ms |", "|---|---:|---:|"]
    lines += [f"| {t.label} | {t.median_ms:.3f} | {t.median_ms - base:+.3f} |" for t in timings]
    worst = max(t.median_ms - base for t in timings)
    verdict = "within" if worst <= TARGET_MS else "OVER"
    lines.append(f"\nworst GPG overhead {worst:.3f} ms: {verdict} the {TARGET_MS:g} ms target")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gpg_verify", description=__doc__)
    parser.add_argument("--rounds", type=int, default=300)
    print(report(measure(parser.parse_args(argv).rounds)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
