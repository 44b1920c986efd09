"""The compromise drill end to end: revoke a signing key, verifiers answer UNTRUSTED_ISSUER after a sync,
the registry lists every affected credential, and the issuer re-issues them in bulk with new offers."""

from __future__ import annotations

import csv
import io
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from credential.qrpass import pass_to_qr_text
from credential.samples import AUTHORITY_CODE, AUTHORITY_NAME, sample_permit
from credential.statuslist import INVALID, verify_status_list_token
from epermit import cli as epermit_cli
from epermit.cli.reissue import sms_rows
from epermit.cli.sheet import write_sms_csv
from issuer.errors import StateConflictError
from issuer.model import DeliveredCredential, Record
from issuer.reissue import affected_records, reissue
from issuer.service import IssuerService
from issuer.settings import IssuerSettings
from issuer.store.sqlite import SQLiteStore
from keys import KeyRing, KeySigner, Purpose, revoke, rotate, save_keyring
from tests.conftest import T0, FakeClock
from tests.issuer.conftest import PUBLIC_URL
from verifier.cache import VerifierCache
from verifier.policy import Policy
from verifier.result import Result
from verifier.verify import verify


def issue(service: IssuerService, record: Record | None = None) -> tuple[Record, DeliveredCredential]:
    record = record or service.register(sample_permit(), officer="alice")
    offer = service.create_offer(record.id, officer="alice")
    token = service.redeem(offer.pre_authorized_code, offer.tx_code)
    return record, service.deliver(token, [KeySigner.generate().public_key], offer.configuration_ids[0])[0]


def sync(service: IssuerService, cache: VerifierCache, now: int) -> None:
    cache.accept_trust_list(service.trust_list_token(), now)
    for uri in service.status_list_uris():
        cache.accept_status_list(uri, service.published_status_list(uri).token, now)


def result(cred: DeliveredCredential, cache: VerifierCache, now: int) -> Result:
    results = {verify(text, cache, policy=Policy(), now=now).result
               for text in (cred.sd_jwt_vc, pass_to_qr_text(cred.qr_pass))}
    assert len(results) == 1, results  # both encodings agree
    return results.pop()


@pytest.fixture
def world(tmp_path: Path) -> tuple[IssuerService, KeyRing, FakeClock, VerifierCache]:
    clock = FakeClock(T0)
    ring = KeyRing.generate(authority_code=AUTHORITY_CODE, authority_name=AUTHORITY_NAME, now=T0 - 86400)
    service = IssuerService(SQLiteStore(tmp_path / "epermit.sqlite3"), ring, IssuerSettings(PUBLIC_URL), clock)
    cache = VerifierCache(tmp_path / "cache")
    cache.pin_root(ring.root_certificate.public_bytes(Encoding.PEM))
    return service, ring, clock, cache


def test_drill_from_revoke_to_reissue(world: tuple[IssuerService, KeyRing, FakeClock, VerifierCache],
                                      tmp_path: Path) -> None:
    service, ring, clock, cache = world
    issued = [issue(service) for _ in range(3)]
    suspended = issued[2][0]
    service.suspend(suspended.id, officer="alice", reason="under review")
    sync(service, cache, clock())
    assert [result(c, cache, clock()) for _, c in issued[:2]] == [Result.VALID, Result.VALID]
    held_version = cache.trust_list().version  # type: ignore[union-attr]

    # 1. revoke: a new key at once (no lead time for a compromise), the old one marked revoked
    compromised = ring.signers_of(Purpose.CREDENTIAL)[0].kid
    with pytest.raises(StateConflictError, match="still signs"):
        reissue(service, compromised, progress=False)
    rotate(ring, Purpose.CREDENTIAL, now=clock(), lead_time=0)
    revoke(ring, compromised, reason="signing server breached", now=clock())
    clock.advance(5)

    # 2. after a sync verifiers answer UNTRUSTED_ISSUER for everything the key signed
    sync(service, cache, clock())
    assert cache.trust_list().version > held_version  # type: ignore[union-attr]
    assert {result(c, cache, clock()) for _, c in issued} == {Result.UNTRUSTED_ISSUER}

    # 3. the registry lists every affected credential
    affected = affected_records(service.store, compromised)
    assert sorted(a.record.id for a in affected) == sorted(r.id for r, _ in issued)
    assert all(a.credentials == ((1, c.status_idx),) for a in affected for r, c in issued if r.id == a.record.id)

    # 4. bulk re-issue: new offers for the active records, the old credentials INVALID for good
    bar = io.StringIO()
    outcomes = reissue(service, compromised, progress=True, progress_file=bar)
    assert "re-issuing" in bar.getvalue() and "3/3" in bar.getvalue()
    actions = {o.record_id: o.action for o in outcomes}
    assert actions == {issued[0][0].id: "reissued", issued[1][0].id: "reissued", suspended.id: "skipped_suspended"}
    published = service.published_status_list("1")
    status_key = ring.signer_for(Purpose.STATUS, now=clock())
    bits = verify_status_list_token(published.token, uri=published.uri, now=clock(),
                                    resolve_key={status_key.kid: status_key.public_key}.__getitem__)
    assert [bits.status_list.get(c.status_idx) for _, c in issued[:2]] == [INVALID, INVALID]
    assert [a.record.id for a in affected_records(service.store, compromised)] == [suspended.id]

    # 5. residents pick up with the new offers: signed by the new key, valid everywhere after a sync
    for outcome in outcomes:
        if outcome.offer is None:
            continue
        token = service.redeem(outcome.offer.pre_authorized_code, outcome.offer.tx_code)
        fresh = service.deliver(token, [KeySigner.generate().public_key], outcome.offer.configuration_ids[0])[0]
        sync(service, cache, clock())
        assert result(fresh, cache, clock()) is Result.VALID
    lifted = service.lift(suspended.id, officer="alice", reason="cleared")
    assert lifted.state.value == "active"

    # 6. the SMS batch: one row per new offer, 0600, PIN included, no formula injection
    path = tmp_path / "sms.csv"
    write_sms_csv(path, sms_rows(service, outcomes))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert len(rows) == 2 and all(len(r["pin"]) == 6 and r["offer_uri"].startswith("openid-credential-offer://")
                                  and r["pickup_url"] == f"{PUBLIC_URL}/pickup/{r['offer_uri'].rsplit('%2F', 1)[-1]}"
                                  for r in rows)


def test_cli_affected_and_reissue(world: tuple[IssuerService, KeyRing, FakeClock, VerifierCache], tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    service, ring, _, _ = world
    issued = [issue(service) for _ in range(2)]
    service.trust_list_token()  # the CLI reads the public URL from the published trust list
    compromised = ring.signers_of(Purpose.CREDENTIAL)[0].kid
    rotate(ring, Purpose.CREDENTIAL, now=T0 - 3600, lead_time=0)
    revoke(ring, compromised, reason="breach", now=T0)
    save_keyring(ring, tmp_path / "keys", b"drill passphrase", scrypt_n=2**14)
    monkeypatch.setenv("EPERMIT_KEY_PASSPHRASE", "drill passphrase")

    assert epermit_cli.main(["keys", "affected", "--data", str(tmp_path), "--", compromised]) == 0
    out = capsys.readouterr()
    assert sorted(line.split("\t")[0] for line in out.out.splitlines()) == sorted(r.id for r, _ in issued)
    assert f"2 record(s) hold credentials signed by {compromised}" in out.err

    sms = tmp_path / "sms.csv"
    assert epermit_cli.main(["reissue", f"--kid={compromised}", "--data", str(tmp_path), "--sms-csv", str(sms),
                             "--quiet"]) == 0
    assert capsys.readouterr().out.startswith("2 record(s): 2 reissued")
    assert len(sms.read_text(encoding="utf-8").splitlines()) == 3
    assert epermit_cli.main(["reissue", f"--kid={compromised}", "--data", str(tmp_path), "--sms-csv", str(sms)]) == 2
    assert "exists" in capsys.readouterr().err
    assert epermit_cli.main(["keys", "affected", "--data", str(tmp_path / "nowhere"), "--", compromised]) == 2
    assert "no registry" in capsys.readouterr().err
