"""The one exception root, and its two branches.

``VerificationError`` means "what is being verified is not acceptable" (exit 1): a bad
signature, a failed rule, a malformed link or archive. ``InputError`` means "the user asked for
something we cannot do" (exit 2): bad flags, a key or policy file that cannot be read.
``MachineError`` means the machine failed us (exit 3): disk full, permission denied on the
target. It is never reported as "not verified".
The CLI catches only ``IntotoPipError``; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class IntotoPipError(Exception):
    """Root of every error intoto-pip raises on purpose."""

    exit_code = 1


class VerificationError(IntotoPipError):
    """What is being verified is not acceptable (exit 1)."""

    exit_code = 1


class MetadataError(VerificationError):
    """Metadata (JSON, envelope, link, layout) is malformed; the message names the location."""


class SignatureError(VerificationError):
    """A signature, a key in metadata, or a threshold of signatures is not acceptable."""


class RuleError(VerificationError):
    """An artifact rule, threshold agreement, or inspection refused the supply chain."""


class ArchiveError(VerificationError):
    """A wheel or sdist is unsafe or inconsistent (checked before anything is written)."""


class InputError(IntotoPipError):
    """Bad usage, or a file the user named cannot be read (exit 2)."""

    exit_code = 2


class KeyLoadError(InputError):
    """A key file the user named cannot be read, decrypted or used."""


class InstallError(IntotoPipError):
    """Installation failed after verification; the target was restored (exit 1)."""

    exit_code = 1


class MachineError(IntotoPipError):
    """The machine failed (disk full, permission denied on the target): exit 3, never 1.

    Nothing was judged: a fault of the machine says nothing about what was being verified."""

    exit_code = 3
