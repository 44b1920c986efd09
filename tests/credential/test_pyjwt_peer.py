"""PyJWT as an independent peer for our compact JWS: it must accept what we sign, and we what it signs.

Our own JOSE layer (credential/jose.py) is what verifies in production, because PyJWT checks neither
`typ` nor duplicate keys and has no size limit (DESIGN §9); here PyJWT is the second opinion on the bytes.
"""

from __future__ import annotations

import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from credential.encoding import json_dumps
from credential.errors import WrongTypeError
from credential.jose import verify_compact
from credential.jwk import PublicKey
from credential.samples import AUTHORITY_CODE, AUTHORITY_NAME
from credential.statuslist import StatusList, sign_status_list_token, verify_status_list_token
from keys import KeyRing, KeySigner, Purpose

NOW = int(time.time())
URI = "https://jzz.example.gov.cn/statuslists/1"


@pytest.fixture(scope="module")
def ring() -> KeyRing:
    return KeyRing.generate(authority_code=AUTHORITY_CODE, authority_name=AUTHORITY_NAME, now=NOW - 60)


def test_pyjwt_verifies_our_status_list_token(ring: KeyRing) -> None:
    lst = StatusList(1 << 10)
    lst.set(7, 1)
    token = sign_status_list_token(lst, uri=URI, signer=ring.signer_for(Purpose.STATUS, now=NOW), now=NOW, ttl=300,
                                   exp=NOW + 3600)
    assert jwt.get_unverified_header(token)["typ"] == "statuslist+jwt"
    claims = jwt.decode(token, ring.signers_of(Purpose.STATUS)[0].public_key, algorithms=["ES256"],
                        options={"require": ["sub", "iat"]})
    assert claims["sub"] == URI and claims["status_list"]["bits"] == 2


def test_pyjwt_verifies_our_trust_list(ring: KeyRing) -> None:
    token = ring.trust_list_token(issuer="https://jzz.example.gov.cn", now=NOW, version=NOW, status_lists=[URI],
                                  aggregation_uri=None)
    claims = jwt.decode(token, ring.root_certificate.public_key(), algorithms=["ES256"])
    assert claims["version"] == NOW
    assert jwt.get_unverified_header(token)["typ"] == "trustlist+jwt"


def test_we_verify_a_status_list_token_pyjwt_signed() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    signer = KeySigner(key)
    lst = StatusList(16, bits=2)
    lst.set(3, 2)
    payload = {"sub": URI, "iat": NOW, "exp": NOW + 600, "ttl": 60, "status_list": lst.to_json()}
    # A pre-serialised UTF-8 payload, as DESIGN §9 advises for PyJWT.
    token = jwt.api_jws.encode(json_dumps(payload), key, algorithm="ES256",
                               headers={"typ": "statuslist+jwt", "kid": signer.kid})
    keys: dict[str, PublicKey] = {signer.kid: signer.public_key}
    verified = verify_status_list_token(token, uri=URI, resolve_key=keys.__getitem__, now=NOW)
    assert verified.status_list.get(3) == 2


def test_pyjwt_with_a_wrong_typ_is_refused_by_us_though_pyjwt_accepts_it() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    signer = KeySigner(key)
    token = jwt.encode({"sub": URI, "iat": NOW}, key, algorithm="ES256", headers={"typ": "JWT", "kid": signer.kid})
    assert jwt.decode(token, key.public_key(), algorithms=["ES256"])["sub"] == URI  # PyJWT: fine
    with pytest.raises(WrongTypeError):
        verify_compact(token, typ="statuslist+jwt", algorithms=("ES256",), resolve_key=lambda kid: signer.public_key,
                       max_size=4096)

