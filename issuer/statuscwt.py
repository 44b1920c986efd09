"""The CWT form of each published status list: derived from its JWT, signed once per list generation.

The store keeps the JWT only (issuer.publication). Its CWT form carries the same claims
(credential.statuslist.cwt_from_token) signed by the same status key, the one the JWT names by kid, so the
two forms of one generation say the same thing. The forms are kept in memory per process, one per list,
replaced when the JWT's etag changes: a list is signed as a CWT at most once per generation and process,
and needs no store (it is derived from whatever JWT the caller serves, a last copy included).
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass

from credential.statuslist import cwt_from_token
from issuer.model import PublishedStatusList
from keys import KeyManagementError, KeyNotFoundError, KeyRing, Purpose, PurposeSigner


@dataclass(frozen=True)
class PublishedCwt:
    """One generation of a status list in CWT form."""

    uri: str
    data: bytes
    etag: str  # SHA-256 hex of data: never the JWT's, so a cache tells the two forms apart
    source_etag: str  # the etag of the JWT it was derived from


def status_signer(keyring: KeyRing, kid: str) -> PurposeSigner:
    """The ring's status key ``kid``, wrapped to sign status lists only and nothing past its certificate."""
    for signer in keyring.signers_of(Purpose.STATUS):
        if signer.kid == kid:
            if keyring.states.get(kid) == "revoked":
                raise KeyManagementError(f"status key {kid} is revoked: its lists are not signed again")
            return PurposeSigner(signer, Purpose.STATUS, not_after=keyring.window(kid)[1])
    raise KeyNotFoundError(kid, "the status list's key is not a status key of the ring")


class CwtForms:
    """The CWT of the newest JWT seen for each list URI (thread-safe; one signature per generation)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: dict[str, PublishedCwt] = {}

    def cwt_for(self, published: PublishedStatusList, keyring: KeyRing) -> PublishedCwt:
        # One lock for all lists: signing takes about a millisecond, once per generation; a second request
        # for the same new generation waits and then finds it, instead of signing it again.
        with self._lock:
            held = self._held.get(published.uri)
            if held is not None and held.source_etag == published.etag:
                return held
            data = cwt_from_token(published.token, signer_for=lambda kid: status_signer(keyring, kid))
            form = PublishedCwt(published.uri, data, hashlib.sha256(data).hexdigest(), published.etag)
            self._held[published.uri] = form
            return form
