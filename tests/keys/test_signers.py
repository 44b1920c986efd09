"""In-process signers: only P-256 and Ed25519, refused with a key management error otherwise."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from credential.errors import CredentialError
from keys import KeyManagementError, KeySigner


@pytest.mark.parametrize("alg", ["ES256", "EdDSA"])
def test_generate_the_two_algorithms(alg: str) -> None:
    signer = KeySigner.generate(alg)
    assert signer.alg == alg and len(signer.sign(b"data")) == 64


def test_other_keys_and_algorithms_are_refused() -> None:
    with pytest.raises(KeyManagementError, match="P-256") as caught:
        KeySigner(ec.generate_private_key(ec.SECP384R1()))
    assert not isinstance(caught.value, CredentialError)
    with pytest.raises(KeyManagementError, match="unsupported algorithm 'RS256'"):
        KeySigner.generate("RS256")
