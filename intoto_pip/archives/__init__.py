"""Archives: reading wheels and sdists without trusting them (DESIGN §5). Safe reading only;
verifying what is read is ``intoto_pip.verify``'s job.

- :mod:`~intoto_pip.archives.reader`: ``SafeArchive``, the only reader of archive bytes; every
  structural check and cap, before anything is written (its zip and tar halves are private);
  members as byte chunks (``iter_files``) or binary streams (``iter_streams``, for
  ``installer``'s ``WheelSource``).
- :mod:`~intoto_pip.archives.limits`: ``ArchiveLimits``, every cap in one frozen dataclass.
- :mod:`~intoto_pip.archives.checked`: an archive opened and checked whole, and who it says it is.
- :mod:`~intoto_pip.archives.evidence`: finding the in-toto evidence (layout, links), embedded
  or detached.
- :mod:`~intoto_pip.archives.names`: safe member names, file names, PEP 503 names, and whether a
  wheel or sdist agrees with itself about who it is (``check_wheel``, ``check_sdist``; the
  wheel's one top-level ``dist_info_folder``; no ``planted_metadata`` of another project).
- :mod:`~intoto_pip.archives.wheel_record`: a wheel's RECORD, checked strictly.
- :mod:`~intoto_pip.archives.sandbox`: private folders, and the only code that writes into them.
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from intoto_pip.archives.limits import DEFAULT_LIMITS, ArchiveLimits
    from intoto_pip.archives.names import (
        SdistInfo,
        SdistName,
        WheelInfo,
        WheelName,
        canonical_name,
        check_sdist,
        check_wheel,
        dist_info_folder,
        intoto_dir,
        member_name_problem,
        parse_sdist_filename,
        parse_wheel_filename,
        planted_metadata,
        product_names,
    )
    from intoto_pip.archives.reader import Member, SafeArchive
    from intoto_pip.archives.sandbox import make_sandbox
    from intoto_pip.archives.wheel_record import RecordRow

# Loaded on first use: a command that needs one module of the package (``check`` reads the
# evidence folder) does not pay for the zip and tar readers, METADATA parsing and the rest.
# (``sandbox()`` itself is not re-exported: loaded lazily, the name would mean the submodule
# once that is imported; import it from ``intoto_pip.archives.sandbox``.)
_HOME = {
    "DEFAULT_LIMITS": "limits",
    "ArchiveLimits": "limits",
    "Member": "reader",
    "SafeArchive": "reader",
    "make_sandbox": "sandbox",
    "RecordRow": "wheel_record",
}


def __getattr__(name: str) -> object:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    module = importlib.import_module(f"{__name__}.{_HOME.get(name, 'names')}")
    return getattr(module, name)


__all__ = [
    "DEFAULT_LIMITS",
    "ArchiveLimits",
    "Member",
    "RecordRow",
    "SafeArchive",
    "SdistInfo",
    "SdistName",
    "WheelInfo",
    "WheelName",
    "canonical_name",
    "check_sdist",
    "check_wheel",
    "dist_info_folder",
    "intoto_dir",
    "make_sandbox",
    "member_name_problem",
    "parse_sdist_filename",
    "parse_wheel_filename",
    "planted_metadata",
    "product_names",
]
