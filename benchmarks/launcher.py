"""Start measured processes from a small, fresh interpreter, and time them there.

Why: on Linux a child's ``ru_maxrss`` starts at the resident size of the process that
forked it (the kernel carries the old memory's high-water mark across ``exec``). Forked from
the benchmark runner, which has generated inputs, every child would report the runner's
peak. Forked from this launcher (``python -I -S``, about 10 MiB), the figure is the child's
own, or 10 MiB at least.

Protocol: one JSON request per line on stdin (``argv``, ``cwd``, ``env``, ``stderr`` path),
one JSON reply per line on stdout (``seconds``, ``max_rss_kib``, ``exit``). Standard library
only, imported lazily by nothing else, so the launcher stays small.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any


def _child(request: dict[str, Any]) -> None:
    try:
        os.chdir(request["cwd"])
        devnull = os.open(os.devnull, os.O_RDWR)
        errors = os.open(request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(devnull, 0)
        os.dup2(devnull, 1)
        os.dup2(errors, 2)
        os.execvpe(request["argv"][0], request["argv"], request["env"])
    except BaseException as exc:
        os.write(2, f"launcher: cannot start {request['argv'][0]}: {exc}\n".encode())
    finally:
        os._exit(127)


def run(request: dict[str, Any]) -> dict[str, Any]:
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        _child(request)
    _, status, usage = os.wait4(pid, 0)
    seconds = time.perf_counter() - start
    # Linux reports ru_maxrss in KiB.
    return {
        "seconds": seconds,
        "max_rss_kib": usage.ru_maxrss,
        "exit": os.waitstatus_to_exitcode(status),
    }


def main() -> int:
    for line in sys.stdin:
        sys.stdout.write(json.dumps(run(json.loads(line))) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
