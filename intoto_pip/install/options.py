"""What ``intoto-pip install`` was asked to do, as one frozen value."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from intoto_pip.crypto.keys import VerificationKey
from intoto_pip.install.fetch import Progress
from intoto_pip.install.resolve import ResolveOptions
from intoto_pip.verify.policy import Policy
from intoto_pip.verify.provenance_policy import ProvenanceOptions

ProgressFactory = Callable[[str], Progress]


@dataclass(frozen=True, kw_only=True)
class InstallOptions:
    requirements: tuple[str, ...] = ()
    resolve: ResolveOptions = field(default_factory=ResolveOptions)
    python: Path | None = None
    target_dir: Path | None = None
    prefix: Path | None = None
    dry_run: bool = False
    compile_bytecode: bool = True  # False: --no-compile, no .pyc written (as pip)
    layout_keys: tuple[VerificationKey, ...] = ()
    policy: Policy = field(default_factory=Policy)
    inspection_timeout: float = 60.0
    break_system_packages: bool = False
    progress: ProgressFactory | None = None
    # Called as each phase starts; the CLI decides whether to show it (a long silence while
    # pip resolves or bytecode compiles looks like a hang).
    phase: Callable[[str], None] | None = None
    no_binary: frozenset[str] = frozenset()  # PEP 503 names, or ":all:"
    provenance: ProvenanceOptions = field(default_factory=ProvenanceOptions)
    allow_direct_url: frozenset[str] = frozenset()  # PEP 503 names, or ":all:"

    def announce(self, phase: str) -> None:
        """Say which phase starts (resolving, downloading, verifying, installing)."""
        if self.phase is not None:
            self.phase(phase)

    def progress_for(self, label: str) -> Progress | None:
        return self.progress(label) if self.progress else None
