"""Status lists and the trust list as published documents, kept current in the store.

Every status change re-signs its list at once; a reader that finds a token older than the list's current
generation (a crash between the change and the signing) or past half its validity re-signs it, so a
revocation can never stay invisible. The trust list version is bumped whenever the set of keys or status
lists changes, never otherwise, so verifiers can refuse rollbacks.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from cryptography.hazmat.primitives.serialization import Encoding

from credential.encoding import json_dumps
from credential.statuslist import sign_status_list_token
from issuer.errors import StatusListNotFoundError
from issuer.model import PublishedStatusList
from issuer.settings import IssuerSettings
from issuer.store import StatusListFullError, Store, StoredTrustList
from keys import KeyRing, Purpose

FIRST_LIST = 1
MAX_IAT_LEAD = 2  # seconds a status list's iat may run ahead of the clock (verifiers allow 300 s of skew)
TRUST_LIST_REFRESH = 86400  # re-sign a day-old trust list (it is valid for the keyring's default 30 days)
_MAX_LIST_NO = 1 << 31


class Publisher:
    def __init__(self, store: Store, keyring: KeyRing, settings: IssuerSettings, clock: Callable[[], int]) -> None:
        self._store = store
        self._keyring = keyring
        self._settings = settings
        self._clock = clock
        # shard -> the newest list of it this process saw: lists only grow, so a stale one is just full
        self._newest: dict[str, int] = {}

    # --- status lists --------------------------------------------------------------------------------
    def list_numbers(self) -> list[int]:
        numbers = self._store.status_list_numbers()
        if not numbers:  # before the first credential: list 1 exists (empty) so verifiers can sync
            self._store.open_status_list(FIRST_LIST, self._settings.status_list_size)
            numbers = self._store.status_list_numbers()
        return numbers

    def uris(self) -> list[str]:
        return [self._settings.status_list_uri(n) for n in self.list_numbers()]

    def allocate(self, district: str = "") -> tuple[int, int]:
        """A fresh random (list_no, idx) on a list of the district's shard (Store.shard_of); opens (and
        publishes) a new list when the shard has none or its newest fills up. List numbers are one series
        over every shard, so each list keeps one URI whichever shard it is in."""
        size = self._settings.status_list_size
        shard = self._store.shard_of(district)
        list_no = self._list_of(shard)
        while True:
            try:
                return list_no, self._store.allocate_status_index(list_no, size)
            except StatusListFullError:
                list_no = self._open_next(max(list_no, self._store.status_list_numbers()[-1]), shard)

    def _list_of(self, shard: str) -> int:
        """The newest list of ``shard``; the first list while it is still empty, else a new one, if it has none."""
        every = self.list_numbers()
        own = every if not shard else self._store.status_list_numbers(shard=shard)
        if own:
            return own[-1]
        if self._store.open_status_list(every[0], self._settings.status_list_size, shard=shard):
            return every[0]
        return self._open_next(every[-1], shard)

    def _open_next(self, after: int, shard: str) -> int:
        """Open the first free list number past ``after`` in ``shard`` (another shard may take one first)."""
        list_no = after + 1
        while not self._store.open_status_list(list_no, self._settings.status_list_size, shard=shard):
            if list_no in self._store.status_list_numbers(shard=shard):
                return list_no  # a concurrent caller opened it for this shard
            list_no += 1
        self.publish(list_no)
        return list_no

    def allocate_delivered(self, record_id: str, district: str, now: int, *, kid: str,
                           remember: tuple[str, str, int] | None = None) -> tuple[int, int] | None:
        """allocate(district) and Store.add_delivered in one store step (Store.allocate_delivered, with
        ``remember``): None (nothing allocated) unless the record (of ``district``) is ACTIVE. The newest list
        of each shard is remembered, not read each time: a list another process has filled since answers
        StatusListFullError, and the next one is opened."""
        size = self._settings.status_list_size
        shard = self._store.shard_of(district)
        list_no = self._newest.get(shard) or self._list_of(shard)
        while True:
            try:
                idx = self._store.allocate_delivered(record_id, list_no, size, now, kid=kid, remember=remember)
            except StatusListFullError:
                list_no = self._open_next(max(list_no, self._store.status_list_numbers()[-1]), shard)
                continue
            self._newest[shard] = list_no
            return None if idx is None else (list_no, idx)

    def publish(self, list_no: int) -> PublishedStatusList:
        now = self._clock()
        stored = self._store.get_published_status_list(list_no)
        # Verifiers keep the list with the newest `iat` (anti-rollback), and NumericDate counts whole seconds:
        # a second list signed in the same second would be ignored as "not newer". So each publication's iat
        # is strictly greater than the last, running at most MAX_IAT_LEAD seconds ahead under a burst of
        # changes; past that the change waits (the generation stays newer) and the next read publishes it.
        iat = now if stored is None else max(now, stored.published.iat + 1)
        if stored is not None and iat > now + MAX_IAT_LEAD:
            return stored.published
        generation = self._store.status_generation(list_no)  # read before the bits: the bits are at least this new
        bits = self._store.status_bits(list_no)
        uri = self._settings.status_list_uri(list_no)
        # The key is chosen at the same reading of the clock that dates the list: a rotation's lead time and the
        # iat are judged on one clock (a keyring has none of its own).
        signer = self._keyring.signer_for(Purpose.STATUS, now=now)
        token = sign_status_list_token(
            bits, uri=uri, signer=signer, now=iat, ttl=self._settings.status_list_ttl,
            exp=iat + self._settings.status_list_validity, aggregation_uri=self.aggregation_uri,
            x5c=self._certificate_chain(signer.kid),
        )
        published = PublishedStatusList(uri, token, hashlib.sha256(token.encode("ascii")).hexdigest(), iat)
        if self._store.put_published_status_list(list_no, published, generation=generation):
            return published
        stored = self._store.get_published_status_list(list_no)  # a concurrent publisher saw a later change
        return published if stored is None else stored.published

    @property
    def aggregation_uri(self) -> str:
        """Where the Status List Aggregation is served (wallet_api.public): every list names it."""
        return f"{self._settings.public_url}/statuslists"

    def _certificate_chain(self, kid: str) -> tuple[bytes, bytes]:
        """DER certificates of the status key ``kid`` and of the root that issued it, leaf first (x5c)."""
        return (self._keyring.certificates[kid].public_bytes(Encoding.DER),
                self._keyring.root_certificate.public_bytes(Encoding.DER))

    def published(self, uri_or_number: str) -> PublishedStatusList:
        list_no = self._list_no(uri_or_number)
        if list_no not in self.list_numbers():
            raise StatusListNotFoundError(uri_or_number[:100])
        stored = self._store.get_published_status_list(list_no)
        if (
            stored is None
            or stored.generation < self._store.status_generation(list_no)
            or stored.published.iat + self._settings.status_list_validity // 2 <= self._clock()
        ):
            return self.publish(list_no)
        return stored.published

    def _list_no(self, uri_or_number: str) -> int:
        prefix = f"{self._settings.public_url}/statuslists/"
        text = uri_or_number[len(prefix):] if uri_or_number.startswith(prefix) else uri_or_number
        if not (text.isascii() and text.isdigit()) or len(text) > 10 or int(text) > _MAX_LIST_NO:
            raise StatusListNotFoundError(uri_or_number[:100])
        return int(text)

    # --- trust list ----------------------------------------------------------------------------------
    def trust_list_token(self) -> str:
        now = self._clock()
        uris = self.uris()
        fingerprint = self._fingerprint(uris)
        stored = self._store.get_trust_list()
        if stored is not None and stored.fingerprint == fingerprint and now - stored.iat < TRUST_LIST_REFRESH:
            return stored.token
        # Versions are unix times, bumped by at least one: the same numbering `epermit keys publish` uses, so
        # a list published by either never looks like a rollback to a verifier that has seen the other's.
        if stored is None:
            version = now
        elif stored.fingerprint != fingerprint:
            version = max(stored.version + 1, now)
        else:
            version = stored.version
        token = self._keyring.trust_list_token(
            issuer=self._settings.public_url, now=now, version=version, status_lists=uris,
            aggregation_uri=f"{self._settings.public_url}/statuslists",
        )
        if self._store.put_trust_list(StoredTrustList(version, fingerprint, token, now)):
            return token
        latest = self._store.get_trust_list()  # another process published a newer version meanwhile
        return token if latest is None else latest.token

    def _fingerprint(self, uris: list[str]) -> str:
        ring = self._keyring
        keys = [[purpose, signer.kid, ring.states[signer.kid]] for purpose, signer in ring.signers()]
        document = {"root": ring.root.kid, "keys": keys, "status_lists": uris, "issuer": self._settings.public_url}
        return hashlib.sha256(json_dumps(document)).hexdigest()
