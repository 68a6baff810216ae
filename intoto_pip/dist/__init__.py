"""Distributions: reading wheels and sdists without trusting them (DESIGN §5).

- :mod:`~intoto_pip.dist.archive`: ``SafeArchive``, the only reader of archive bytes; every
  structural check and cap, before anything is written.
- :mod:`~intoto_pip.dist.names`: safe member names, file names, PEP 503 names, and whether a
  wheel or sdist agrees with itself about who it is (``check_wheel``, ``check_sdist``).
- :mod:`~intoto_pip.dist.record`: a wheel's RECORD, checked strictly.
- :mod:`~intoto_pip.dist.sandbox`: private folders, and the only code that writes into them.
"""

from intoto_pip.dist.archive import DEFAULT_LIMITS, ArchiveLimits, Member, SafeArchive
from intoto_pip.dist.names import (
    SdistInfo,
    SdistName,
    WheelInfo,
    WheelName,
    canonical_name,
    check_sdist,
    check_wheel,
    intoto_dir,
    member_name_problem,
    parse_sdist_filename,
    parse_wheel_filename,
    product_names,
)
from intoto_pip.dist.record import RecordRow
from intoto_pip.dist.sandbox import make_sandbox, sandbox

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
    "intoto_dir",
    "make_sandbox",
    "member_name_problem",
    "parse_sdist_filename",
    "parse_wheel_filename",
    "product_names",
    "sandbox",
]
