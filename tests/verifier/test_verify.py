"""verify(): every DESIGN §5 result from real credentials, status lists and trust lists."""

from __future__ import annotations

import dataclasses
import datetime
import json

import cbor2
import pytest

from credential.passclaims import PassView, basic_permit_claim
from credential.qrpass import live_qr_text
from credential.samples import sample_permit
from credential.sdjwt import present
from credential.statuslist import INVALID, SUSPENDED
from keys.signers import KeySigner
from tests.attacks.forge import cose_sign1, pass_parts, qr_text
from tests.conftest import T0
from tests.verifier.conftest import HOUR, STATUS_URI, World
from verifier.cache import VerifierCache
from verifier.policy import Policy
from verifier.result import Result
from verifier.verify import MAX_INPUT, verify

DEFAULT = Policy()


def check(text: str, cache: VerifierCache, policy: Policy = DEFAULT, now: int = T0):  # type: ignore[no-untyped-def]
    return verify(text, cache, policy=policy, now=now)


def test_live_qr_is_valid_and_live(world: World, filled: VerifierCache) -> None:
    outcome = check(world.live_qr(), filled)
    assert outcome.result is Result.VALID, outcome.reason
    assert outcome.live is True and outcome.format == "qr_pass"
    assert outcome.claims["name"] == "张伟" and outcome.claims["citizen_id"] == world.permit.holder.citizen_id
    assert outcome.credential_type == "residence_permit"
    assert outcome.issuer_kid == world.credential_signer.kid
    assert outcome.authority_name == "北京市公安局朝阳分局"
    assert outcome.status_age_seconds == HOUR and outcome.trust_age_seconds == HOUR
    assert outcome.status_warning is None and outcome.clock_warning is None
    json.dumps(outcome.to_json(), ensure_ascii=False)  # JSON-safe


def test_static_qr_is_valid_but_static(world: World, filled: VerifierCache) -> None:
    outcome = check(world.static_qr(), filled)
    assert outcome.result is Result.VALID and outcome.live is False
    assert "static" in outcome.reason


def test_static_qr_with_require_live_is_no_holder_proof(world: World, filled: VerifierCache) -> None:
    outcome = check(world.static_qr(), filled, Policy(require_live=True))
    assert outcome.result is Result.NO_HOLDER_PROOF and outcome.live is False


@pytest.mark.parametrize(("value", "expected"), [(INVALID, Result.REVOKED), (SUSPENDED, Result.SUSPENDED)])
def test_status_values(world: World, cache: VerifierCache, value: int, expected: Result) -> None:
    world.statuses.set(7, value)
    world.fill(cache)
    assert check(world.live_qr(), cache).result is expected
    assert check(world.presentation(), cache).result is expected
    assert check(world.live_qr(idx=8), cache).result is Result.VALID  # the neighbour is untouched


def test_revoked_stays_revoked_in_stale_data(world: World, cache: VerifierCache) -> None:
    world.statuses.set(7, INVALID)
    world.fill(cache, status_at=T0 - 6 * 86400)
    later = T0 + 3 * 86400  # the list is 9 days old, past its exp
    outcome = check(world.live_qr(at=later), cache, now=later)
    assert outcome.result is Result.REVOKED


def test_expired_and_not_yet_valid(world: World, filled: VerifierCache) -> None:
    after = int(datetime.datetime(2027, 1, 6, tzinfo=datetime.UTC).timestamp())
    outcome = check(world.live_qr(at=after), filled, now=after)
    assert outcome.result is Result.EXPIRED, outcome.reason
    early = sample_permit(valid_from=datetime.date(2026, 8, 1), valid_until=datetime.date(2027, 8, 1))
    assert check(world.live_qr(permit=early), filled).result is Result.NOT_YET_VALID


def test_tampered_pass_is_bad_signature_even_when_revoked(world: World, cache: VerifierCache) -> None:
    import zlib

    import cbor2

    from credential.base45 import b45decode, b45encode

    world.statuses.set(7, INVALID)
    world.fill(cache)
    cose = cbor2.loads(world.cose_pass())
    protected, unprotected, raw_payload, signature = cose.value
    payload = cbor2.loads(raw_payload)
    payload[-70001][2] = "李伟"
    forged = cbor2.CBORTag(18, [protected, unprotected, cbor2.dumps(payload), signature])
    text = "EP1:" + b45encode(zlib.compress(cbor2.dumps(forged), 9))
    assert zlib.decompress(b45decode(text[4:]))  # well-formed, only the signature is wrong
    assert check(text, cache).result is Result.BAD_SIGNATURE


def test_tampered_sd_jwt_is_bad_signature(world: World, filled: VerifierCache) -> None:
    text = world.presentation()
    jwt, rest = text.split("~", 1)
    header, payload, signature = jwt.split(".")
    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    assert check(f"{header}.{payload}.{flipped}~{rest}", filled).result is Result.BAD_SIGNATURE


def test_key_not_in_trust_list_is_untrusted(world: World, filled: VerifierCache) -> None:
    stranger = KeySigner.generate()
    outcome = check(world.live_qr(signer=stranger), filled)
    assert outcome.result is Result.UNTRUSTED_ISSUER and outcome.claims == {}


def test_key_marked_revoked_is_untrusted(world: World, cache: VerifierCache) -> None:
    world.fill(cache)
    kid = world.credential_signer.kid
    token = world.edited_trust_token(
        lambda k: dataclasses.replace(k, state="revoked") if k.kid == kid else k, version=2)
    cache.accept_trust_list(token, T0)
    outcome = check(world.live_qr(), cache)
    assert outcome.result is Result.UNTRUSTED_ISSUER and "revoked" in outcome.reason
    assert check(world.presentation(), cache).result is Result.UNTRUSTED_ISSUER


def test_never_synced_is_not_set_up_never_untrusted(world: World, cache: VerifierCache) -> None:
    """A genuine card at a verifier that was never synced: a state of the verifier, not NOT GENUINE."""
    for text in (world.live_qr(), world.static_qr(), world.presentation()):
        outcome = check(text, cache)
        assert outcome.result is Result.NOT_SET_UP and "sync" in outcome.reason, outcome
        assert outcome.trust_age_seconds is None and outcome.claims == {}
    cache.pin_root(world.root_pem)  # a root but no trust list yet: still not set up
    assert check(world.live_qr(), cache).result is Result.NOT_SET_UP
    assert check("EP1:NOT A PASS", cache).result is Result.MALFORMED  # unreadable is still unreadable


def test_stale_status_is_status_unknown(world: World, cache: VerifierCache) -> None:
    world.fill(cache, status_at=T0 - 8 * 86400, validity=30 * 86400)  # not expired, but older than 7 days
    outcome = check(world.live_qr(), cache)
    assert outcome.result is Result.STATUS_UNKNOWN and "too old" in outcome.reason
    assert outcome.status_age_seconds == 8 * 86400
    assert check(world.live_qr(), cache, Policy(status_max_age=9 * 86400)).result is Result.VALID


def test_status_list_past_its_exp_is_status_unknown(world: World, cache: VerifierCache) -> None:
    world.fill(cache)
    outcome = check(world.live_qr(at=T0 + 7 * 86400), cache, now=T0 + 7 * 86400)
    assert outcome.result is Result.STATUS_UNKNOWN and "expired" in outcome.reason


def test_old_status_gives_warning(world: World, cache: VerifierCache) -> None:
    world.fill(cache, status_at=T0 - 2 * 86400)
    outcome = check(world.live_qr(), cache)
    assert outcome.result is Result.VALID and outcome.status_warning is not None
    stricter = Policy(status_warn_age=HOUR, status_max_age=86400)
    assert check(world.live_qr(), cache, stricter).result is Result.STATUS_UNKNOWN


def test_stale_trust_list_is_status_unknown(world: World, cache: VerifierCache) -> None:
    world.fill(cache)
    strict = Policy(trust_max_age=60)
    outcome = check(world.live_qr(), cache, strict)
    assert outcome.result is Result.STATUS_UNKNOWN and "trust list" in outcome.reason


def test_no_status_list_cached_is_status_unknown(world: World, cache: VerifierCache) -> None:
    cache.pin_root(world.root_pem)
    cache.accept_trust_list(world.trust_token(), T0)
    outcome = check(world.live_qr(), cache)
    assert outcome.result is Result.STATUS_UNKNOWN and outcome.status_age_seconds is None
    assert outcome.claims["name"] == "张伟"  # genuine: the data is shown, the verdict is not VALID


def test_index_outside_the_list_is_status_unknown(world: World, filled: VerifierCache) -> None:
    assert check(world.live_qr(idx=1 << 19), filled).result is Result.STATUS_UNKNOWN


@pytest.mark.parametrize("proof_time", [T0 - 61, T0 + 61, T0 - 3600])
def test_old_live_proof_is_replayed(world: World, filled: VerifierCache, proof_time: int) -> None:
    assert check(world.live_qr(at=proof_time), filled).result is Result.REPLAYED


def test_proof_from_another_pass_is_replayed(world: World, filled: VerifierCache) -> None:
    """A live proof lifted from one pass and put next to another pass of the same holder."""
    import zlib

    import cbor2

    from credential.base45 import b45encode
    from credential.qrpass import decode_qr_text

    proof = decode_qr_text(world.live_qr()).proof
    assert proof is not None
    items = [cbor2.loads(world.cose_pass(idx=9)), cbor2.loads(proof)]
    text = "EP1:" + b45encode(zlib.compress(cbor2.dumps(items), 9))
    assert check(text, filled).result is Result.REPLAYED


def test_live_proof_nonce(world: World, filled: VerifierCache) -> None:
    policy = Policy(expected_nonce="abc123")
    assert check(world.live_qr(nonce=b"abc123"), filled, policy).result is Result.VALID
    assert check(world.live_qr(nonce=b"zzz"), filled, policy).result is Result.REPLAYED


def test_sd_jwt_with_key_binding_is_valid_live(world: World, filled: VerifierCache) -> None:
    outcome = check(world.presentation(), filled, Policy(expected_aud="landlord", expected_nonce="n-1"))
    assert outcome.result is Result.VALID, outcome.reason
    assert outcome.live is True and outcome.format == "sd_jwt_vc"
    assert outcome.claims["name"] == "张伟" and outcome.claims["birth_date"] == "1990-03-15"
    assert outcome.claims["type"] == "residence_permit"


def test_sd_jwt_without_key_binding(world: World, filled: VerifierCache) -> None:
    outcome = check(world.sd_jwt(), filled)
    assert outcome.result is Result.VALID and outcome.live is False
    assert check(world.sd_jwt(), filled, Policy(require_live=True)).result is Result.NO_HOLDER_PROOF


# --- a verdict must say whose credential it is -----------------------------------------------------------


def _shown(world: World, disclose: set[str]) -> str:
    return present(world.sd_jwt(), disclose=disclose, holder_signer=world.holder, aud="a", nonce="n", now=T0 - 5)


def _stripped(world: World) -> str:
    """The issued SD-JWT VC with every disclosure removed: still a genuine issuer signature."""
    return world.sd_jwt().split("~", 1)[0] + "~"


def test_sd_jwt_without_any_disclosure_is_not_valid(world: World, filled: VerifierCache) -> None:
    for text in (_stripped(world), _shown(world, set())):
        outcome = check(text, filled)
        assert outcome.result is Result.MALFORMED, outcome  # the old code said VALID, naming nobody
        assert outcome.reason == ("the presentation does not identify its holder: name and document_number "
                                  "must be disclosed (missing: name, document_number)")
        assert outcome.claims == {} and outcome.issuer_kid is None


@pytest.mark.parametrize(("disclose", "missing"), [
    ({"name", "citizen_id", "address"}, "document_number"),
    ({"document_number", "sex"}, "name"),
])
def test_sd_jwt_needs_name_and_document_number(world: World, filled: VerifierCache, disclose: set[str],
                                               missing: str) -> None:
    outcome = check(_shown(world, disclose), filled)
    assert outcome.result is Result.MALFORMED and outcome.reason.endswith(f"(missing: {missing})")


def test_sd_jwt_with_name_and_document_number_is_valid(world: World, filled: VerifierCache) -> None:
    outcome = check(_shown(world, {"name", "document_number"}), filled)
    assert outcome.result is Result.VALID and outcome.live is True, outcome.reason
    assert outcome.claims["name"] == world.permit.holder.name
    assert outcome.claims["document_number"] == world.permit.document_number
    assert outcome.claims["type"] == "residence_permit" and "citizen_id" not in outcome.claims


def test_sd_jwt_identity_is_judged_after_trust_and_before_status(world: World, cache: VerifierCache) -> None:
    world.statuses.set(7, INVALID)
    world.fill(cache)
    assert check(_stripped(world), cache).result is Result.MALFORMED  # not REVOKED: it names nobody
    assert check(_stripped(world), cache, now=T0 + 200 * 86400).result is Result.EXPIRED
    world.permit = dataclasses.replace(world.permit, authority_code="310101")
    assert check(_stripped(world), cache).result is Result.MALFORMED  # the code was not disclosed either
    assert check(_shown(world, {"authority_code"}), cache).result is Result.UNTRUSTED_ISSUER


def test_sd_jwt_replays(world: World, filled: VerifierCache) -> None:
    assert check(world.presentation(at=T0 - 3600), filled).result is Result.REPLAYED
    wrong_aud = check(world.presentation(aud="someone else"), filled, Policy(expected_aud="landlord"))
    assert wrong_aud.result is Result.REPLAYED


def test_sd_jwt_expired(world: World, filled: VerifierCache) -> None:
    assert check(world.sd_jwt(exp=T0 - 3600), filled).result is Result.EXPIRED


@pytest.mark.parametrize(
    "text",
    ["", "   ", "hello", "EP1:", "EP1:%%%%", "EP1:" + "A" * 5000, "x" * (MAX_INPUT + 1), "a.b.c~", "\x00\x01",
     "EP1:" + "0" * 40],
)
def test_garbage_is_malformed(filled: VerifierCache, text: str) -> None:
    outcome = check(text, filled)
    assert outcome.result is Result.MALFORMED, (text[:20], outcome)
    assert "\n" not in outcome.reason and outcome.claims == {}


def test_clock_rolled_back_is_reported_and_not_believed(world: World, filled: VerifierCache) -> None:
    # The local clock says 2026-01-01, before the signed lists (T0 - 1 h): it is not believed.
    rolled_back = T0 - 200 * 86400
    outcome = check(world.live_qr(at=T0 - HOUR), filled, now=rolled_back)
    assert outcome.clock_warning is not None and "behind" in outcome.clock_warning
    assert outcome.result is Result.VALID  # judged at the high-water mark, not at the rolled-back time
    expired_at = int(datetime.datetime(2027, 1, 6, tzinfo=datetime.UTC).timestamp())
    # An expired pass shown to a verifier whose clock was wound back into its validity: still EXPIRED,
    # once the verifier has seen a list signed after the expiry.
    late = World(ring=world.ring, holder=world.holder, permit=world.permit)
    cache = VerifierCache(filled.directory.parent / "late")
    cache.pin_root(late.root_pem)
    cache.accept_trust_list(late.trust_token(now=expired_at), expired_at)
    outcome = check(world.live_qr(at=T0), cache, now=T0)
    assert outcome.result is Result.EXPIRED and outcome.clock_warning is not None


def test_small_skew_is_not_a_clock_warning(world: World, filled: VerifierCache) -> None:
    outcome = check(world.live_qr(at=T0 - HOUR - 100), filled, now=T0 - HOUR - 100)
    assert outcome.clock_warning is None


def test_registration_card_needs_a_key_allowed_for_its_type(world: World, filled: VerifierCache) -> None:
    from credential.model import CredentialType

    card = sample_permit(CredentialType.RESIDENCE_REGISTRATION)
    outcome = check(world.live_qr(permit=card), filled)
    assert outcome.result is Result.VALID and outcome.credential_type == "residence_registration"


def test_verify_does_not_raise_on_a_damaged_cache(world: World, filled: VerifierCache) -> None:
    (filled.directory / "trustlist.jwt").write_text("garbage")
    (filled.directory / "state.json").write_text("{not json")
    assert check(world.live_qr(), filled).result is Result.UNTRUSTED_ISSUER


def test_key_not_allowed_for_the_type_is_untrusted(world: World, cache: VerifierCache) -> None:
    from credential.model import CredentialType

    cache.pin_root(world.root_pem)
    token = world.edited_trust_token(lambda k: dataclasses.replace(k, types=frozenset({"residence_permit"})),
                                     version=1)
    cache.accept_trust_list(token, T0)
    cache.accept_status_list(STATUS_URI, world.status_token(), T0)
    assert check(world.live_qr(), cache).result is Result.VALID
    card = sample_permit(CredentialType.RESIDENCE_REGISTRATION)
    outcome = check(world.live_qr(permit=card), cache)
    assert outcome.result is Result.UNTRUSTED_ISSUER and "may not sign" in outcome.reason
    assert outcome.claims == {}
    world.permit = card
    assert check(world.presentation(), cache).result is Result.UNTRUSTED_ISSUER


def test_order_validity_then_revocation_then_holder_proof(world: World, cache: VerifierCache) -> None:
    """The worst true fact wins: a revoked credential is REVOKED whoever shows it, with a stale, foreign or
    missing proof; only a credential status does not condemn gets REPLAYED or NO_HOLDER_PROOF."""
    world.statuses.set(7, INVALID)
    world.statuses.set(8, SUSPENDED)
    world.fill(cache)
    after = int(datetime.datetime(2027, 1, 6, tzinfo=datetime.UTC).timestamp())
    assert check(world.live_qr(at=after), cache, now=after).result is Result.EXPIRED
    revoked_stale = check(world.live_qr(at=T0 - 3600), cache)
    assert revoked_stale.result is Result.REVOKED and revoked_stale.live is False
    assert revoked_stale.claims["name"] == "张伟"
    assert check(world.static_qr(), cache, Policy(require_live=True)).result is Result.REVOKED
    assert check(world.sd_jwt(), cache, Policy(require_live=True)).result is Result.REVOKED
    assert check(world.live_qr(idx=8, at=T0 - 3600), cache).result is Result.SUSPENDED
    assert check(world.live_qr(idx=9, at=T0 - 3600), cache).result is Result.REPLAYED  # status 0
    assert check(world.static_qr(idx=9), cache, Policy(require_live=True)).result is Result.NO_HOLDER_PROOF


def test_sd_jwt_order_revocation_before_a_stale_key_binding(world: World, cache: VerifierCache) -> None:
    """The SD-JWT VC twin of the QR order: the KB-JWT's failure waits for the status, so a revoked
    (suspended) credential with a stale, foreign or future KB-JWT is REVOKED (SUSPENDED), never REPLAYED,
    and shows whose it is; a good one with the same KB-JWT is REPLAYED, never VALID."""
    world.statuses.set(7, INVALID)
    world.statuses.set(8, SUSPENDED)
    world.fill(cache)
    for stale in (world.presentation(at=T0 - 3600), world.presentation(at=T0 + 3600),
                  world.presentation(aud="someone-else")):
        outcome = check(stale, cache, Policy(expected_aud="landlord"))
        assert outcome.result is Result.REVOKED and outcome.live is False, outcome.reason
        assert outcome.claims["name"] == "张伟" and outcome.format == "sd_jwt_vc"
    assert check(world.presentation(idx=8, at=T0 - 3600), cache).result is Result.SUSPENDED
    replayed = check(world.presentation(idx=9, at=T0 - 3600), cache)  # status 0: the proof is the worst fact
    assert replayed.result is Result.REPLAYED and replayed.live is False
    assert check(world.sd_jwt(idx=9), cache, Policy(require_live=True)).result is Result.NO_HOLDER_PROOF
    assert check(world.presentation(idx=9), cache).result is Result.VALID  # a fresh KB-JWT: live
    assert check(world.presentation(idx=9), cache).live is True
    after = int(datetime.datetime(2027, 1, 6, tzinfo=datetime.UTC).timestamp())
    assert check(world.presentation(at=T0 - 3600), cache, now=after).result is Result.EXPIRED


def test_a_stale_key_binding_outranks_unknown_status(world: World, cache: VerifierCache) -> None:
    cache.pin_root(world.root_pem)
    cache.accept_trust_list(world.trust_token(), T0)
    assert check(world.presentation(at=T0 - 3600), cache).result is Result.REPLAYED  # no status list at all
    assert check(world.presentation(idx=1 << 19, at=T0 - 3600), world.fill(cache)).result is Result.REPLAYED


def test_a_stale_proof_outranks_unknown_status(world: World, cache: VerifierCache) -> None:
    """Not knowing the status is no excuse for a copied code: REPLAYED, not STATUS_UNKNOWN."""
    cache.pin_root(world.root_pem)
    cache.accept_trust_list(world.trust_token(), T0)
    assert check(world.live_qr(at=T0 - 3600), cache).result is Result.REPLAYED
    assert check(world.live_qr(idx=1 << 19, at=T0 - 3600), world.fill(cache)).result is Result.REPLAYED


# --- the authority: the pass carries its code, the trust list names it ----------------------------------


def _trust_with_authority(world: World, cache: VerifierCache, *, code: str = "110105",
                          name: str = "北京市公安局朝阳分局") -> VerifierCache:
    cache.pin_root(world.root_pem)
    token = world.edited_trust_token(lambda k: dataclasses.replace(k, authority_code=code, authority_name=name),
                                     version=1)
    cache.accept_trust_list(token, T0)
    cache.accept_status_list(STATUS_URI, world.status_token(), T0)
    return cache


def test_authority_name_shown_is_the_trust_lists(world: World, cache: VerifierCache) -> None:
    """The pass names no authority: the name shown is the one the trust list binds to the signing key."""
    _trust_with_authority(world, cache, name="北京市公安局朝阳分局出入境管理支队")
    for text in (world.live_qr(), world.static_qr()):
        outcome = check(text, cache)
        assert outcome.result is Result.VALID, outcome.reason
        assert outcome.claims["authority_name"] == "北京市公安局朝阳分局出入境管理支队"
        assert outcome.authority_name == outcome.claims["authority_name"]
        assert outcome.claims["authority_code"] == "110105"


def test_sd_jwt_shows_the_trust_lists_authority_name(world: World, cache: VerifierCache) -> None:
    """The SD-JWT VC carries the name a clerk typed; what is shown is the one the trust list binds to the key."""
    _trust_with_authority(world, cache, name="北京市公安局朝阳分局出入境管理支队")
    world.permit = dataclasses.replace(world.permit, authority_name="北京市公安局朝阳分局（手输）")
    for text in (world.presentation(), world.sd_jwt()):
        outcome = check(text, cache)
        assert outcome.result is Result.VALID, outcome.reason
        assert outcome.claims["authority_name"] == "北京市公安局朝阳分局出入境管理支队"
        assert outcome.authority_name == outcome.claims["authority_name"]
        assert outcome.claims["authority_code"] == "110105"
    # Withholding the code hides nothing the signature does not already say: the key's authority is shown.
    hidden = present(world.sd_jwt(), disclose={"name", "document_number"}, holder_signer=world.holder, aud="a",
                     nonce="n", now=T0 - 5)
    outcome = check(hidden, cache)
    assert outcome.result is Result.VALID, outcome.reason
    assert (outcome.claims["authority_code"], outcome.claims["authority_name"]) == (
        "110105", "北京市公安局朝阳分局出入境管理支队")


def test_sd_jwt_for_another_authority_is_untrusted(world: World, filled: VerifierCache) -> None:
    """A key of 朝阳分局 (110105) signing an SD-JWT VC that names 黄浦分局 (310101), as for the QR pass."""
    world.permit = dataclasses.replace(world.permit, authority_code="310101", authority_name="上海市公安局黄浦分局")
    for text in (world.presentation(), world.sd_jwt()):
        outcome = check(text, filled)
        assert outcome.result is Result.UNTRUSTED_ISSUER, outcome.reason
        assert "key of authority 110105 may not sign for authority 310101" in outcome.reason
        assert outcome.claims == {} and outcome.issuer_kid is None and outcome.authority_name is None


def test_sd_jwt_order_validity_then_authority_then_key_binding(world: World, filled: VerifierCache) -> None:
    world.permit = dataclasses.replace(world.permit, authority_code="310101")
    after = T0 + 200 * 86400
    assert check(world.sd_jwt(), filled, now=after).result is Result.EXPIRED
    assert check(world.presentation(at=T0 - HOUR), filled).result is Result.UNTRUSTED_ISSUER  # not REPLAYED


def test_pass_for_another_authority_is_untrusted(world: World, filled: VerifierCache) -> None:
    """A key of 朝阳分局 (110105) signing a pass that names 黄浦分局 (310101): UNTRUSTED_ISSUER, nothing shown."""
    foreign = dataclasses.replace(world.permit, authority_code="310101", authority_name="上海市公安局黄浦分局")
    for text in (world.live_qr(permit=foreign), world.static_qr(permit=foreign)):
        outcome = check(text, filled)
        assert outcome.result is Result.UNTRUSTED_ISSUER, outcome.reason
        assert "key of authority 110105 may not sign for authority 310101" in outcome.reason
        assert outcome.claims == {} and outcome.issuer_kid is None and outcome.authority_name is None


def test_key_bound_to_another_authority_is_untrusted(world: World, cache: VerifierCache) -> None:
    """The same genuine pass, where the trust list binds its key to 北京市公安局 (110000) instead."""
    _trust_with_authority(world, cache, code="110000", name="北京市公安局")
    outcome = check(world.live_qr(), cache)
    assert outcome.result is Result.UNTRUSTED_ISSUER and "key of authority 110000" in outcome.reason
    assert outcome.claims == {}


def test_order_signature_then_validity_then_authority(world: World, filled: VerifierCache) -> None:
    """As for a key not allowed the credential type: BAD_SIGNATURE and EXPIRED come first."""
    foreign = dataclasses.replace(world.permit, authority_code="310101")
    protected, claims = pass_parts(world.cose_pass(permit=foreign))  # another key under our kid
    forged = qr_text(cose_sign1(protected, cbor2.dumps(claims), KeySigner.generate()))
    assert check(forged, filled).result is Result.BAD_SIGNATURE
    after = int(datetime.datetime(2027, 1, 6, tzinfo=datetime.UTC).timestamp())
    assert check(world.static_qr(permit=foreign), filled, now=after).result is Result.EXPIRED
    world.statuses.set(7, INVALID)
    world.fill(filled)
    assert check(world.static_qr(permit=foreign), filled).result is Result.UNTRUSTED_ISSUER  # not REVOKED


# --- the two views of a QR pass -----------------------------------------------------------------------------


def test_a_basic_pass_is_valid_says_its_view_and_carries_no_personal_data(
    world: World, filled: VerifierCache
) -> None:
    basic = live_qr_text(world.cose_pass(view=PassView.BASIC), holder_signer=world.holder, now=T0 - 5)
    outcome = check(basic, filled)
    assert outcome.result is Result.VALID and outcome.live is True, outcome.reason
    assert outcome.view == "basic" and outcome.to_json()["view"] == "basic"
    assert outcome.claims["name"] == "张伟" and outcome.claims["authority_name"] == "北京市公安局朝阳分局"
    assert not {"citizen_id", "birth_date", "address", "sex", "ethnicity", "district"} & set(outcome.claims)
    assert check(world.live_qr(), filled).view == "full"


@pytest.mark.parametrize("view", [PassView.BASIC, PassView.FULL])
def test_a_pass_whose_map_lies_about_its_view_is_malformed(world: World, filled: VerifierCache,
                                                          view: PassView) -> None:
    protected, claims = pass_parts(world.cose_pass(view=view))
    if view is PassView.BASIC:  # states basic, carries the citizen ID
        claims[-70001][7] = int(world.permit.holder.citizen_id[:17])
    else:  # states nothing (full), carries only the basic fields
        claims[-70001] = basic_permit_claim(world.permit)
        del claims[-70001][14]
    forged = qr_text(cose_sign1(protected, cbor2.dumps(claims), world.credential_signer))
    outcome = check(forged, filled)
    assert outcome.result is Result.MALFORMED, outcome.reason
    assert outcome.claims == {} and outcome.view is None


def test_an_sd_jwt_vc_states_no_view(world: World, filled: VerifierCache) -> None:
    outcome = check(world.presentation(), filled, Policy(expected_aud="landlord", expected_nonce="n-1"))
    assert outcome.result is Result.VALID and outcome.view is None
