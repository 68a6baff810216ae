"""Compiling the installed modules to bytecode, with the target's interpreter, in parallel.

A pool of the target interpreter's processes, one per usable core, started once per
installation with ``-I -B -S`` (no ``site``: no ``.pth`` file runs mid-installation) only after
the interpreter was checked unchanged since it was probed. Each module is handed to a worker
as soon as it is written, so compiling overlaps writing the rest, and the first worker starts
with the first module. The running interpreter compiles this way too when it is the target:
the other cores are free while this process writes.

A worker writes each ``.pyc`` straight to its place in the target, where the transaction has
made room for it and journaled it *before* the module was handed out: an interruption leaves
at most a journaled file, which rollback removes, and never a temporary file nobody knows of
(``py_compile`` would write ``NAME.pyc.<digits>`` first). The file is created with
``O_EXCL | O_NOFOLLOW``, as every file the transaction writes, so a link or file placed there
since is refused, not followed. The bytes are ``py_compile``'s (the format of PEP 552, built
from the interpreter's public ``importlib.util`` parts): a timestamp ``.pyc`` of the module as
written, or a checked-hash one when ``SOURCE_DATE_EPOCH`` is set, as ``py_compile`` does. The
worker reports each file's sha256 and size for RECORD, so nothing is read back.
"""

from __future__ import annotations

import collections
import contextlib
import io
import json
import os
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, cast

from intoto_pip.errors import InstallError

COMPILE_TIMEOUT = 600.0
MIN_SHARE = 16  # modules handed out per worker before another worker is started
# Modules a worker holds at once (sent, not answered); the others wait here for whichever
# worker answers first. Handed out all at once by size, the workers of a 30-wheel install
# ended up to 0.4 s apart (compiling time follows neither bytes nor count, and the workers
# share the cores with the writing): the last stretch ran on one core. A worker answers in
# batches (every ANSWERS modules, or when it runs out), since each answer read here takes
# the GIL from the writing; WINDOW - ANSWERS modules keep it busy while the next arrive.
WINDOW = 16
ANSWERS = 8

# One JSON [number, source, cache] a line in; one JSON line out per module:
# ["ok", number, sha256, size], ["skip", number] (it does not compile: no .pyc, as pip), or
# ["error", number, message] (the .pyc could not be created). Run by the target interpreter:
# what it says must be valid for old Pythons too.
_COMPILE = r"""
import hashlib, json, marshal, os, sys
from importlib.util import MAGIC_NUMBER, source_hash
hash_based = bool(os.environ.get("SOURCE_DATE_EPOCH"))
create = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
def u32(n):
    return (int(n) & 0xFFFFFFFF).to_bytes(4, "little")
def pyc(source):
    with open(source, "rb") as f:
        data = f.read()
        st = os.fstat(f.fileno())
    code = compile(data, source, "exec", dont_inherit=True, optimize=0)
    if hash_based:
        head = MAGIC_NUMBER + u32(3) + source_hash(data)
    else:
        head = MAGIC_NUMBER + u32(0) + u32(st.st_mtime) + u32(st.st_size)
    return head + marshal.dumps(code), (st.st_mode | 0o200) & 0o666
answers, fd = int(sys.argv[1]), sys.stdin.fileno()
pending, rest, unsent = [], b"", 0
while True:
    if not pending:
        if unsent:
            sys.stdout.flush()  # out of work: the answers go out, and bring more
            unsent = 0
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        pending = (rest + chunk).split(b"\n")
        rest = pending.pop()
        pending.reverse()
        continue
    number, source, cache = json.loads(pending.pop().decode("utf-8"))
    try:
        data, mode = pyc(source)
    except Exception:
        reply = ["skip", number]
    else:
        try:
            with os.fdopen(os.open(cache, create, mode), "wb") as out:
                out.write(data)
            reply = ["ok", number, hashlib.sha256(data).hexdigest(), len(data)]
        except OSError as exc:
            reply = ["error", number, "%s: %s" % (cache, exc.strerror or exc)]
    sys.stdout.write(json.dumps(reply) + "\n")
    unsent += 1
    if unsent >= answers:
        sys.stdout.flush()
        unsent = 0
sys.stdout.flush()
"""


@dataclass(frozen=True)
class Compiled:
    """A module's bytecode, written at ``cache``: its sha256 (hex) and size, for RECORD."""

    cache: Path
    sha256: str
    size: int


class BytecodeCompiler:
    """The target interpreter compiling the modules: a pool of processes, one per usable core,
    started once for the whole installation and given every module of every wheel as it is
    written: each worker holds at most ``WINDOW`` modules, and the rest go, in order, to the
    first worker that answers.

    ``check`` runs just before the first worker is started (it raises when the interpreter
    changed since it was probed). ``close`` stops workers still running: call it in a
    ``finally``, before any rollback."""

    def __init__(
        self, python: str, check: Callable[[], None] | None = None, workers: int | None = None
    ) -> None:
        self._python, self._check = python, check
        self._workers = workers or usable_cores()
        self._processes: list[subprocess.Popen[bytes]] = []
        self._readers: list[threading.Thread] = []
        self._caches: list[Path] = []
        self._replies: dict[int, list[object]] = {}
        # Guards what follows and the workers' pipes (one line at a time into each); notified
        # when a worker answers or ends.
        self._state = threading.Condition()
        self._waiting: collections.deque[bytes] = collections.deque()  # lines not yet sent
        self._holding: list[int] = []  # per worker: modules sent and not answered
        self._running: list[bool] = []  # per worker: its output still open

    def submit(self, source: Path, cache: Path) -> int:
        """Hand a written module to a worker, which creates ``cache`` (made room for and
        journaled by the caller); its number is its place in ``wait``'s list."""
        number = self.reserve(cache)
        self.send(number, source)
        return number

    def reserve(self, cache: Path) -> int:
        """A number for the module compiled to ``cache``, given before the module is written
        (so the numbers follow the wheels' order whichever thread writes the module)."""
        number = len(self._caches)
        self._caches.append(cache)
        return number

    def send(self, number: int, source: Path) -> None:
        """Hand the written module ``number`` to a worker (from any thread)."""
        line = json.dumps([number, str(source), str(self._caches[number])]).encode() + b"\n"
        with self._state:
            wanted = min(self._workers, 1 + len(self._caches) // MIN_SHARE)
            if len(self._processes) < wanted:
                self._start()
            self._waiting.append(line)
            failure = self._hand_out()
        if failure is not None:
            message = f"compiling bytecode with {self._python} failed: {failure}"
            raise InstallError(message) from failure

    def _hand_out(self) -> OSError | None:
        """Send waiting modules to the workers with room (the least busy first); the pipe's
        failure, if one could not be written to. Called with ``_state`` held."""
        while self._waiting:
            free = [w for w, n in enumerate(self._holding) if n < WINDOW and self._running[w]]
            if not free:
                return None
            worker = min(free, key=self._holding.__getitem__)
            line = self._waiting.popleft()
            try:
                self._stdin(worker).write(line)
            except OSError as exc:
                self._running[worker] = False  # its modules are unanswered: ``wait`` says so
                self._waiting.appendleft(line)
                return exc
            self._holding[worker] += 1
        return None

    def wait(self) -> list[Compiled | None]:
        """Each module handed out, in order: its ``.pyc``, or None where it does not compile.

        InstallError when a worker failed: a ``.pyc`` could not be created, or a worker ended
        before it answered for every module it was given."""
        deadline = time.monotonic() + COMPILE_TIMEOUT
        with self._state:  # every module sent (or no worker left to send it to)
            while self._waiting and any(self._running):
                if not self._state.wait(timeout=max(0.0, deadline - time.monotonic())):
                    break
            for process in self._processes:
                with contextlib.suppress(OSError):
                    self._stdin(process).close()
        try:
            # The replies first: a reader ends when its worker closes its output, which wakes
            # this thread at once (waiting on the process with a timeout polls, every 50 ms).
            for reader in self._readers:
                reader.join(timeout=max(0.0, deadline - time.monotonic()))
            for process in self._processes:
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired as exc:
            self.close()
            raise InstallError(f"compiling bytecode with {self._python} failed: {exc}") from exc
        for reader in self._readers:
            reader.join()
        return [self._compiled(number, cache) for number, cache in enumerate(self._caches)]

    def close(self) -> None:
        with self._state:  # nothing more is handed out: a reply read meanwhile would write
            self._waiting.clear()  # to a pipe closed below (a ValueError in its thread)
            self._running = [False] * len(self._running)
        for process in self._processes:
            if process.poll() is None:
                process.kill()
                process.wait()
            with contextlib.suppress(OSError):
                self._stdin(process).close()
        for reader in self._readers:
            reader.join(timeout=5)

    def _compiled(self, number: int, cache: Path) -> Compiled | None:
        reply = self._replies.get(number)
        if reply is None:
            codes = [process.returncode for process in self._processes]
            raise InstallError(
                f"compiling bytecode with {self._python} failed: a compiler ended (exit "
                f"{', '.join(map(str, codes))}) before it compiled {cache.name}"
            )
        if reply[0] == "skip":
            return None
        if reply[0] == "ok" and len(reply) == 4:
            return Compiled(cache=cache, sha256=str(reply[2]), size=int(str(reply[3])))
        raise InstallError(f"compiling bytecode with {self._python} failed: {reply[-1]}")

    def _stdin(self, worker: int | subprocess.Popen[bytes]) -> IO[bytes]:
        process = self._processes[worker] if isinstance(worker, int) else worker
        assert process.stdin is not None  # started with stdin=PIPE
        return process.stdin

    def _start(self) -> None:
        if not self._processes and self._check is not None:
            self._check()
        try:
            process = subprocess.Popen(
                [self._python, "-I", "-B", "-S", "-c", _COMPILE, str(ANSWERS)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                bufsize=0,  # each module reaches its worker when it is handed out
            )
        except OSError as exc:
            raise InstallError(f"compiling bytecode with {self._python} failed: {exc}") from exc
        # Read its answers as they come: each one makes room for the next module.
        worker = len(self._processes)
        reader = threading.Thread(target=self._read_replies, args=(worker, process), daemon=True)
        self._processes.append(process)
        self._readers.append(reader)
        self._holding.append(0)
        self._running.append(True)
        reader.start()

    def _read_replies(self, worker: int, process: subprocess.Popen[bytes]) -> None:
        assert process.stdout is not None  # started with stdout=PIPE
        # Buffered: the raw pipe's readline reads one byte per call, each taking the GIL from
        # the thread writing the files (about 100,000 calls for 1,400 modules).
        try:
            with io.BufferedReader(cast(io.RawIOBase, process.stdout)) as replies:
                for line in replies:
                    try:
                        reply = json.loads(line)
                        self._replies[int(reply[1])] = reply
                    except (ValueError, TypeError, IndexError):
                        pass  # not an answer: the module stays unanswered, failing it
                    self._answered(worker)
        finally:  # whatever ended the reading, ``wait`` must not wait for this worker
            with self._state:
                self._running[worker] = False
                self._state.notify_all()

    def _answered(self, worker: int) -> None:
        with self._state:
            self._holding[worker] -= 1
            self._hand_out()  # a pipe that fails is the worker's end: ``wait`` finds it
            self._state.notify_all()


def usable_cores() -> int:
    """The cores this process may run on (its affinity), not all the machine has."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def compiler_for(python: str, check: Callable[[], None] | None = None) -> BytecodeCompiler:
    """The target interpreter's pool (``check``ed before it starts)."""
    return BytecodeCompiler(python, check)
