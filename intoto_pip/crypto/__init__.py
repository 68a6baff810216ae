"""Canonical JSON, keys, and signatures (classic Metablock hex and DSSE base64)."""
