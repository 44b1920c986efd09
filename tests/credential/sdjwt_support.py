"""Shared keys and token builders for the SD-JWT VC tests."""

from __future__ import annotations

from typing import Any

from credential.disclosures import digest, encode_disclosure, new_salt
from credential.errors import UntrustedIssuerError
from credential.jose import Signer, sign_compact
from credential.jwk import PublicKey, public_jwk
from credential.model import CredentialType
from credential.samples import sample_permit
from credential.sdjwt import issue_sd_jwt_vc
from keys.signers import KeySigner
from tests.conftest import T0

ISS = "https://permits.example.gov"
STATUS_URI = ISS + "/statuslists/1"
ISSUER = KeySigner.generate("ES256")
ISSUER_ED = KeySigner.generate("EdDSA")
HOLDER = KeySigner.generate("ES256")
OTHER = KeySigner.generate("ES256")
TRUSTED = {ISSUER.kid: ISSUER.public_key, ISSUER_ED.kid: ISSUER_ED.public_key}


def resolve(kid: str) -> PublicKey:
    if kid not in TRUSTED:
        raise UntrustedIssuerError(kid)
    return TRUSTED[kid]


def issue(
    *,
    signer: Signer = ISSUER,
    holder_key: PublicKey | None = None,
    now: int = T0,
    exp: int = T0 + 365 * 86400,
    credential_type: CredentialType = CredentialType.RESIDENCE_PERMIT,
    resident: int = 0,
    portrait: bytes | None = None,
    decoys: int = 3,
) -> str:
    return issue_sd_jwt_vc(
        sample_permit(credential_type, resident=resident, portrait_sha256=portrait),
        issuer=ISS,
        signer=signer,
        holder_key=HOLDER.public_key if holder_key is None else holder_key,
        status_uri=STATUS_URI,
        status_idx=7,
        now=now,
        exp=exp,
        decoys=decoys,
    )


def base_payload(**extra: Any) -> dict[str, Any]:
    """A minimal valid SD-JWT VC payload with nothing disclosable yet."""
    payload: dict[str, Any] = {
        "iss": ISS,
        "vct": ISS + "/vct/residence-permit/1",
        "iat": T0,
        "exp": T0 + 86400,
        "cnf": {"jwk": public_jwk(HOLDER.public_key)},
        "status": {"status_list": {"idx": 3, "uri": STATUS_URI}},
        "_sd_alg": "sha-256",
    }
    payload.update(extra)
    return payload


def forge(
    payload: dict[str, Any],
    disclosures: list[str] = [],  # noqa: B006 - never mutated
    *,
    header: dict[str, Any] | None = None,
    signer: Signer = ISSUER,
) -> str:
    """Sign any payload with a trusted key: for rules that must hold even for a genuine issuer."""
    jwt = sign_compact({"typ": "dc+sd-jwt"} if header is None else header, payload, signer)
    return "~".join([jwt, *disclosures, ""])


def disclosure(name: str | None, value: Any) -> tuple[str, str]:
    """(disclosure, digest) for an object property, or an array element when name is None."""
    text = encode_disclosure(new_salt(), name, value)
    return text, digest(text)
