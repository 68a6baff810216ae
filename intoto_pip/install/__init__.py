"""Verified installation: resolution (pip, isolated), fetching, locks (PEP 751), the target,
installing through the verified reader (``wheel_source``) with path ownership, bytecode and the
transaction, and ``check`` of what is installed. The trust policy lives in ``verify.policy``."""
