"""Replayed holder proofs (KB-JWT, live QR proof) and ECDSA malleability (DESIGN §9).

ECDSA signatures are malleable: (r, n - s) verifies as well as (r, s). Nothing in epermit may key a replay or
single-use decision on signature bytes, so a malleated copy of a proof must get exactly the verdict of the
original: REPLAYED when the original is stale, refused when the original's single-use nonce is spent.
"""

from __future__ import annotations

import time
from pathlib import Path

import cbor2
import pytest

from credential.encoding import b64url_decode, b64url_encode
from credential.jose import verify_signature
from credential.qrpass import decode_qr_text
from tests.attacks.forge import malleate_p1363, qr_text
from tests.attacks.support import expect
from tests.conftest import T0
from tests.verifier.conftest import World
from verifier.cache import VerifierCache
from verifier.policy import Policy
from verifier.result import Result


def _malleate_kb(presentation: str) -> str:
    head, kb = presentation.rsplit("~", 1)
    signing_input, signature = kb.rsplit(".", 1)
    return f"{head}~{signing_input}.{b64url_encode(malleate_p1363(b64url_decode(signature)))}"


def _malleate_live(text: str) -> str:
    decoded = decode_qr_text(text)
    assert decoded.proof is not None
    protected, unprotected, payload, signature = cbor2.loads(decoded.proof).value
    malleated = cbor2.CBORTag(18, [protected, unprotected, payload, malleate_p1363(signature)])
    return qr_text([cbor2.loads(decoded.cose_pass), malleated])


def test_malleated_signatures_really_verify(world: World) -> None:
    """The precondition of the attack: cryptography accepts the high-s twin (no low-s rule in ES256)."""
    data = b"epermit"
    signature = world.holder.sign(data)
    verify_signature("ES256", world.holder.public_key, data, signature)
    verify_signature("ES256", world.holder.public_key, data, malleate_p1363(signature))


# --- live QR proof -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("age", [61, 3600, -61])
def test_replayed_live_proof(world: World, filled: VerifierCache, age: int) -> None:
    stale = world.live_qr(at=T0 - age)
    expect(Result.REPLAYED, stale, filled)
    expect(Result.REPLAYED, _malleate_live(stale), filled)


def test_replayed_live_proof_to_a_verifier_with_its_own_nonce(world: World, filled: VerifierCache) -> None:
    shown_to_someone_else = world.live_qr(nonce=b"nonce-of-verifier-A")
    policy = Policy(expected_nonce="nonce-of-verifier-B")
    expect(Result.REPLAYED, shown_to_someone_else, filled, policy)
    expect(Result.REPLAYED, _malleate_live(shown_to_someone_else), filled, policy)
    expect(Result.REPLAYED, world.live_qr(), filled, policy)  # no nonce at all
    expect(Result.VALID, world.live_qr(nonce=b"nonce-of-verifier-B"), filled, policy)


def test_live_proof_window_is_configurable(world: World, filled: VerifierCache) -> None:
    expect(Result.VALID, world.live_qr(at=T0 - 60), filled)
    expect(Result.REPLAYED, world.live_qr(at=T0 - 20), filled, Policy(live_window=10))


def test_fresh_malleated_live_proof_is_the_same_proof(world: World, filled: VerifierCache) -> None:
    """Not a new proof: the verdict is the original's, because nothing is keyed on the signature bytes."""
    fresh = world.live_qr()
    assert expect(Result.VALID, _malleate_live(fresh), filled).live is True


def test_live_proof_by_another_device(world: World, filled: VerifierCache) -> None:
    from credential.qrpass import live_qr_text
    from keys.signers import KeySigner

    stolen_pass = world.cose_pass()
    expect(Result.REPLAYED, live_qr_text(stolen_pass, holder_signer=KeySigner.generate(), now=T0), filled)


# --- KB-JWT ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("age", [301, 3600])
def test_replayed_kb_jwt_too_old(world: World, filled: VerifierCache, age: int) -> None:
    stale = world.presentation(at=T0 - age)
    expect(Result.REPLAYED, stale, filled)
    expect(Result.REPLAYED, _malleate_kb(stale), filled)


def test_replayed_kb_jwt_to_another_verifier(world: World, filled: VerifierCache) -> None:
    shown_to_a = world.presentation(aud="landlord-A", nonce="nonce-A")
    for policy in (Policy(expected_aud="landlord-B"), Policy(expected_nonce="nonce-B")):
        expect(Result.REPLAYED, shown_to_a, filled, policy)
        expect(Result.REPLAYED, _malleate_kb(shown_to_a), filled, policy)
    expect(Result.VALID, shown_to_a, filled, Policy(expected_aud="landlord-A", expected_nonce="nonce-A"))


def test_kb_jwt_moved_to_another_credential(world: World, filled: VerifierCache) -> None:
    """Same holder key, another credential (another status index): the sd_hash no longer matches."""
    kb = world.presentation(idx=7).rsplit("~", 1)[1]
    other = world.sd_jwt(idx=8)
    expect(Result.REPLAYED, other + kb, filled)


def test_kb_jwt_from_the_future(world: World, filled: VerifierCache) -> None:
    expect(Result.REPLAYED, world.presentation(at=T0 + 301), filled)


def test_a_replayed_kb_jwt_of_a_revoked_credential_is_revoked(world: World, cache: VerifierCache) -> None:
    """Replaying an old presentation of a revoked (or suspended) credential, its KB-JWT malleated or not,
    gets REVOKED (SUSPENDED): the verdict that the credential itself is bad, not the lesser REPLAYED.
    The same presentation of a credential in good standing stays REPLAYED."""
    from credential.statuslist import INVALID, SUSPENDED

    world.statuses.set(7, INVALID)
    world.statuses.set(8, SUSPENDED)
    filled = world.fill(cache)
    for idx, verdict in ((7, Result.REVOKED), (8, Result.SUSPENDED), (9, Result.REPLAYED)):
        stale = world.presentation(idx=idx, at=T0 - 3600)
        assert expect(verdict, stale, filled).live is False
        expect(verdict, _malleate_kb(stale), filled)
        moved = world.sd_jwt(idx=idx) + world.presentation(idx=idx + 10).rsplit("~", 1)[1]  # another card's KB
        expect(verdict, moved, filled)


# --- single use at the issuer: the OpenID4VCI c_nonce ----------------------------------------------------


def test_malleated_key_proof_cannot_reuse_a_spent_c_nonce(tmp_path: Path) -> None:
    """The wallet API burns a c_nonce on first use; the (r, n - s) twin of the accepted proof is refused."""
    from credential.samples import sample_permit_valid_at
    from issuer.service import IssuerService
    from issuer.settings import IssuerSettings
    from issuer.store.sqlite import SQLiteStore
    from keys.keyring import KeyRing
    from keys.signers import KeySigner
    from tests.wallet_api.support import fetch_nonce, make_proof, redeem, request_credential
    from wallet_api import WalletApiSettings, create_app

    url = "https://permits.example.gov.cn"
    now = int(time.time())
    store = SQLiteStore(tmp_path / "issuer.sqlite3")
    store.initialize()
    try:
        ring = KeyRing.generate(authority_code="110105", authority_name="北京市公安局朝阳分局", now=now - 60)
        service = IssuerService(store, ring, IssuerSettings(public_url=url, status_list_size=1024), lambda: now)
        client = create_app(WalletApiSettings(public_url=url), service, clock=lambda: now).test_client()
        offer = service.create_offer(service.register(sample_permit_valid_at(now), officer="o-1").id, officer="o-1")
        token = redeem(client, offer.pre_authorized_code, offer.tx_code).get_json()["access_token"]
        device = KeySigner.generate("ES256")
        proof = make_proof(device, aud=url, nonce=fetch_nonce(client), iat=now)
        first = request_credential(client, token, "residence_permit_sd_jwt", [proof])
        assert first.status_code == 200, first.get_json()
        signing_input, signature = proof.rsplit(".", 1)
        twin = f"{signing_input}.{b64url_encode(malleate_p1363(b64url_decode(signature)))}"
        again = request_credential(client, token, "residence_permit_sd_jwt", [twin])
        assert again.status_code == 400 and again.get_json()["error"] == "invalid_nonce", again.get_json()
        replay = request_credential(client, token, "residence_permit_sd_jwt", [proof])
        assert replay.status_code == 400 and replay.get_json()["error"] == "invalid_nonce"
    finally:
        store.close()
