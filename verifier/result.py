"""What a verification reports (DESIGN §5): one result code, why, whose credential, how fresh the data."""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Format = Literal["qr_pass", "sd_jwt_vc"]
PortraitState = Literal["verified", "absent", "mismatch"]
View = Literal["basic", "full"]


class Result(enum.StrEnum):
    VALID = "VALID"
    REVOKED = "REVOKED"
    SUSPENDED = "SUSPENDED"
    EXPIRED = "EXPIRED"
    NOT_YET_VALID = "NOT_YET_VALID"
    UNTRUSTED_ISSUER = "UNTRUSTED_ISSUER"
    BAD_SIGNATURE = "BAD_SIGNATURE"
    MALFORMED = "MALFORMED"
    STATUS_UNKNOWN = "STATUS_UNKNOWN"
    REPLAYED = "REPLAYED"
    NO_HOLDER_PROOF = "NO_HOLDER_PROOF"
    # Not a verdict on the credential: this verifier holds no root or no trust list yet (never synced), so it
    # can say nothing about any issuer. Never NOT GENUINE for a genuine card.
    NOT_SET_UP = "NOT_SET_UP"
    # The pass is genuine, but the portrait code shown with it is not the face it signs (or it signs none):
    # not BAD_SIGNATURE, which says the pass itself is altered or forged. Never VALID (verifier/verify.py).
    PORTRAIT_MISMATCH = "PORTRAIT_MISMATCH"

    @classmethod
    def from_code(cls, code: str) -> Result:
        """The result for an error's code; a code this verifier does not know is treated as MALFORMED."""
        return _BY_CODE.get(code, cls.MALFORMED)  # not cls(code): an enum lookup by value is costly


_BY_CODE = {member.value: member for member in Result}


@dataclass(frozen=True)
class VerificationResult:
    """The outcome of one scan. ``claims`` is filled only once the issuer's signature has verified."""

    result: Result
    reason: str  # one human-readable line
    format: Format | None = None  # None when the input could not even be recognised
    live: bool | None = None  # True: holder proof checked; False: static; None: not established
    claims: dict[str, Any] = field(default_factory=dict)  # the holder's data, JSON-safe
    # Which view of a QR pass ``claims`` are (credential.passclaims.PassView); None for an SD-JWT VC (it
    # shows what the holder disclosed) and before the issuer's signature verified.
    view: View | None = None
    credential_type: str | None = None  # "residence_permit" | "residence_registration"
    issuer_kid: str | None = None
    authority_name: str | None = None  # the authority the trust list names for the signing key
    trust_version: int | None = None
    trust_age_seconds: int | None = None  # now - iat of the trust list used; None: no trust list
    status_age_seconds: int | None = None  # now - iat of the status list used; None: none used
    status_warning: str | None = None
    clock_warning: str | None = None
    portrait: PortraitState = "absent"  # credential.portraitcode.PortraitCheck's value
    portrait_reason: str | None = None
    portrait_media_type: str | None = None  # only when verified
    # P, only when verified (never in to_json: the CLI saves it with --portrait-out, the report names its size).
    portrait_image: bytes | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return self.result is Result.VALID

    def to_json(self) -> dict[str, Any]:
        """A JSON-safe dict (``json.dumps`` it as is)."""
        data = asdict(self)
        data["result"] = self.result.value
        del data["portrait_image"]
        return data
