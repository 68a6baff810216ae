"""How hard the fuzzers try.

In CI (the default) every fuzz test draws a fixed, reproducible sequence of 300 inputs; set
``INTOTO_PIP_FUZZ_EXAMPLES=N`` for more and ``INTOTO_PIP_FUZZ_RANDOM=1`` for a fresh sequence
each run (what a long fuzzing session wants). A crash found that way is kept: add the input to
``tests/fuzz/regressions/`` (metadata: ``*.json``, archives: ``*.whl`` / ``*.tar.gz``), where
``test_regressions.py`` replays it on every run.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

EXAMPLES = int(os.environ.get("INTOTO_PIP_FUZZ_EXAMPLES", "300"))
RANDOM = os.environ.get("INTOTO_PIP_FUZZ_RANDOM", "") not in ("", "0")

FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    # Reproducible by default (CI); a random run keeps what it finds in .hypothesis/.
    derandomize=not RANDOM,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
