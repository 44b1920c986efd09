"""What a copy of the store gives away: no pickup code, offer id, PIN hash it can test, token or nonce.

The attack this closes: the registry file (or a backup of it) held every open pickup's code in clear beside
an unsalted SHA-256 of code + PIN, so the 6-digit PIN fell in about a second and the token endpoint handed
out an access token. Here the raw bytes of the SQLite file (with its -wal and -shm) and every key and value
of the Redis key space are searched for each secret, and for each unkeyed hash an attacker would try.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from credential.encoding import b64url_encode
from credential.samples import sample_permit
from issuer.desk import OfficerDesk
from issuer.errors import InvalidGrantError, UnauthorizedError
from issuer.keyed import TX_CODE, KeyedHash
from issuer.logins import ConsoleLogins
from issuer.model import Officer, Role
from issuer.officers import OfficerRegistry
from issuer.service import IssuerService
from issuer.settings import IssuerSettings
from issuer.store import Store
from issuer.store.sqlite import SQLiteStore
from issuer.totp import code_at
from keys import KeyRing
from tests.conftest import FakeClock
from wallet_api import dpop_state

from .conftest import PUBLIC_URL, make_store

SD_JWT = "residence_permit_sd_jwt"


@dataclass(frozen=True)
class Handed:
    """Every secret one pickup (and one officer) was handed, in clear."""

    code: str
    pin: str
    offer_id: str
    access_token: str
    nonce: str
    notification_id: str
    open_code: str  # a second offer, left open: the one a thief would want
    open_pin: str
    open_offer_id: str
    officer_token: str
    session_id: str  # the console's cookie
    client: str  # the address of a failed sign-in (a counter key)
    dpop_jti: str  # a spent DPoP proof id
    password: str  # the officer's console password
    totp_secret: tuple[str, ...]  # the officer's TOTP secret: base32 (what the app is given), hex, base64url


def unkeyed_hashes(handed: Handed) -> list[str]:
    """What an attacker computes without the secret: SHA-256 of each secret, and of code + PIN in every
    join the old store (\\x1f) or a guess might have used."""
    def sha(text: str) -> str:
        return hashlib.sha256(text.encode()).hexdigest()

    singles = [handed.code, handed.offer_id, handed.access_token, handed.nonce, handed.notification_id,
               handed.open_code, handed.open_offer_id, handed.officer_token, handed.session_id, handed.client,
               handed.dpop_jti, f"client\x1f{handed.client}"]
    pairs = [(handed.code, handed.pin), (handed.open_code, handed.open_pin)]
    session = hashlib.sha256(b"epermit-console-session\x1f" + handed.session_id.encode()).hexdigest()
    return [sha(s) for s in singles] + [sha(c + sep + p) for c, p in pairs for sep in ("", "\x1f", ":", "|")] + [
        session]


def secrets_in_clear(handed: Handed) -> list[str]:
    return [handed.password, *handed.totp_secret, handed.code, handed.offer_id, handed.access_token, handed.nonce, handed.notification_id,
            handed.open_code, handed.open_offer_id, handed.officer_token, handed.session_id, handed.client,
            handed.dpop_jti]


def hand_out(service: IssuerService) -> Handed:
    record = service.register(sample_permit(), officer="clerk")
    offer = service.create_offer(record.id, officer="io")
    token = service.redeem(offer.pre_authorized_code, offer.tx_code)
    nonce = service.new_nonce()
    notification_id = service.open_notification(token, SD_JWT)
    other = service.register(sample_permit(resident=1), officer="clerk")
    still_open = service.create_offer(other.id, officer="io")
    registry = OfficerRegistry(service.store, keyed=service.keyed, clock=service.clock)
    registry.put(Officer("li", "李娜", Role.CLERK, ("110105",)))
    officer_token = registry.issue_token("li", ttl=3600)
    logins = ConsoleLogins(service.store, keyed=service.keyed, clock=service.clock)
    password = "li-na " + secrets.token_urlsafe(12)
    logins.set_password("li", password)
    enrolment = logins.enrol_totp("li")
    session_id = logins.open_session(logins.check("li", password, code_at(enrolment.secret, service.clock())),
                                     ttl=3600)
    totp_secret = (enrolment.text, enrolment.secret.hex(), b64url_encode(enrolment.secret))
    client = "203.0.113.77"
    with pytest.raises(UnauthorizedError):
        OfficerDesk(service).authenticate("a guessed token", client=client)
    jti = secrets.token_urlsafe(16)
    assert dpop_state.spend_jti(service.store, service.keyed, jti, iat_window=60, now=service.clock())
    return Handed(offer.pre_authorized_code, offer.tx_code, offer.offer_id, token, nonce, notification_id,
                  still_open.pre_authorized_code, still_open.tx_code, still_open.offer_id, officer_token, session_id,
                  client, jti, password, totp_secret)


def assert_nothing_usable(dump: bytes, handed: Handed) -> None:
    for value in secrets_in_clear(handed) + unkeyed_hashes(handed):
        assert value.encode() not in dump, f"{value!r} is in the store"


def sqlite_bytes(path: Path) -> bytes:
    return b"".join(Path(f"{path}{suffix}").read_bytes() for suffix in ("", "-wal", "-shm")
                    if Path(f"{path}{suffix}").exists())


def redis_bytes(store: Store) -> bytes:
    client, prefix = store._r, store._p  # type: ignore[attr-defined]
    out = bytearray()
    for key in client.scan_iter(match=f"{prefix[:-1]}*", count=1000):  # {p} and every district's shard {p/D}
        kind = client.type(key).decode()
        out += key + b"\n"
        if kind == "string":
            out += client.get(key)
        elif kind == "hash":
            out += b"".join(k + b"=" + v for k, v in client.hgetall(key).items())
        elif kind == "set":
            out += b"".join(client.smembers(key))
        elif kind == "list":
            out += b"".join(client.lrange(key, 0, -1))
        elif kind == "zset":
            out += b"".join(client.zrange(key, 0, -1))
        out += b"\n"
    return bytes(out)


@pytest.fixture(params=["sqlite", "redis"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def secret_store(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Store]:
    made = make_store(backend, tmp_path, request)
    yield made
    getattr(made, "close", lambda: None)()


def test_a_copy_of_the_store_holds_no_code_token_nonce_or_testable_hash(
    backend: str, secret_store: Store, keyring: KeyRing, clock: FakeClock, tmp_path: Path
) -> None:
    service = IssuerService(secret_store, keyring, IssuerSettings(PUBLIC_URL), clock)
    handed = hand_out(service)
    dump = sqlite_bytes(tmp_path / "epermit.sqlite3") if backend == "sqlite" else redis_bytes(secret_store)
    assert sample_permit().holder.name.encode() in dump  # the dump is real: the registry's records are in it
    assert_nothing_usable(dump, handed)


def test_the_stored_pin_check_is_an_hmac_no_pin_sweep_can_match(
    secret_store: Store, keyring: KeyRing, clock: FakeClock
) -> None:
    """Given even the code (not in the store), all 10^6 PINs against the stored value find nothing unkeyed;
    only the HMAC under the store secret, which the store does not hold, matches the right PIN."""
    service = IssuerService(secret_store, keyring, IssuerSettings(PUBLIC_URL), clock)
    record = service.register(sample_permit(), officer="clerk")
    offer = service.create_offer(record.id, officer="io")
    stored = secret_store.get_offer(offer.ref)
    assert stored is not None and stored.offer_id != offer.offer_id  # the store's id is the keyed hash
    target = bytes.fromhex(stored.tx_code_hash)
    code = offer.pre_authorized_code.encode()
    hits = [pin for pin in range(10**6) if hashlib.sha256(code + b"\x1f" + b"%06d" % pin).digest() == target
            or hashlib.sha256(code + b"%06d" % pin).digest() == target]
    assert hits == []
    assert stored.tx_code_hash == KeyedHash(keyring.store_secret).digest(TX_CODE, offer.pre_authorized_code,
                                                                         offer.tx_code)
    other_key = KeyedHash(secrets.token_bytes(32)).digest(TX_CODE, offer.pre_authorized_code, offer.tx_code)
    assert stored.tx_code_hash != other_key


def test_another_deployments_secret_redeems_nothing(secret_store: Store, keyring: KeyRing, clock: FakeClock) -> None:
    """The same store under a key ring with another store secret: the codes it recomputes are other codes."""
    service = IssuerService(secret_store, keyring, IssuerSettings(PUBLIC_URL), clock)
    record = service.register(sample_permit(), officer="clerk")
    offer = service.create_offer(record.id, officer="io")
    thief_ring = KeyRing.generate(authority_code=keyring.authority_code, authority_name=keyring.authority_name,
                                  now=clock() - 60)
    thief = IssuerService(secret_store, thief_ring, IssuerSettings(PUBLIC_URL), clock)
    with pytest.raises(InvalidGrantError):
        thief.redeem(offer.pre_authorized_code, offer.tx_code)
    assert service.offer_by_id(offer.offer_id).pre_authorized_code == offer.pre_authorized_code
    assert service.redeem(offer.pre_authorized_code, offer.tx_code)


def test_a_file_from_before_keyed_hashes_is_migrated_and_forgets_its_clear_codes(tmp_path: Path) -> None:
    """Schema 2 kept the clear code of open offers: opening it cancels them, drops the unkeyed wallet tokens,
    nonces and counters, revokes officer tokens, and rebuilds the file so the old codes are gone from disk."""
    path = tmp_path / "old.sqlite3"
    SQLiteStore(path).close()

    old_code, old_token = "old-clear-code-" + secrets.token_urlsafe(16), "tok-" + secrets.token_hex(16)
    with sqlite3.connect(path, isolation_level=None) as conn:
        conn.execute("ALTER TABLE offers ADD COLUMN pre_authorized_code TEXT")  # as schema 2 had it
        conn.execute("INSERT INTO records VALUES ('r1', 'active', '110105', '{}', 1, 1)")
        conn.execute("INSERT INTO offers (offer_id, record_id, code_hash, tx_code_hash, expires_at, configuration_ids,"
                     " state, created_at, pre_authorized_code) VALUES ('o1', 'r1', ?, ?, 9999999999, '[]', 'open', 1, ?)",
                     (hashlib.sha256(old_code.encode()).hexdigest(), "t" * 64, old_code))
        conn.execute("INSERT INTO ephemeral VALUES ('access_token', ?, '{}', 9999999999)",
                     (hashlib.sha256(old_token.encode()).hexdigest(),))
        conn.execute("INSERT INTO ephemeral VALUES ('approval', 'r1', 'pending', 9999999999)")
        conn.execute("INSERT INTO counters VALUES ('pin_attempts', 'x', 1, 9999999999)")
        conn.execute("INSERT INTO officers VALUES ('li', 'x', 'clerk', '[]', 0)")
        conn.execute("INSERT INTO officer_tokens VALUES ('h', 'li', 9999999999, 1, 0)")
    assert old_code.encode() in sqlite_bytes(path)
    store = SQLiteStore(path)
    offer = store.get_offer("o1")
    assert offer is not None and offer.state == "cancelled" and offer.tx_code_hash == ""
    assert store.get_ephemeral("access_token", hashlib.sha256(old_token.encode()).hexdigest(), 0) is None
    assert store.get_ephemeral("approval", "r1", 0) == "pending"  # keyed by record id: kept
    assert store.officer_for_token("h", 0) is None
    assert store.increment("pin_attempts", "x", 60, 0) == 1
    store.close()
    assert old_code.encode() not in sqlite_bytes(path)
    SQLiteStore(path).close()  # a second start finds nothing to migrate


def test_a_redis_key_space_from_before_keyed_hashes_is_refused(redis_url: str) -> None:
    """Nothing in it can be converted and finding its keys means scanning the server: refused, with the way out."""
    from issuer.store.redis import RedisStore, StoreFormatError

    fresh = "{t" + secrets.token_hex(8) + "}"
    RedisStore.from_url(redis_url, prefix=fresh).close()
    RedisStore.from_url(redis_url, prefix=fresh).close()  # marked on first use, accepted after
    old = "{t" + secrets.token_hex(8) + "}"
    client = RedisStore.from_url(redis_url, prefix=fresh)._r
    client.hset(f"{old}:audit:head", mapping={"seq": 3, "hash": "h"})  # data, but no format marker
    with pytest.raises(StoreFormatError, match="use a new prefix or delete its keys") as refused:
        RedisStore.from_url(redis_url, prefix=old)
    assert refused.value.found == "before 3"
    assert client.get(f"{old}:format") is None  # the refusal marked nothing
