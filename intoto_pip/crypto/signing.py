"""Signature schemes: which hash, padding and curve each in-toto scheme means.

This is the only place that knows how a scheme maps onto `cryptography` calls, so that
signing and verifying can never disagree. The choices follow securesystemslib 1.x:
RSA-PSS signs with MGF1-SHA256 and a 32-byte salt (the digest length) and verifies any
salt length; ECDSA uses DER signatures, SHA-256 on P-256, SHA-384 on P-384 and SHA-512 on
P-521; ed25519 signs the message itself.
"""

from __future__ import annotations

from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes

ED25519: Final = "ed25519"
RSA: Final = "rsa"
ECDSA: Final = "ecdsa"

RSA_PSS_SHA256: Final = "rsassa-pss-sha256"
ECDSA_P256: Final = "ecdsa-sha2-nistp256"
ECDSA_P384: Final = "ecdsa-sha2-nistp384"
ECDSA_P521: Final = "ecdsa-sha2-nistp521"

# The keytype each scheme belongs to.
SCHEME_KEYTYPE: Final[dict[str, str]] = {
    ED25519: ED25519,
    RSA_PSS_SHA256: RSA,
    ECDSA_P256: ECDSA,
    ECDSA_P384: ECDSA,
    ECDSA_P521: ECDSA,
}

# Curve name (as `cryptography` spells it) -> scheme, and the hash each ECDSA scheme uses.
CURVE_SCHEME: Final[dict[str, str]] = {
    "secp256r1": ECDSA_P256,
    "secp384r1": ECDSA_P384,
    "secp521r1": ECDSA_P521,
}
_ECDSA_HASH: Final[dict[str, type[hashes.HashAlgorithm]]] = {
    ECDSA_P256: hashes.SHA256,
    ECDSA_P384: hashes.SHA384,
    ECDSA_P521: hashes.SHA512,
}

MIN_RSA_BITS: Final = 2048
RSA_SIGN_SALT_LENGTH: Final = 32


def default_scheme(key: PublicKeyTypes) -> str | None:
    """Return the scheme the reference assigns to ``key``, or None if it has none."""
    if isinstance(key, ed25519.Ed25519PublicKey):
        return ED25519
    if isinstance(key, rsa.RSAPublicKey):
        return RSA_PSS_SHA256
    if isinstance(key, ec.EllipticCurvePublicKey):
        return CURVE_SCHEME.get(key.curve.name)
    return None


def material_of(key: PublicKeyTypes) -> bytes:
    """The key material alone, whatever format carried it (PEM or OpenPGP) and its scheme."""
    if isinstance(key, ed25519.Ed25519PublicKey):
        raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return b"ed25519:" + raw
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    return b"spki:" + key.public_bytes(serialization.Encoding.DER, spki)


def verify_raw(key: PublicKeyTypes, scheme: str, signature: bytes, data: bytes) -> bool:
    """Return whether ``signature`` over ``data`` verifies; False for anything malformed."""
    try:
        if scheme == ED25519 and isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, data)
        elif scheme == RSA_PSS_SHA256 and isinstance(key, rsa.RSAPublicKey):
            # AUTO: other implementations may sign with another salt length; all are sound.
            pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO)
            key.verify(signature, data, pss, hashes.SHA256())
        elif scheme in _ECDSA_HASH and isinstance(key, ec.EllipticCurvePublicKey):
            if CURVE_SCHEME.get(key.curve.name) != scheme:
                return False
            key.verify(signature, data, ec.ECDSA(_ECDSA_HASH[scheme]()))
        else:
            return False
    except (InvalidSignature, ValueError):
        return False
    return True


def sign_raw(key: PrivateKeyTypes, scheme: str, data: bytes) -> bytes:
    """Sign ``data`` with ``key`` under ``scheme``; ``key`` must match the scheme."""
    if scheme == ED25519 and isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(data)
    if scheme == RSA_PSS_SHA256 and isinstance(key, rsa.RSAPrivateKey):
        pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=RSA_SIGN_SALT_LENGTH)
        return key.sign(data, pss, hashes.SHA256())
    if scheme in _ECDSA_HASH and isinstance(key, ec.EllipticCurvePrivateKey):
        return key.sign(data, ec.ECDSA(_ECDSA_HASH[scheme]()))
    raise ValueError(f"a {type(key).__name__} cannot sign with scheme {scheme!r}")
