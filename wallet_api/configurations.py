"""The credential configurations we offer: each credential type as an SD-JWT VC, as the full QR pass and as
the basic QR pass (name, document, validity, authority, portrait digest: what a landlord needs). The three
are one credential (one holder key, one status index: issuer.service), and every offer names all three."""

from __future__ import annotations

from typing import Any

from credential.model import CredentialType
from wallet_api.display import claims_metadata, credential_display
from wallet_api.settings import WalletApiSettings

SD_JWT_FORMAT = "dc+sd-jwt"
# Profile-specific format (OpenID4VCI §A allows them): the CWT/COSE QR pass as its "EP1:..." text.
QR_FORMAT = "epermit_qr_pass"
SD_JWT_SUFFIX = "_sd_jwt"
QR_SUFFIX = "_qr"
QR_BASIC_SUFFIX = "_qr_basic"


def sd_jwt_configuration_id(credential_type: CredentialType) -> str:
    return credential_type.slug + SD_JWT_SUFFIX


def qr_configuration_id(credential_type: CredentialType) -> str:
    return credential_type.slug + QR_SUFFIX


def qr_basic_configuration_id(credential_type: CredentialType) -> str:
    return credential_type.slug + QR_BASIC_SUFFIX


def is_qr_configuration(configuration_id: str) -> bool:
    """The full QR pass (not the basic one: see is_qr_basic_configuration)."""
    return configuration_id.endswith(QR_SUFFIX)


def is_qr_basic_configuration(configuration_id: str) -> bool:
    return configuration_id.endswith(QR_BASIC_SUFFIX)


def vct(settings: WalletApiSettings, credential_type: CredentialType) -> str:
    return settings.public_url + credential_type.vct_path


def _binding(settings: WalletApiSettings) -> dict[str, Any]:
    # Both encodings are bound to the wallet's device key, proven with a `jwt` key proof.
    return {
        "cryptographic_binding_methods_supported": ["jwk"],
        "credential_signing_alg_values_supported": ["ES256"],
        "proof_types_supported": {"jwt": {"proof_signing_alg_values_supported": list(settings.proof_algorithms)}},
    }


def credential_configurations(settings: WalletApiSettings) -> dict[str, dict[str, Any]]:
    configurations: dict[str, dict[str, Any]] = {}
    for credential_type in CredentialType:
        sd_jwt_id, qr_id = sd_jwt_configuration_id(credential_type), qr_configuration_id(credential_type)
        configurations[sd_jwt_id] = {
            "format": SD_JWT_FORMAT,
            "vct": vct(settings, credential_type),
            "scope": sd_jwt_id,
            **_binding(settings),
            "credential_metadata": {"display": credential_display(credential_type), "claims": claims_metadata()},
        }
        configurations[qr_id] = {
            "format": QR_FORMAT,
            "scope": qr_id,
            **_binding(settings),
            "credential_metadata": {"display": credential_display(credential_type, qr=True)},
        }
        basic_id = qr_basic_configuration_id(credential_type)
        configurations[basic_id] = {
            "format": QR_FORMAT,
            "scope": basic_id,
            **_binding(settings),
            "credential_metadata": {"display": credential_display(credential_type, qr=True, basic=True)},
        }
    return configurations
