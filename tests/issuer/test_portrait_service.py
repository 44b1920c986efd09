"""The portrait through the service: sealed at rest, issued as picture + signed digest, a change re-issues."""

from __future__ import annotations

import base64
import hashlib
import sqlite3
from pathlib import Path

import pytest

from credential.portrait import check_picture
from credential.qrpass import decode_qr_text, pass_to_qr_text, verify_pass
from credential.samples import sample_permit
from credential.sdjwt import verify_sd_jwt_vc
from credential.statuslist import INVALID, VALID
from issuer.errors import StateConflictError
from issuer.model import RecordState
from issuer.portrait.capture import PortraitRejectedError
from issuer.portrait.vault import PREVIEW, PortraitKeyMissingError, PortraitUnreadableError, PortraitVault
from issuer.service import IssuerService
from issuer.settings import IssuerSettings
from issuer.store import Store
from issuer.store.sqlite import SQLiteStore
from keys import KeyRing, KeySigner, Purpose
from tests.conftest import FakeClock
from tests.credential.pass_support import keys_resolver
from tests.portrait_support import encoded, source_image

from .conftest import PUBLIC_URL
from .test_service import QR, SD_JWT, status_at

PHOTO = encoded(source_image(), "JPEG", quality=92)
OTHER_PHOTO = encoded(source_image().transpose(0), "JPEG", quality=92)  # the mirror image: another face


def pick_up(service: IssuerService, record_id: str) -> tuple[str, bytes, object]:
    """(SD-JWT VC, QR pass COSE bytes, the delivered credential) of one fresh pickup."""
    offer = service.create_offer(record_id, officer="issuer")
    token = service.redeem(offer.pre_authorized_code, offer.tx_code)
    holder = KeySigner.generate()
    [sd_jwt] = service.deliver(token, [holder.public_key], SD_JWT)
    [qr] = service.deliver(token, [holder.public_key], QR)
    return sd_jwt.sd_jwt_vc, qr.qr_pass, sd_jwt


def test_the_issued_picture_hashes_to_the_signed_pass_digest(service: IssuerService, keyring: KeyRing,
                                                              clock: FakeClock) -> None:
    record = service.register(sample_permit(), officer="clerk")
    kept, retired = service.set_portrait(record.id, PHOTO, officer="clerk")
    assert retired == [] and kept.permit.holder.portrait_sha256 is not None
    sd_jwt, cose_pass, _ = pick_up(service, record.id)
    signer = keyring.signer_for(Purpose.CREDENTIAL, now=clock())
    claims = verify_sd_jwt_vc(sd_jwt, resolve_key={signer.kid: signer.public_key}.__getitem__, now=clock(),
                              require_key_binding=False).claims
    portrait = check_picture(claims)
    assert portrait is not None and portrait.media_type == "image/webp"
    verified = verify_pass(decode_qr_text(pass_to_qr_text(cose_pass)), resolve_key=keys_resolver([signer]),
                           now=clock())
    assert verified.permit.holder.portrait_sha256 == hashlib.sha256(portrait.data).digest()
    assert service.portrait_of(service.get_record(record.id)) == portrait.data


def test_a_portrait_change_retires_the_credentials_showing_the_old_face(
        service: IssuerService, keyring: KeyRing, clock: FakeClock) -> None:
    record = service.register(sample_permit(), officer="clerk")
    service.set_portrait(record.id, PHOTO, officer="clerk")
    _, _, old = pick_up(service, record.id)
    assert status_at(service, keyring, clock, old) == VALID  # type: ignore[arg-type]
    before = service.get_record(record.id).permit.holder.portrait_sha256
    kept, retired = service.set_portrait(record.id, OTHER_PHOTO, officer="clerk")
    assert retired == [(int(old.status_uri.rsplit("/", 1)[1]), old.status_idx)]  # type: ignore[attr-defined]
    assert status_at(service, keyring, clock, old) == INVALID  # type: ignore[arg-type]
    assert kept.state is RecordState.ACTIVE and kept.permit.holder.portrait_sha256 != before
    sd_jwt, _, new = pick_up(service, record.id)  # the new pickup carries the new face
    assert status_at(service, keyring, clock, new) == VALID  # type: ignore[arg-type]
    signer = keyring.signer_for(Purpose.CREDENTIAL, now=clock())
    picture = check_picture(verify_sd_jwt_vc(sd_jwt, resolve_key={signer.kid: signer.public_key}.__getitem__,
                                             now=clock(), require_key_binding=False).claims)
    assert picture is not None and hashlib.sha256(picture.data).digest() == kept.permit.holder.portrait_sha256
    actions = [(e.action, e.outcome) for e in service.audit.list(limit=1000) if e.record_id == record.id]
    assert actions.count(("set_portrait", "ok")) == 3  # two changes, and the retirement of the first face's
    assert [e.reason for e in service.audit.list(limit=1000) if e.action == "set_portrait"][-1].startswith(
        "old portrait's credentials retired ")


def test_an_open_offer_delivers_the_new_face_and_stays_open(service: IssuerService) -> None:
    record = service.register(sample_permit(), officer="clerk")
    offer = service.create_offer(record.id, officer="issuer")
    _, retired = service.set_portrait(record.id, PHOTO, officer="clerk")
    assert retired == []
    stored = service.store.get_offer(offer.ref)
    assert stored is not None and stored.state == "open"


def test_a_refused_photo_changes_nothing(service: IssuerService) -> None:
    record = service.register(sample_permit(), officer="clerk")
    entries = len(service.audit.list(limit=1000))
    with pytest.raises(PortraitRejectedError):
        service.set_portrait(record.id, b"GIF89a not a photo", officer="clerk")
    assert service.get_record(record.id) == record and service.store.get_portrait(record.id) is None
    assert len(service.audit.list(limit=1000)) == entries


def test_a_suspended_record_takes_no_portrait(service: IssuerService) -> None:
    record = service.register(sample_permit(), officer="clerk")
    service.suspend(record.id, officer="sup", reason="check")
    with pytest.raises(StateConflictError):
        service.set_portrait(record.id, PHOTO, officer="clerk")
    assert service.store.get_portrait(record.id) is None
    assert service.audit.list(limit=1000)[-1].outcome == "refused"


def test_the_sealed_portrait_opens_only_for_its_record_and_use(service: IssuerService) -> None:
    record = service.register(sample_permit(), officer="clerk")
    service.set_portrait(record.id, PHOTO, officer="clerk")
    sealed = service.store.get_portrait(record.id)
    assert sealed is not None
    with pytest.raises(PortraitUnreadableError):
        service.portraits.open("another-record", sealed)
    with pytest.raises(PortraitUnreadableError):
        service.portraits.open(record.id, sealed, use=PREVIEW)
    with pytest.raises(PortraitUnreadableError):
        PortraitVault(bytes(32)).open(record.id, sealed)  # another key
    with pytest.raises(PortraitKeyMissingError):
        PortraitVault(None).seal(record.id, b"x")


def test_a_preview_keeps_exactly_what_was_shown(service: IssuerService) -> None:
    record = service.register(sample_permit(), officer="clerk")
    shown, sealed = service.preview_portrait(record.id, PHOTO)
    assert service.store.get_portrait(record.id) is None  # a preview writes nothing
    kept, _ = service.keep_preview(record.id, sealed, officer="clerk")
    assert service.portrait_of(kept) == shown
    with pytest.raises(PortraitUnreadableError):
        service.keep_preview(record.id, sealed[:-1] + bytes([sealed[-1] ^ 1]), officer="clerk")


def test_the_store_holds_no_image_bytes_in_clear_sqlite(tmp_path: Path, keyring: KeyRing, clock: FakeClock) -> None:
    path = tmp_path / "at-rest.sqlite3"
    service = IssuerService(SQLiteStore(path), keyring, IssuerSettings(PUBLIC_URL), clock)
    record = service.register(sample_permit(), officer="clerk")
    service.set_portrait(record.id, PHOTO, officer="clerk")
    portrait = service.portrait_of(service.get_record(record.id))
    assert portrait is not None
    service.store.close()  # type: ignore[attr-defined]
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("at-rest"))
    for needle in (portrait, portrait[:64], portrait[-64:], b"WEBPVP8", b"RIFF", PHOTO[:64], b"\xff\xd8\xff"):
        assert needle not in raw
    with sqlite3.connect(path) as db:
        [(sealed,)] = db.execute("SELECT sealed FROM portraits").fetchall()
    assert len(sealed) == len(portrait) + 29 and portrait not in sealed  # version, nonce, tag: nothing in clear


def test_the_store_holds_no_image_bytes_in_clear_redis(request: pytest.FixtureRequest, tmp_path: Path,
                                                       keyring: KeyRing, clock: FakeClock) -> None:
    from tests.issuer.conftest import make_store

    store: Store = make_store("redis", tmp_path, request)
    service = IssuerService(store, keyring, IssuerSettings(PUBLIC_URL), clock)
    record = service.register(sample_permit(), officer="clerk")
    service.set_portrait(record.id, PHOTO, officer="clerk")
    portrait = service.portrait_of(service.get_record(record.id))
    assert portrait is not None
    client = store._r  # type: ignore[attr-defined]
    every = store._p[:-1] + "*"  # type: ignore[attr-defined]  # the global shard {p} and every district's {p/D}
    dump = b"".join(client.dump(key) or b"" for key in client.scan_iter(match=every))
    values = b"".join(str(client.type(k)).encode() + (client.get(k) or b"") for k in client.scan_iter(
        match=every + ":portrait:*"))
    assert values  # the portrait key is there, sealed
    encodings = (portrait, base64.b64encode(portrait), base64.urlsafe_b64encode(portrait).rstrip(b"="))
    for needle in (*encodings, *(e[:48] for e in encodings), b"WEBPVP8", b"UklGR"):
        assert needle not in dump and needle not in values
