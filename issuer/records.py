"""What the issuer keeps and hands out: records, offers, delivered credentials, published status lists."""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass

from credential.model import CredentialType, Permit


class RecordState(enum.Enum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    REVOKED = "revoked"


@dataclass(frozen=True)
class Record:
    """One registered permit or card: what an officer acts on."""

    id: str  # random, url-safe
    permit: Permit
    state: RecordState
    created_at: int
    updated_at: int


@dataclass(frozen=True)
class Offer:
    """A pickup: the resident redeems it with the PIN.

    The store keeps only hashes of both secrets; the pre-authorized code is also kept in clear until it is
    redeemed so that the by-reference offer can be served (alone it is useless without the PIN). An Offer
    read back from the store (``offer_by_id``) has an empty ``tx_code``: the PIN is shown once.
    """

    pre_authorized_code: str  # >= 128 bits random, url-safe
    tx_code: str  # 6-digit PIN
    record_id: str
    expires_at: int
    offer_id: str  # GET {public_url}/offers/{offer_id} returns the offer JSON
    configuration_ids: tuple[str, ...]  # (f"{slug}_sd_jwt", f"{slug}_qr")


@dataclass(frozen=True)
class DeliveredCredential:
    sd_jwt_vc: str  # issuer-signed SD-JWT VC ending in "~"
    qr_pass: bytes  # COSE_Sign1 bytes of the QR pass
    status_uri: str
    status_idx: int


@dataclass(frozen=True)
class PublishedStatusList:
    uri: str
    token: str
    etag: str  # SHA-256 hex of the token
    iat: int


def configuration_ids(credential_type: CredentialType) -> tuple[str, ...]:
    """The OpenID4VCI credential configurations of one type: the same credential in its two encodings."""
    return (f"{credential_type.slug}_sd_jwt", f"{credential_type.slug}_qr")


def holder_hash(citizen_id: str) -> str:
    """The index key of a holder's records in every store (an index, not a secret: the permit is stored too)."""
    return hashlib.sha256(b"epermit-holder\x1f" + citizen_id.encode("utf-8")).hexdigest()
