"""The hashing limit: how fast any recorder could be if it did nothing but sha256.

Measured in this process on a buffer already in memory (no disk, no page cache, no
Python per-file work), single-threaded, then multiplied by the usable cores: the bound
assumes perfect parallel hashing. The best of several rounds is kept, since a limit is what
the machine can do, not what it did while something else ran.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass
from pathlib import Path

_BUFFER = bytes(range(256)) * (32 << 12)  # 32 MiB
_ROUNDS = 10


@dataclass(frozen=True, kw_only=True)
class HashingLimit:
    mib_per_s_per_core: float
    cores: int

    @property
    def mib_per_s(self) -> float:
        return self.mib_per_s_per_core * self.cores

    def floor_seconds(self, total_bytes: int) -> float:
        return total_bytes / (1 << 20) / self.mib_per_s


def measure() -> HashingLimit:
    rates = []
    for _ in range(_ROUNDS):
        start = time.perf_counter()
        hashlib.sha256(_BUFFER).digest()
        rates.append(len(_BUFFER) / (1 << 20) / (time.perf_counter() - start))
    return HashingLimit(mib_per_s_per_core=max(rates), cores=len(os.sched_getaffinity(0)))


def tree_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
