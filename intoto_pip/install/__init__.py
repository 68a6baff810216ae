"""Verified installation: policy, resolution, fetching, the target, the transaction."""
