"""What an installation waits for, started before anything else loads.

Probing the target interpreter and asking pip for its settings are two subprocesses of
0.1–0.4 s each; loading intoto-pip's verifier, installer and policy takes about as long again
in this process. Started first (this module imports little), the three overlap.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from intoto_pip.errors import InputError
from intoto_pip.install.pip_settings import PendingSettings, start_reading
from intoto_pip.install.target import PendingProbe, default_python, start_probe

ARCHIVE_SUFFIXES = (".whl", ".tar.gz", ".zip")


@dataclass(frozen=True, kw_only=True)
class Started:
    """The probe of the target, and pip's settings when pip will run; ``close`` both."""

    probe: PendingProbe
    settings: PendingSettings | None = None

    def close(self) -> None:
        self.probe.close()
        if self.settings is not None:
            self.settings.close()


def start(
    python: Path | None,
    *,
    target_dir: Path | None,
    prefix: Path | None,
    needs_pip: bool,
    environ: dict[str, str] | None = None,
) -> Started:
    """Start the probe (and ``pip config list`` when ``needs_pip``) without waiting."""
    probe = start_probe(python, target_dir=target_dir, prefix=prefix)
    try:
        settings = start_reading(python or default_python(), environ) if needs_pip else None
    except BaseException:
        probe.close()
        raise
    return Started(probe=probe, settings=settings)


def split_requirements(items: tuple[str, ...]) -> tuple[list[Path], list[str]]:
    """Local archive files (which must exist), and the requirements left for pip."""
    paths, requirements = [], []
    for item in items:
        if item.endswith(ARCHIVE_SUFFIXES) and "://" not in item:
            path = Path(item)
            if not path.is_file():
                raise InputError(f"{item}: no such archive")
            paths.append(path)
        else:
            requirements.append(item)
    return paths, requirements
