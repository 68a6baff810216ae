"""One installation at a time per target, so two runs cannot undo each other's files.

Two ``intoto-pip install`` runs into one environment would otherwise interleave: one run's
rollback could remove files the other just wrote. The lock is an advisory ``flock`` on a file
*outside* the target (writing into the target would change it even when nothing is
installed): ``$XDG_RUNTIME_DIR/intoto-pip/`` when set, else ``intoto-pip-locks-<uid>`` in the
temporary folder, keyed by the sha256 of the target's real site folder. The folder must be
ours and private; one that is not (made by another user to interfere) is refused.

pip itself takes no lock, so this orders intoto-pip runs only. Where ``fcntl`` is missing
(Windows) there is no lock.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from intoto_pip.errors import InstallError
from intoto_pip.install.target import Target

LOCK_TIMEOUT = 600.0
_POLL = 0.1


def lock_folder() -> Path:
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isabs(runtime):
        return Path(runtime) / "intoto-pip"
    return Path(tempfile.gettempdir()) / f"intoto-pip-locks-{os.getuid()}"


def lock_path(target: Target) -> Path:
    site = os.path.realpath(target.scheme["purelib"])
    return lock_folder() / (hashlib.sha256(os.fsencode(site)).hexdigest()[:32] + ".lock")


@contextmanager
def target_lock(target: Target, *, timeout: float | None = None) -> Iterator[None]:
    """Hold the target's lock; InstallError when it stays taken for ``timeout`` seconds
    (default ``LOCK_TIMEOUT``)."""
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks this way
        yield
        return
    path = lock_path(target)
    fd = _open_lock(path)
    try:
        deadline = time.monotonic() + (LOCK_TIMEOUT if timeout is None else timeout)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise InstallError(
                        f"another intoto-pip is installing into {target.scheme['purelib']} "
                        f"(lock {path}); try again when it has finished"
                    ) from None
                time.sleep(_POLL)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _open_lock(path: Path) -> int:
    folder = path.parent
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        info = os.lstat(folder)
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
            raise InstallError(f"lock folder {folder} is not a private folder of this user")
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        return os.open(path, flags, 0o600)
    except OSError as exc:
        raise InstallError(f"cannot take the install lock {path}: {exc.strerror or exc}") from exc
