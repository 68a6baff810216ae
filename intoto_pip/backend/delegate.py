"""The real PEP 517 backend, imported by the name the project's configuration gives.

Each call goes through :meth:`RealBackend.call`, the one place that turns a failure of the
real backend into a :class:`BackendError` naming the backend and the hook (the original
exception stays chained, so its traceback is still shown above ours). The backend's own
``UnsupportedOperation`` passes through untouched: frontends look for exactly that class.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from intoto_pip.errors import IntotoPipError

# PEP 517 / PEP 660 hooks a backend may leave out; frontends probe for them with getattr.
OPTIONAL_HOOKS: Final = frozenset(
    {
        "prepare_metadata_for_build_wheel",
        "build_editable",
        "get_requires_for_build_editable",
        "prepare_metadata_for_build_editable",
    }
)
# Not a hook, but frontends catch ``backend.UnsupportedOperation`` from build_sdist.
UNSUPPORTED_OPERATION: Final = "UnsupportedOperation"


class BackendError(IntotoPipError):
    """The real build backend cannot be imported, or one of its hooks failed."""


class _NoSuchException(Exception):
    """Stands in for a backend that defines no ``UnsupportedOperation``."""


@dataclass(frozen=True)
class RealBackend:
    """A loaded backend object (a module, or an object inside one) and the name it came by."""

    name: str
    target: Any

    def has(self, hook: str) -> bool:
        return callable(getattr(self.target, hook, None))

    def call(self, hook: str, *args: Any) -> Any:
        """Call ``hook``; any failure becomes one BackendError naming backend and hook."""
        function: Callable[..., Any] = getattr(self.target, hook)
        passthrough = _unsupported_operation(self.target)
        try:
            return function(*args)
        except passthrough:
            raise
        except (Exception, SystemExit) as exc:
            if isinstance(exc, IntotoPipError):
                raise
            raise BackendError(_failure(self.name, hook, exc)) from exc

    def optional_hook(self, hook: str) -> Callable[..., Any]:
        """A wrapper calling ``hook``; AttributeError when the backend does not define it."""
        if not self.has(hook):
            raise AttributeError(f"build backend {self.name!r} has no hook {hook!r}")

        def forward(*args: Any) -> Any:
            return self.call(hook, *args)

        forward.__name__ = forward.__qualname__ = hook
        return forward


def _unsupported_operation(target: Any) -> type[BaseException]:
    found = getattr(target, UNSUPPORTED_OPERATION, None)
    if isinstance(found, type) and issubclass(found, BaseException):
        return found
    return _NoSuchException


def _failure(name: str, hook: str, exc: BaseException) -> str:
    if isinstance(exc, SystemExit):
        detail = f"it exited with status {exc.code!r}"
    else:
        text = " ".join(str(exc).split())
        detail = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return f"build backend {name!r} failed in {hook} ({detail}); see its output above"


def load_backend(name: str, backend_path: Sequence[Path] = ()) -> RealBackend:
    """Import ``module[:object.path]`` as PEP 517 does; BackendError names what is missing.

    With ``backend_path`` (an in-tree backend), those folders lead ``sys.path`` only while the
    module is imported, and the module must come from one of them (PEP 517's rule): a
    backend of the same name installed elsewhere, or imported earlier, is refused.
    """
    module_name, _, object_path = name.partition(":")
    try:
        with _leading_sys_path(backend_path):
            target: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise BackendError(_import_failure(name, backend_path, exc)) from exc
    if backend_path:
        _check_origin(name, target, backend_path)
    for part in object_path.split(".") if object_path else ():
        try:
            target = getattr(target, part)
        except AttributeError as exc:
            raise BackendError(f"build backend {name!r}: {module_name} has no {part!r}") from exc
    return RealBackend(name=name, target=target)


@contextmanager
def _leading_sys_path(folders: Sequence[Path]) -> Iterator[None]:
    """``folders`` first on ``sys.path`` for the duration; only our own entries are removed
    afterwards (the backend's import may have changed ``sys.path`` itself)."""
    entries = [os.fspath(folder) for folder in folders]
    sys.path[:0] = entries
    try:
        yield
    finally:
        for entry in entries:
            if entry in sys.path:
                sys.path.remove(entry)


def _import_failure(name: str, backend_path: Sequence[Path], exc: ImportError) -> str:
    if backend_path:
        folders = _folders(backend_path)
        return f"cannot import the build backend {name!r} from backend-path {folders} ({exc})"
    return (
        f"cannot import the build backend {name!r} named in [tool.intoto-pip.build]"
        f" ({exc}): list its distribution in [build-system] requires"
    )


def _folders(backend_path: Sequence[Path]) -> str:
    return ", ".join(os.fspath(folder) for folder in backend_path)


def _check_origin(name: str, module: Any, backend_path: Sequence[Path]) -> None:
    file = getattr(module, "__file__", None)
    origin = Path(file).resolve() if isinstance(file, str) else None
    if origin is None or not any(origin.is_relative_to(f.resolve()) for f in backend_path):
        raise BackendError(
            f"build backend {name!r} was loaded from {file or 'no file'}, not from"
            f" backend-path {_folders(backend_path)}: give the in-tree module a name no"
            " installed module has, or drop backend-path"
        )
