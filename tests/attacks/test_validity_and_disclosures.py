"""Validity (expired, not yet valid) and the selective-disclosure attacks: a tampered disclosure, a disclosure
lifted from another credential, and a presentation stripped of its KB-JWT."""

from __future__ import annotations

import datetime

import pytest

from credential.disclosures import decode_disclosure, encode_disclosure
from credential.encoding import b64url_decode, b64url_encode
from credential.samples import sample_permit
from credential.sdjwt import issue_sd_jwt_vc, present
from tests.attacks.support import expect
from tests.conftest import T0
from tests.verifier.conftest import ISSUER, STATUS_URI, World
from verifier.cache import VerifierCache
from verifier.policy import Policy
from verifier.result import Result

AFTER_PERMIT = int(datetime.datetime(2027, 1, 6, tzinfo=datetime.UTC).timestamp())  # sample permit ends 2027-01-04


def _sd_jwt(world: World, *, now: int = T0 - 86400, exp: int = T0 + 86400, nbf: int | None = None,
            resident: int = 0, idx: int = 7) -> str:
    return issue_sd_jwt_vc(sample_permit(resident=resident), issuer=ISSUER, signer=world.credential_signer,
                           holder_key=world.holder.public_key, status_uri=STATUS_URI, status_idx=idx, now=now,
                           exp=exp, nbf=nbf)


# --- expired / not yet valid ------------------------------------------------------------------------------


def test_expired_credential(world: World, filled: VerifierCache) -> None:
    expect(Result.EXPIRED, _sd_jwt(world, now=T0 - 2 * 86400, exp=T0 - 301), filled)
    expect(Result.VALID, _sd_jwt(world, now=T0 - 2 * 86400, exp=T0 - 299), filled)  # within the 5 min skew


def test_expired_qr_pass(world: World, filled: VerifierCache) -> None:
    expect(Result.EXPIRED, world.live_qr(at=AFTER_PERMIT), filled, now=AFTER_PERMIT)
    expect(Result.EXPIRED, world.static_qr(), filled, now=AFTER_PERMIT)


def test_not_yet_valid_credential(world: World, filled: VerifierCache) -> None:
    expect(Result.NOT_YET_VALID, _sd_jwt(world, nbf=T0 + 301), filled)
    expect(Result.VALID, _sd_jwt(world, nbf=T0 + 299), filled)
    expect(Result.NOT_YET_VALID, _sd_jwt(world, now=T0 + 3600, exp=T0 + 86400, nbf=T0 - 60), filled)  # iat


def test_not_yet_valid_qr_pass(world: World, filled: VerifierCache) -> None:
    later = sample_permit(valid_from=datetime.date(2026, 8, 1), valid_until=datetime.date(2027, 8, 1))
    expect(Result.NOT_YET_VALID, world.live_qr(permit=later), filled)
    expect(Result.NOT_YET_VALID, world.live_qr(issued=T0 + 3600), filled)  # iat in the future


def test_expired_beats_revoked_and_a_bad_proof(world: World, filled: VerifierCache) -> None:
    """The worst true statement wins, in a fixed order: an expired pass is EXPIRED, whatever else."""
    expect(Result.EXPIRED, world.live_qr(at=AFTER_PERMIT - 3600), filled, now=AFTER_PERMIT)


# --- disclosures ------------------------------------------------------------------------------------------


def _disclosures(sd: str) -> list[str]:
    return sd.split("~")[1:-1]


def test_tampered_disclosure(world: World, filled: VerifierCache) -> None:
    sd = world.sd_jwt()
    parts = sd.split("~")
    for i, text in enumerate(parts[1:-1], start=1):
        if decode_disclosure(text, max_size=4096).name == "name":
            salt = decode_disclosure(text, max_size=4096).salt
            parts[i] = encode_disclosure(salt, "name", "李四")  # same salt, another name
    tampered = "~".join(parts)
    assert tampered != sd
    expect(Result.MALFORMED, tampered, filled)


def test_tampered_disclosure_byte(world: World, filled: VerifierCache) -> None:
    """One base64url character changed: still decodes, no longer matches its digest."""
    sd = world.sd_jwt()
    first = _disclosures(sd)[0]
    raw = bytearray(b64url_decode(first))
    raw[-3] ^= 0x01
    expect(Result.MALFORMED, sd.replace(first, b64url_encode(bytes(raw))), filled)


def test_disclosure_from_another_credential(world: World, filled: VerifierCache) -> None:
    mine, theirs = _sd_jwt(world), _sd_jwt(world, resident=1)
    name_of = {decode_disclosure(d, max_size=4096).name: d for d in _disclosures(theirs)}
    mine_by_name = {decode_disclosure(d, max_size=4096).name: d for d in _disclosures(mine)}
    swapped = mine.replace(mine_by_name["name"], name_of["name"])
    expect(Result.MALFORMED, swapped, filled)  # replaced
    added = mine.replace("~" + mine_by_name["name"], "") + name_of["name"] + "~"
    expect(Result.MALFORMED, added, filled)  # own name withheld, the other's offered instead
    expect(Result.MALFORMED, mine + name_of["address"] + "~", filled)  # appended


def test_disclosure_from_another_credential_in_a_presentation(world: World, filled: VerifierCache) -> None:
    """Even with a fresh KB-JWT over the doctored presentation (the holder is the attacker)."""
    mine, theirs = _sd_jwt(world), _sd_jwt(world, resident=1)
    other_name = next(d for d in _disclosures(theirs) if decode_disclosure(d, max_size=4096).name == "name")
    withheld = present(mine, disclose={"sex", "address"}, holder_signer=world.holder, aud="a", nonce="n",
                       now=T0 - 5)
    body = withheld.rsplit("~", 1)[0] + "~"
    from credential.jose import sign_compact
    from credential.sdjwt import sd_hash

    presented = body + other_name + "~"
    kb = sign_compact({"typ": "kb+jwt"}, {"iat": T0 - 5, "aud": "a", "nonce": "n", "sd_hash": sd_hash(presented)},
                      world.holder)
    expect(Result.MALFORMED, presented + kb, filled)


def test_stripped_kb_jwt(world: World, filled: VerifierCache) -> None:
    presentation = world.presentation()
    stripped = presentation.rsplit("~", 1)[0] + "~"
    outcome = expect(Result.NO_HOLDER_PROOF, stripped, filled, Policy(require_live=True))
    assert outcome.live is False
    static = expect(Result.VALID, stripped, filled)  # the default policy accepts it, reported as static
    assert static.live is False and "static" in static.reason


def test_stripped_disclosure_breaks_the_kb_jwt(world: World, filled: VerifierCache) -> None:
    presentation = world.presentation()
    head, kb = presentation.rsplit("~", 1)
    dropped = "~".join(head.split("~")[:-1]) + "~" + kb  # one disclosure removed after the holder signed
    expect(Result.REPLAYED, dropped, filled)


@pytest.mark.parametrize("name", ["_sd", "...", "_sd_alg"])
def test_disclosure_with_a_reserved_name(world: World, filled: VerifierCache, name: str) -> None:
    from credential.disclosures import digest
    from tests.attacks.forge import jws, split_jwt
    from tests.attacks.support import issuer_jwt, with_jwt

    disclosure = b64url_encode(('["c2FsdHNhbHRzYWx0c2FsdA","' + name + '",["x"]]').encode())
    sd = world.sd_jwt()
    header, payload, _ = split_jwt(issuer_jwt(sd))
    payload["_sd"] = sorted([*payload["_sd"], digest(disclosure)])
    forged = with_jwt(sd, jws(header, payload, world.credential_signer))
    expect(Result.MALFORMED, forged + disclosure + "~", filled)
