"""How pip is started: the copy installed beside intoto-pip, run by the target interpreter.

pip resolves for the interpreter it runs in (its tags, markers and installed distributions).
``pip --python X`` gets there by starting pip in intoto-pip's interpreter only to start it again
in ``X`` through ``pip/__pip-runner__.py``, a script that imports exactly that copy of pip.
Starting the runner in ``X`` directly does the same with one interpreter start and one pip
import fewer (about 0.2 s each time pip runs). pip is found with importlib's ``PathFinder``
on ``sys.path`` without the working folder, which locates it without importing it:
intoto-pip never imports pip.

Both ways run with ``-I``: neither the working folder, ``PYTHONPATH`` nor the user's site folder
reaches ``sys.path``, so a ``./pip`` cannot stand in for pip.

An installation runs pip twice: ``pip config list`` (its settings), then ``pip install
--dry-run`` (the resolution), whose command line depends on the first answer. ``session_argv``
starts both in one process (``SESSION``): it imports that same copy of pip (the way its runner
does), runs ``python -m pip config list`` at once, then waits for the second command on its
input and runs it too, with the environment sent along. pip's modules load once, and the
resolution starts as soon as intoto-pip has read the settings.

The resolution may also be asked to announce the wheels pip reads the metadata of (PEP 658:
``Obtaining dependency information ... from URL.metadata``, a message of pip's at its verbose
level): the session copies those messages, one line each, to a pipe intoto-pip passed it, so
that the wheels can be fetched and verified while pip still resolves (``prefetch``). Nothing
else of pip's output changes, and a failure to announce never fails pip.
"""

from __future__ import annotations

import os
import sys
from importlib.machinery import PathFinder
from pathlib import Path

RUNNER = "__pip-runner__.py"
SETTINGS_END = "--- intoto-pip: end of pip config list, exit"
# pip's log message (at its VERBOSE level) as it fetches a wheel's PEP 658 metadata instead of
# the wheel: "... for REQUIREMENT from URL.metadata". The session can copy each to a pipe.
ANNOUNCED = "Obtaining dependency information for "

# Run by the target interpreter (any Python pip supports): only what ``python -m pip`` does,
# twice. pip ends each command with SystemExit; its code is kept. The second command's
# environment replaces the first's before pip reads it.
SESSION = r"""
import json, os, runpy, sys
from importlib.machinery import PathFinder
ROOT, END, ANNOUNCED = sys.argv.pop(1), sys.argv.pop(1), sys.argv.pop(1)
class OnlyOurPip(object):
    @staticmethod
    def find_spec(name, path=None, target=None):
        return PathFinder.find_spec(name, [ROOT], target) if name == "pip" else None
sys.meta_path.insert(0, OnlyOurPip)
def pip(args):
    sys.argv = ["pip"] + args
    try:
        runpy.run_module("pip", run_name="__main__", alter_sys=True)
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else int(stop.code is not None)
    return 0
code = pip(["config", "list"])
sys.stdout.write("\n%s %d\n" % (END, code))
sys.stdout.flush()
def announce(fd):
    os.set_inheritable(fd, False)  # pip's own subprocesses never hold it open
    if "pip._internal" not in sys.modules:  # its logger class is not registered yet
        return
    import logging
    class Announce(logging.Handler):
        def emit(self, record):
            if str(record.msg).startswith(ANNOUNCED):
                text = record.getMessage().replace("\n", " ") + "\n"
                try:
                    os.write(fd, text.encode("utf-8", "replace"))
                except OSError:  # nobody reads any more: pip goes on all the same
                    pass
    log = logging.getLogger("pip._internal.operations.prepare")
    log.setLevel(15)  # pip's VERBOSE; pip's own handlers still show only what --quiet lets by
    log.addHandler(Announce())
line = sys.stdin.readline()
if line:
    request = json.loads(line)
    os.environ.clear()
    os.environ.update(request["env"])
    if request.get("announce") is not None:
        try:
            announce(request["announce"])
        except Exception:  # announcing is a hint: pip resolves all the same
            pass
    code = pip(request["args"])
    # pip is done and has cleaned up after itself (its temporary folders go before it
    # returns); what is left is tearing down every module it loaded, about 0.1 s that
    # intoto-pip would wait for. Its output and log files are flushed, then it is gone.
    sys.stdout.flush()
    if "logging" in sys.modules:
        import logging
        logging.shutdown()
    sys.stderr.flush()
    os._exit(code)
"""


def pip_argv(python: Path | None = None) -> list[str]:
    """The command that starts pip in ``python`` (default: this interpreter)."""
    here = [sys.executable, "-I", "-m", "pip"]
    if python is None or Path(python) == Path(sys.executable):
        return here
    runner = pip_runner()
    if runner is None:  # a pip without its runner (older than 22.3): let pip start it
        return [*here, "--python", str(python)]
    return [str(python), "-I", str(runner)]


def session_argv(python: Path) -> list[str] | None:
    """The command that starts a pip session (``SESSION``) in ``python``; None without pip."""
    root = pip_root()
    if root is None:
        return None
    return [str(python), "-I", "-c", SESSION, str(root), SETTINGS_END, ANNOUNCED]


def pip_root() -> Path | None:
    """The folder the pip package installed for this interpreter is in (found, not imported)."""
    for folder in _pip_folders():
        return Path(folder).parent
    return None


def _pip_folders() -> list[str]:
    """Where the pip package is, looked for on ``sys.path`` without the working folder:
    ``python -m intoto_pip...`` puts it first, and a ``./pip`` there must not be taken for
    pip (``importlib.util.find_spec`` would take it)."""
    here = os.getcwd()
    path = [entry for entry in sys.path if entry and os.path.abspath(entry) != here]
    spec = PathFinder.find_spec("pip", path)
    return list(spec.submodule_search_locations or []) if spec else []


def pip_runner() -> Path | None:
    """pip's ``__pip-runner__.py``, of the pip installed for this interpreter."""
    for folder in _pip_folders():
        runner = Path(folder) / RUNNER
        if runner.is_file():
            return runner
    return None
