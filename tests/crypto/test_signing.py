"""Scheme details the reference fixes: PSS salt, ECDSA hash per curve, DER signatures."""

from __future__ import annotations

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from intoto_pip.crypto import signing
from intoto_pip.crypto.keys import signer_from_private_key

DATA = b"DSSEv1 28 application/vnd.in-toto+json 2 {}"


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pss(salt: int) -> padding.PSS:
    return padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=salt)


def test_rsa_signs_with_a_32_byte_salt_as_securesystemslib(rsa_key: rsa.RSAPrivateKey) -> None:
    signature = signer_from_private_key(rsa_key).sign(DATA)
    rsa_key.public_key().verify(signature, DATA, _pss(32), hashes.SHA256())
    with pytest.raises(InvalidSignature):
        rsa_key.public_key().verify(signature, DATA, _pss(20), hashes.SHA256())


@pytest.mark.parametrize("salt", [0, 20, 32, 64, padding.PSS.MAX_LENGTH])
def test_rsa_verifies_any_salt_length(rsa_key: rsa.RSAPrivateKey, salt: int) -> None:
    signature = rsa_key.sign(DATA, _pss(salt), hashes.SHA256())
    assert signer_from_private_key(rsa_key).public_key.verify(signature, DATA)


def test_rsa_refuses_other_paddings_and_hashes(rsa_key: rsa.RSAPrivateKey) -> None:
    key = signer_from_private_key(rsa_key).public_key
    assert not key.verify(rsa_key.sign(DATA, padding.PKCS1v15(), hashes.SHA256()), DATA)
    sha512_pss = padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=32)
    assert not key.verify(rsa_key.sign(DATA, sha512_pss, hashes.SHA512()), DATA)


@pytest.mark.parametrize(
    ("curve", "good", "bad"),
    [
        (ec.SECP256R1(), hashes.SHA256(), hashes.SHA384()),
        (ec.SECP384R1(), hashes.SHA384(), hashes.SHA256()),
        (ec.SECP521R1(), hashes.SHA512(), hashes.SHA256()),
    ],
)
def test_ecdsa_hash_is_fixed_by_the_curve(
    curve: ec.EllipticCurve, good: hashes.HashAlgorithm, bad: hashes.HashAlgorithm
) -> None:
    private = ec.generate_private_key(curve)
    key = signer_from_private_key(private).public_key
    assert key.verify(private.sign(DATA, ec.ECDSA(good)), DATA)
    assert not key.verify(private.sign(DATA, ec.ECDSA(bad)), DATA)
    ours = signer_from_private_key(private).sign(DATA)
    private.public_key().verify(ours, DATA, ec.ECDSA(good))


def test_ecdsa_signatures_are_der_not_raw() -> None:
    private = ec.generate_private_key(ec.SECP256R1())
    der = private.sign(DATA, ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    key = signer_from_private_key(private).public_key
    assert key.verify(der, DATA)
    assert not key.verify(raw, DATA)


def test_primitives_refuse_a_key_of_another_scheme() -> None:
    private = ed25519.Ed25519PrivateKey.generate()
    signature = private.sign(DATA)
    assert signing.verify_raw(private.public_key(), signing.ED25519, signature, DATA)
    assert not signing.verify_raw(private.public_key(), signing.RSA_PSS_SHA256, signature, DATA)
    p384 = ec.generate_private_key(ec.SECP384R1())
    p384_sig = p384.sign(DATA, ec.ECDSA(hashes.SHA256()))
    assert not signing.verify_raw(p384.public_key(), signing.ECDSA_P256, p384_sig, DATA)
    with pytest.raises(ValueError, match="cannot sign"):
        signing.sign_raw(private, signing.ECDSA_P256, DATA)
