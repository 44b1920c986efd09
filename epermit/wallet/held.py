"""HeldCredential: one credential the wallet holds, in every encoding it picked up, and how it is kept.

One credential is one device key and one status index (issuer.service): its SD-JWT VC, its full QR pass and
its basic QR pass. The file (``epermit-wallet-credential-v1``, JSON, 0600 in the wallet's 0700 folder)
keeps the encodings exactly as delivered and, for listing without a passphrase, what the wallet read from
them at pickup (the pass it verified against the issuer's published key: epermit.wallet.client).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from credential.encoding import b64url_decode, b64url_encode
from credential.errors import MalformedError
from credential.model import CredentialType, parse_iso_date
from credential.passclaims import PassView
from epermit.wallet.errors import WalletError

FORMAT = "epermit-wallet-credential-v1"


@dataclass(frozen=True)
class HeldCredential:
    document_number: str
    credential_type: CredentialType
    name: str  # 汉字
    name_pinyin: str
    authority_name: str  # as the issuer's metadata names it (the verifier takes the trust list's)
    valid_from: datetime.date
    valid_until: datetime.date
    issuer: str  # the Credential Issuer Identifier (https URL): where status and trust lists are synced from
    status_uri: str
    status_idx: int
    picked_up_at: int
    sd_jwt_vc: str | None = None
    qr_pass: bytes | None = None  # COSE_Sign1 bytes, full view
    qr_pass_basic: bytes | None = None  # COSE_Sign1 bytes, basic view

    @property
    def views(self) -> tuple[PassView, ...]:
        return tuple(view for view, held in ((PassView.BASIC, self.qr_pass_basic), (PassView.FULL, self.qr_pass))
                     if held is not None)

    def cose_pass(self, view: PassView) -> bytes:
        """The QR pass of ``view``; WalletError when this credential was picked up without it."""
        held = self.qr_pass_basic if view is PassView.BASIC else self.qr_pass
        if held is None:
            raise WalletError(f"{self.document_number}: no {view.value} QR pass was picked up")
        return held

    def expires_in(self, now: int) -> int:
        """Seconds until the end of valid_until in Beijing (the pass's exp)."""
        end = datetime.datetime.combine(self.valid_until + datetime.timedelta(days=1), datetime.time(),
                                        datetime.timezone(datetime.timedelta(hours=8)))
        return int(end.timestamp()) - now

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "document_number": self.document_number,
            "type": self.credential_type.slug,
            "name": self.name,
            "name_pinyin": self.name_pinyin,
            "authority_name": self.authority_name,
            "valid_from": self.valid_from.isoformat(),
            "valid_until": self.valid_until.isoformat(),
            "issuer": self.issuer,
            "status": {"uri": self.status_uri, "idx": self.status_idx},
            "picked_up_at": self.picked_up_at,
            "sd_jwt_vc": self.sd_jwt_vc,
            "qr_pass": None if self.qr_pass is None else b64url_encode(self.qr_pass),
            "qr_pass_basic": None if self.qr_pass_basic is None else b64url_encode(self.qr_pass_basic),
        }

    @classmethod
    def from_json(cls, data: object) -> HeldCredential:
        """Read a credential file back; MalformedError names what is wrong (a file edited by hand)."""
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise MalformedError(f"not an {FORMAT} file")
        status = data.get("status")
        if not isinstance(status, dict) or type(status.get("idx")) is not int:
            raise MalformedError("status must be {uri, idx}")
        texts: dict[str, str] = {}
        for name in ("document_number", "name", "name_pinyin", "authority_name", "issuer"):
            value = data.get(name)
            if not isinstance(value, str) or not value:
                raise MalformedError(f"{name} is missing")
            texts[name] = value
        if not isinstance(status.get("uri"), str) or type(data.get("picked_up_at")) is not int:
            raise MalformedError("status.uri or picked_up_at is missing")

        def passes(name: str) -> bytes | None:
            value = data.get(name)
            if value is None:
                return None
            if not isinstance(value, str):
                raise MalformedError(f"{name} must be base64url text")
            return b64url_decode(value)

        sd_jwt = data.get("sd_jwt_vc")
        if sd_jwt is not None and not isinstance(sd_jwt, str):
            raise MalformedError("sd_jwt_vc must be text")
        return cls(
            document_number=texts["document_number"], credential_type=CredentialType.from_slug(data.get("type")),
            name=texts["name"], name_pinyin=texts["name_pinyin"], authority_name=texts["authority_name"],
            valid_from=parse_iso_date("valid_from", data.get("valid_from")),
            valid_until=parse_iso_date("valid_until", data.get("valid_until")),
            issuer=texts["issuer"], status_uri=status["uri"], status_idx=status["idx"],
            picked_up_at=data["picked_up_at"], sd_jwt_vc=sd_jwt, qr_pass=passes("qr_pass"),
            qr_pass_basic=passes("qr_pass_basic"),
        )
