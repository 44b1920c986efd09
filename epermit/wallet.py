"""The reference holder: picks a credential up over OpenID4VCI and shows it as a live QR code.

It is what the demo and the tests use as "the resident's phone". A real wallet keeps the device key in
the phone's secure element; this one keeps it in memory and never writes it out.
"""

from __future__ import annotations

import io
import json
import ssl
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import qrcode
import qrcode.constants

from credential import qrpass
from credential.encoding import b64url_encode, json_dumps
from credential.jwk import public_jwk
from credential.sdjwt import present
from epermit.http_client import request
from keys.signers import KeySigner

PRE_AUTH_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"


@dataclass
class HeldCredential:
    configuration_id: str
    sd_jwt_vc: str | None = None
    qr_pass: bytes | None = None


@dataclass
class ReferenceWallet:
    device_key: KeySigner = field(default_factory=KeySigner.generate)
    credentials: list[HeldCredential] = field(default_factory=list)
    tls: ssl.SSLContext | None = None  # trusts a private CA (the demo's loopback CA)

    def pick_up(self, offer_uri: str, tx_code: str, *, now: int | None = None) -> list[HeldCredential]:
        """Redeem an `openid-credential-offer://` URI with its PIN; fetch every offered configuration."""
        offer = self._resolve_offer(offer_uri)
        issuer = offer["credential_issuer"]
        metadata = request(_well_known(issuer, "openid-credential-issuer"), tls=self.tls).json()
        as_metadata = request(_well_known(issuer, "oauth-authorization-server"), tls=self.tls).json()
        grant = offer["grants"][PRE_AUTH_GRANT]
        token = request(
            as_metadata["token_endpoint"],
            method="POST",
            form={
                "grant_type": PRE_AUTH_GRANT,
                "pre-authorized_code": grant["pre-authorized_code"],
                "tx_code": tx_code,
            },
            tls=self.tls,
        ).json()
        picked: dict[str, HeldCredential] = {}
        for configuration_id in offer["credential_configuration_ids"]:
            nonce = request(metadata["nonce_endpoint"], method="POST", tls=self.tls).json()["c_nonce"]
            proof = self._proof(issuer, nonce, now if now is not None else int(time.time()))
            answer = request(
                metadata["credential_endpoint"],
                method="POST",
                json_body={"credential_configuration_id": configuration_id, "proofs": {"jwt": [proof]}},
                headers={"Authorization": f"Bearer {token['access_token']}"},
                tls=self.tls,
            ).json()
            text = answer["credentials"][0]["credential"]
            slug = configuration_id.removesuffix("_sd_jwt").removesuffix("_qr")
            held = picked.setdefault(slug, HeldCredential(configuration_id=slug))
            if text.startswith(qrpass.QR_PREFIX):
                held.qr_pass = qrpass.decode_qr_text(text).cose_pass
            else:
                held.sd_jwt_vc = text
        self.credentials.extend(picked.values())
        return list(picked.values())

    def _resolve_offer(self, offer_uri: str) -> dict[str, Any]:
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(offer_uri).query)
        if "credential_offer_uri" in query:
            offer: dict[str, Any] = request(query["credential_offer_uri"][0], tls=self.tls).json()
            return offer
        if "credential_offer" in query:
            by_value: dict[str, Any] = json.loads(query["credential_offer"][0])
            return by_value
        raise ValueError("not a credential offer URI")

    def _proof(self, issuer: str, nonce: str, now: int) -> str:
        header = {
            "typ": "openid4vci-proof+jwt",
            "alg": self.device_key.alg,
            "jwk": public_jwk(self.device_key.public_key),
        }
        payload = {"aud": issuer, "iat": now, "nonce": nonce}
        signing_input = f"{b64url_encode(json_dumps(header))}.{b64url_encode(json_dumps(payload))}".encode("ascii")
        return signing_input.decode("ascii") + "." + b64url_encode(self.device_key.sign(signing_input))

    # --- showing the credential -------------------------------------------------------------------------------

    def live_qr_text(self, held: HeldCredential, *, now: int, nonce: bytes | None = None) -> str:
        """The QR a resident shows: regenerated every 30 s, with a proof by the device key (DESIGN §2.3)."""
        if held.qr_pass is None:
            raise ValueError("this credential has no QR pass")
        return qrpass.live_qr_text(held.qr_pass, holder_signer=self.device_key, now=now, nonce=nonce)

    def static_qr_text(self, held: HeldCredential) -> str:
        if held.qr_pass is None:
            raise ValueError("this credential has no QR pass")
        return qrpass.pass_to_qr_text(held.qr_pass)

    def presentation(self, held: HeldCredential, *, aud: str, nonce: str, now: int) -> str:
        """SD-JWT VC with a KB-JWT for an online verifier."""
        if held.sd_jwt_vc is None:
            raise ValueError("this credential has no SD-JWT VC")
        return present(held.sd_jwt_vc, disclose=None, holder_signer=self.device_key, aud=aud, nonce=nonce, now=now)


def _well_known(issuer: str, name: str) -> str:
    parts = urllib.parse.urlsplit(issuer)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, f"/.well-known/{name}{parts.path.rstrip('/')}", "", ""))


def qr_code(text: str, *, error_correction: int = qrcode.constants.ERROR_CORRECT_M) -> qrcode.QRCode:
    code = qrcode.QRCode(error_correction=error_correction, border=4)
    code.add_data(text)  # all of "EP1:" + base45 is in the alphanumeric set, so qrcode picks alphanumeric mode
    code.make(fit=True)
    return code


def write_qr_png(text: str, path: Path, *, box_size: int = 6) -> int:
    """Write the QR as a PNG; returns its QR version."""
    code = qr_code(text)
    code.box_size = box_size
    code.make_image().save(str(path))
    return int(code.version)


def terminal_qr(text: str) -> str:
    """The QR as text for a terminal (two rows per line with half blocks)."""
    out = io.StringIO()
    qr_code(text).print_ascii(out=out, invert=True)
    return out.getvalue()
