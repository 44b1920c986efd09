"""Attacks on the signature and the key choice: alg none, HS256 with the public key, the psychic signature,
unknown and junk kids, and headers that would let a token bring its own key (jku, x5u, jwk, x5c, crit)."""

from __future__ import annotations

import base64
import hashlib
import hmac

import cbor2
import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from credential.errors import (
    BadSignatureError,
    ForbiddenHeaderError,
    UnsupportedAlgorithmError,
    UntrustedIssuerError,
)
from credential.jose import P256_ORDER
from credential.jwk import PublicKey, kid_bytes
from credential.statuslist import verify_status_list_token
from credential.trustlist import verify_trust_list
from keys import KeyRing, Purpose
from keys.signers import KeySigner
from tests.attacks.forge import cose_sign1, jws, pass_parts, qr_text, raw, resign, split_jwt
from tests.attacks.support import expect, issuer_jwt, with_jwt
from tests.conftest import T0
from tests.verifier.conftest import STATUS_URI, World
from verifier.cache import VerifierCache
from verifier.result import Result


def _status_resolver(world: World):  # type: ignore[no-untyped-def]
    def resolve(kid: str) -> PublicKey:
        if kid != world.status_signer.kid:
            raise UntrustedIssuerError(kid)
        return world.status_signer.public_key

    return resolve


def _hs256(header: dict[str, object], payload: dict[str, object], key: PublicKey) -> str:
    secret = key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    unsigned = jws(header, payload, None, signature=b"").rstrip(".")
    return unsigned + "." + jws({}, {}, None, signature=hmac.new(secret, unsigned.encode(), hashlib.sha256).digest()
                                ).rsplit(".", 1)[1]


# --- alg: none --------------------------------------------------------------------------------------------


def test_alg_none_credential(world: World, filled: VerifierCache) -> None:
    sd = world.sd_jwt()
    header, payload, _ = split_jwt(issuer_jwt(sd))
    unsigned = jws({**header, "alg": "none"}, payload, None, signature=b"")
    expect(Result.BAD_SIGNATURE, with_jwt(sd, unsigned), filled)


def test_alg_none_status_list_and_trust_list(world: World, filled: VerifierCache) -> None:
    header, payload, _ = split_jwt(world.status_token(now=T0 - 60))
    with pytest.raises(UnsupportedAlgorithmError):
        filled.accept_status_list(STATUS_URI, jws({**header, "alg": "none"}, payload, None, signature=b""), T0)
    header, payload, _ = split_jwt(world.trust_token(version=2))
    with pytest.raises(UnsupportedAlgorithmError):
        filled.accept_trust_list(jws({**header, "alg": "none"}, payload, None, signature=b""), T0)
    assert filled.trust_list().version == 1  # type: ignore[union-attr]  # nothing was kept


def test_alg_outside_the_allow_list_in_the_qr_pass(world: World, filled: VerifierCache) -> None:
    """COSE has no "none"; the equivalent is an algorithm the verifier never allowed (HMAC 256/256, 5),
    MACed with the issuer's public key."""
    protected, claims = pass_parts(world.cose_pass())
    payload = cbor2.dumps(claims)
    forged_header = {**protected, 1: 5}
    key = world.credential_signer.public_key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    mac = hmac.new(key, cbor2.dumps(["Signature1", cbor2.dumps(forged_header), b"", payload]), hashlib.sha256)
    expect(Result.BAD_SIGNATURE, qr_text(cose_sign1(forged_header, payload, None, signature=mac.digest())), filled)


# --- HS256 MACed with the issuer's public key (algorithm confusion) ---------------------------------------


def test_hs256_with_the_issuer_public_key(world: World, filled: VerifierCache) -> None:
    sd = world.sd_jwt()
    header, payload, _ = split_jwt(issuer_jwt(sd))
    forged = _hs256({**header, "alg": "HS256"}, payload, world.credential_signer.public_key)
    expect(Result.BAD_SIGNATURE, with_jwt(sd, forged), filled)


def test_hs256_status_list_and_trust_list(world: World, filled: VerifierCache) -> None:
    header, payload, _ = split_jwt(world.status_token(now=T0 - 60))
    forged = _hs256({**header, "alg": "HS256"}, payload, world.status_signer.public_key)
    with pytest.raises(UnsupportedAlgorithmError):
        verify_status_list_token(forged, uri=STATUS_URI, resolve_key=_status_resolver(world), now=T0)
    header, payload, _ = split_jwt(world.trust_token(version=2))
    forged = _hs256({**header, "alg": "HS256"}, payload, world.ring.root.public_key)  # type: ignore[attr-defined]
    with pytest.raises(UnsupportedAlgorithmError):
        verify_trust_list(forged, root_key=world.ring.root.public_key, now=T0)  # type: ignore[attr-defined]


def test_hs256_kb_jwt_with_the_holder_public_key(world: World, filled: VerifierCache) -> None:
    presentation = world.presentation()
    head, kb = presentation.rsplit("~", 1)
    header, payload, _ = split_jwt(kb)
    forged = _hs256({**header, "alg": "HS256"}, payload, world.holder.public_key)
    expect(Result.BAD_SIGNATURE, f"{head}~{forged}", filled)


# --- ECDSA r = s = 0 (CVE-2022-21449, the psychic signature) ------------------------------------------------


@pytest.mark.parametrize("signature", [bytes(64), P256_ORDER.to_bytes(32, "big") * 2,
                                       bytes(32) + (1).to_bytes(32, "big")], ids=["zero", "n", "r0"])
def test_psychic_signature_credential(world: World, filled: VerifierCache, signature: bytes) -> None:
    sd = world.sd_jwt()
    header, payload, _ = split_jwt(issuer_jwt(sd))
    expect(Result.BAD_SIGNATURE, with_jwt(sd, jws(header, payload, None, signature=signature)), filled)


def test_psychic_signature_qr_pass_and_live_proof(world: World, filled: VerifierCache) -> None:
    protected, claims = pass_parts(world.cose_pass())
    forged = cose_sign1(protected, cbor2.dumps(claims), None, signature=bytes(64))
    expect(Result.BAD_SIGNATURE, qr_text(forged), filled)
    genuine = cbor2.loads(world.cose_pass())
    zero_proof = cose_sign1({1: -7, 16: 65002}, cbor2.dumps({1: T0}), None, signature=bytes(64))
    expect(Result.REPLAYED, qr_text([genuine, zero_proof]), filled)  # any proof failure is REPLAYED


def test_psychic_signature_status_list(world: World, filled: VerifierCache) -> None:
    header, payload, _ = split_jwt(world.status_token(now=T0 - 60))
    with pytest.raises(BadSignatureError):
        filled.accept_status_list(STATUS_URI, jws(header, payload, None, signature=bytes(64)), T0)


# --- kid: unknown, junk, another purpose -----------------------------------------------------------------


def test_unknown_kid(world: World, filled: VerifierCache) -> None:
    sd = world.sd_jwt()
    stranger = KeySigner.generate()
    expect(Result.UNTRUSTED_ISSUER, with_jwt(sd, resign(issuer_jwt(sd), stranger,
                                                                     header={"kid": stranger.kid})), filled)
    expect(Result.UNTRUSTED_ISSUER, world.live_qr(signer=stranger), filled)


def test_trusted_kid_on_a_signature_by_another_key(world: World, filled: VerifierCache) -> None:
    sd = world.sd_jwt()
    stranger = KeySigner.generate()
    expect(Result.BAD_SIGNATURE, with_jwt(sd, resign(issuer_jwt(sd), stranger)), filled)


@pytest.mark.parametrize("kid", [
    "../../../../etc/passwd", "/dev/zero", "file:///etc/shadow", "' OR '1'='1' --", "x'; DROP TABLE keys; --",
    "\x1b[2J\x1b[32m✔ VALID\x1b[0m", "kid\r\nVALID", "A" * 4000, "%00", "https://attacker.example/key.json",
])
def test_kid_with_path_or_sql_junk(world: World, filled: VerifierCache, kid: str) -> None:
    sd = world.sd_jwt()
    forged = resign(issuer_jwt(sd), world.credential_signer, header={"kid": kid})
    outcome = expect(Result.UNTRUSTED_ISSUER, with_jwt(sd, forged), filled)
    assert "\x1b" not in outcome.reason and len(outcome.reason) <= 300


@pytest.mark.parametrize("kid", [123, "", ["a"], {"$ne": ""}, True])
def test_kid_of_the_wrong_type(world: World, filled: VerifierCache, kid: object) -> None:
    sd = world.sd_jwt()
    forged = resign(issuer_jwt(sd), world.credential_signer, header={"kid": kid})
    expect(Result.MALFORMED, with_jwt(sd, forged), filled)


@pytest.mark.parametrize("kid", [b"", b"\x00" * 7, b"../../etc/passwd", b"\xff" * 9])
def test_qr_pass_kid_junk(world: World, filled: VerifierCache, kid: bytes) -> None:
    protected, claims = pass_parts(world.cose_pass())
    forged = cose_sign1({**protected, 4: kid}, cbor2.dumps(claims), world.credential_signer)
    expect(Result.MALFORMED, qr_text(forged), filled)


def test_qr_pass_kid_unknown_eight_bytes(world: World, filled: VerifierCache) -> None:
    protected, claims = pass_parts(world.cose_pass())
    forged = cose_sign1({**protected, 4: b"\x00" * 8}, cbor2.dumps(claims), world.credential_signer)
    expect(Result.UNTRUSTED_ISSUER, qr_text(forged), filled)


def test_root_and_status_keys_cannot_sign_credentials(world: World, filled: VerifierCache) -> None:
    sd = world.sd_jwt()
    for signer in (world.status_signer, world.ring.root):
        expect(Result.UNTRUSTED_ISSUER, world.live_qr(signer=raw(signer)), filled)
        forged = resign(issuer_jwt(sd), signer, header={"kid": signer.kid})
        expect(Result.UNTRUSTED_ISSUER, with_jwt(sd, forged), filled)


# --- headers that bring their own key or rules ------------------------------------------------------------


@pytest.mark.parametrize(("name", "value"), [
    ("jku", "https://attacker.example/jwks.json"),
    ("x5u", "https://attacker.example/cert.pem"),
    ("jwk", {"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA"}),
    ("x5t", "bm90IGEgdGh1bWJwcmludA"),
    ("x5c", "MIIB"),  # x5c is tolerated for X.509 peers, but only as an array of base64 certificates
    ("crit", ["exp"]),
    ("crit", ["b64"]),
])
def test_key_source_and_crit_headers_credential(world: World, filled: VerifierCache, name: str,
                                                value: object) -> None:
    """Signed by the genuine issuer key: the header alone is refused, before any key is looked up."""
    sd = world.sd_jwt()
    forged = resign(issuer_jwt(sd), world.credential_signer, header={name: value})
    expect(Result.MALFORMED, with_jwt(sd, forged), filled)


def test_forged_x5c_chooses_no_key(world: World, filled: VerifierCache) -> None:
    """x5c is for X.509-resolving peers: a chain for the attacker's key, beside the genuine kid, changes nothing,
    and beside the attacker's own kid it makes the attacker's key no more trusted."""
    attacker = KeyRing.generate(authority_code="110105", authority_name="北京市公安局朝阳分局", now=T0 - 86400)
    signer = attacker.signing_key(Purpose.CREDENTIAL, now=T0)
    chain = [base64.b64encode(attacker.certificates[signer.kid].public_bytes(Encoding.DER)).decode("ascii")]
    sd = world.sd_jwt()
    genuine = resign(issuer_jwt(sd), world.credential_signer, header={"x5c": chain})
    expect(Result.VALID, with_jwt(sd, genuine), filled)
    expect(Result.BAD_SIGNATURE, with_jwt(sd, resign(issuer_jwt(sd), signer, header={"x5c": chain})), filled)
    own_kid = resign(issuer_jwt(sd), signer, header={"x5c": chain, "kid": signer.kid})
    expect(Result.UNTRUSTED_ISSUER, with_jwt(sd, own_kid), filled)


def test_jwk_header_in_the_kb_jwt(world: World, filled: VerifierCache) -> None:
    """The holder key comes from cnf only; a KB-JWT naming its own jwk is refused even when it is the right one."""
    from credential.jwk import public_jwk

    head, kb = world.presentation().rsplit("~", 1)
    forged = resign(kb, world.holder, header={"jwk": public_jwk(world.holder.public_key)})
    expect(Result.MALFORMED, f"{head}~{forged}", filled)


@pytest.mark.parametrize("name", ["jku", "x5u", "jwk", "crit"])
def test_key_source_headers_status_list_and_trust_list(world: World, filled: VerifierCache, name: str) -> None:
    value: object = ["exp"] if name == "crit" else "https://attacker.example/k"
    status = resign(world.status_token(now=T0 - 60), world.status_signer, header={name: value})
    with pytest.raises(ForbiddenHeaderError):
        filled.accept_status_list(STATUS_URI, status, T0)
    trust = resign(world.trust_token(version=2), world.ring.root, header={name: value})
    with pytest.raises(ForbiddenHeaderError):
        filled.accept_trust_list(trust, T0)


@pytest.mark.parametrize("label", [2, 32, 33, 34, 35, 14])  # crit, x5bag, x5chain, x5t, x5u, kccs
def test_key_source_and_crit_headers_qr_pass(world: World, filled: VerifierCache, label: int) -> None:
    protected, claims = pass_parts(world.cose_pass())
    value: object = [4] if label == 2 else b"attacker"
    forged = cose_sign1({**protected, label: value}, cbor2.dumps(claims), world.credential_signer)
    expect(Result.MALFORMED, qr_text(forged), filled)


def test_unprotected_header_is_refused(world: World, filled: VerifierCache) -> None:
    protected, claims = pass_parts(world.cose_pass())
    genuine = cose_sign1(protected, cbor2.dumps(claims), world.credential_signer)
    unprotected = cose_sign1(protected, cbor2.dumps(claims), None, signature=genuine.value[3],
                             unprotected={4: kid_bytes(world.credential_signer.kid)})
    expect(Result.VALID, qr_text(genuine), filled)
    expect(Result.MALFORMED, qr_text(unprotected), filled)


# --- controls: the forging tools make valid tokens when nothing is wrong ----------------------------------


def test_control_resigned_credential_is_valid(world: World, filled: VerifierCache) -> None:
    """Without this, every attack above could pass because the workbench itself broke the token."""
    sd = world.sd_jwt()
    expect(Result.VALID, with_jwt(sd, resign(issuer_jwt(sd), world.credential_signer)), filled)
    header, payload, _ = split_jwt(issuer_jwt(sd))
    expect(Result.VALID, with_jwt(sd, jws(header, payload, world.credential_signer)), filled)
    head, kb = world.presentation().rsplit("~", 1)
    expect(Result.VALID, f"{head}~{resign(kb, world.holder)}", filled)
    status = resign(world.status_token(now=T0 - 60), world.status_signer)
    assert filled.accept_status_list(STATUS_URI, status, T0).iat == T0 - 60


def test_sd_alg_below_the_top_level(world: World, filled: VerifierCache) -> None:
    """RFC 9901 §4.1.1: _sd_alg appears only at the top level of the payload."""
    sd = world.sd_jwt()
    forged = resign(issuer_jwt(sd), world.credential_signer,
                    payload={"extra": {"_sd_alg": "sha-256", "_sd": []}})
    expect(Result.MALFORMED, with_jwt(sd, forged), filled)
