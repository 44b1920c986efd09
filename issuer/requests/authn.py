"""Who is asking: a resident proves possession of a current credential of ours (ResidentAuthenticator).

For now the proof is an SD-JWT VC presentation with a KB-JWT over a nonce this service handed out (single
use, a keyed hash in the store, five minutes) and this service's audience; it is checked as `epermit verify`
checks one — our signature by a credential key of the key ring, the issuer, the validity dates, the key
binding — and the status is read from the store itself, so it is as fresh as it gets: a revoked, suspended,
retired or expired credential is refused (CredentialNotCurrentError). The OpenID4VP login (wallet_api.login:
a presentation once, then a DPoP-bound session) is the other way in; both end in ``current_identity``, and
the requests service only sees a ResidentIdentity.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Protocol

from credential.errors import CredentialError, ExpiredError
from credential.jose import parse_compact
from credential.jwk import PublicKey
from credential.passclaims import validity_window
from credential.sdjwt import MAX_SD_JWT, split_sd_jwt, verify_sd_jwt_vc
from credential.statuslist import SUSPENDED, VALID
from issuer.keyed import KeyedHash
from issuer.model import Record, RecordState
from issuer.requests.errors import CredentialNotCurrentError, PresentationRejectedError
from issuer.service import IssuerService, uri_no
from keys import Purpose

NONCE = "resident_nonce"  # ephemeral kind and keyed-hash label
NONCE_TTL = 300
AUDIENCE_PATH = "/resident"  # the audience a presentation is bound to: {public_url}/resident


@dataclass(frozen=True)
class ResidentIdentity:
    """A resident as authenticated: the record of the presented credential and its status entry."""

    record: Record
    status: tuple[int, int]  # (list_no, idx) of the presented credential
    holder_key: PublicKey


class ResidentAuthenticator(Protocol):
    def challenge(self) -> dict[str, str]:
        """What the wallet binds its proof to (``nonce``, ``audience``)."""
        ...

    def authenticate(self, proof: str) -> ResidentIdentity:
        """The resident behind ``proof``; PresentationRejectedError (or CredentialNotCurrentError) otherwise."""
        ...


class PresentationAuthenticator:
    def __init__(self, service: IssuerService) -> None:
        self._service = service
        self._keyed: KeyedHash = service.keyed
        self.audience = service.settings.public_url + AUDIENCE_PATH

    def challenge(self) -> dict[str, str]:
        nonce = secrets.token_urlsafe(24)
        self._service.store.put_ephemeral(NONCE, self._keyed.digest(NONCE, nonce), "1", NONCE_TTL,
                                          self._service.clock())
        return {"nonce": nonce, "audience": self.audience}

    def _resolve(self, kid: str) -> PublicKey:
        return credential_key(self._service, kid)

    def authenticate(self, proof: str) -> ResidentIdentity:
        if not isinstance(proof, str) or not proof or len(proof) > MAX_SD_JWT:
            raise PresentationRejectedError("malformed", "a presentation (SD-JWT VC with a KB-JWT) is required")
        now = self._service.clock()
        try:
            verified = verify_sd_jwt_vc(proof, resolve_key=self._resolve, now=now, require_key_binding=True,
                                        aud=self.audience, kb_max_age=NONCE_TTL)
            kb = split_sd_jwt(proof)[2]
            nonce = parse_compact(kb or "", max_size=MAX_SD_JWT).payload.get("nonce")
        except PresentationRejectedError:
            raise
        except ExpiredError as exc:  # genuine or not, an expired credential signs nobody in
            raise CredentialNotCurrentError("expired") from exc
        except CredentialError as exc:
            raise PresentationRejectedError("key_binding" if "KB-JWT" in str(exc) else "signature",
                                            f"the presentation does not verify: {exc}") from exc
        if verified.claims.get("iss") != self._service.settings.public_url:
            raise PresentationRejectedError("issuer", "the credential was issued by another service")
        if not isinstance(nonce, str) or self._service.store.take_ephemeral(
                NONCE, self._keyed.digest(NONCE, nonce), now) is None:
            raise PresentationRejectedError("nonce", "the nonce is unknown, used or expired: ask for a new one")
        return self._current(verified.claims, verified.status_uri, verified.status_idx, verified.holder_key, now)

    def _current(self, claims: dict[str, object], status_uri: str, idx: int, holder_key: PublicKey | None,
                 now: int) -> ResidentIdentity:
        citizen_id = claims.get("citizen_id")
        if not isinstance(citizen_id, str) or holder_key is None:
            raise PresentationRejectedError("unknown_holder", "present the credential with the citizen ID disclosed")
        return current_identity(self._service, citizen_id, status_uri, idx, holder_key, now)


def credential_key(service: IssuerService, kid: str) -> PublicKey:
    """The public key of our credential signer ``kid`` (not revoked): what an SD-JWT VC of ours is signed by."""
    ring = service.keyring
    for signer in ring.signers_of(Purpose.CREDENTIAL):
        if signer.kid == kid and ring.states.get(kid) != "revoked":
            return signer.public_key
    raise PresentationRejectedError("signature", "the credential is not signed by a key of this issuer")


def current_identity(service: IssuerService, citizen_id: str, status_uri: str, idx: int, holder_key: PublicKey,
                     now: int) -> ResidentIdentity:
    """The resident whose credential sits at (``status_uri``, ``idx``), read from the store now: refused unless
    we delivered it to ``citizen_id`` and it is VALID, its record ACTIVE and its validity not over."""
    store = service.store
    number = uri_no(status_uri)
    if not number.isdigit() or status_uri != service.settings.status_list_uri(int(number)):
        raise PresentationRejectedError("unknown_holder", "the credential is not one this service delivered")
    entry = (int(number), idx)
    record = next((r for r in store.records_of_holder(citizen_id) if entry in store.delivered(r.id)), None)
    if record is None:
        raise PresentationRejectedError("unknown_holder", "the credential is not one this service delivered")
    value = store.status_bits(entry[0]).get(idx)
    if value != VALID or record.state is not RecordState.ACTIVE:
        raise CredentialNotCurrentError("suspended" if value == SUSPENDED else "revoked")
    if validity_window(record.permit)[1] <= now:
        raise CredentialNotCurrentError("expired")
    return ResidentIdentity(record, entry, holder_key)
