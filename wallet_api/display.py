"""What wallets show for our credentials: names, descriptions and claim labels in zh-CN and en.

Presentation data only; the claim names themselves are fixed by credential/sdjwt.py.
"""

from __future__ import annotations

from typing import Any

from credential.model import CredentialType
from credential.sdjwt import PERSONAL_CLAIMS

LOCALES = ("zh-CN", "en")

# Labels of the SD-JWT VC personal claims (credential.sdjwt.PERSONAL_CLAIMS, all selectively disclosable).
CLAIM_LABELS: dict[str, tuple[str, str]] = {
    "name": ("姓名", "Name"),
    "name_pinyin": ("姓名拼音", "Name (pinyin)"),
    "sex": ("性别", "Sex"),
    "ethnicity": ("民族", "Ethnicity"),
    "birthdate": ("出生日期", "Date of birth"),
    "citizen_id": ("公民身份号码", "Citizen ID number"),
    "address": ("居住地址", "Residence address"),
    "document_number": ("证件号码", "Document number"),
    "district": ("居住地行政区划代码", "Residence district code"),
    "authority_code": ("签发机关代码", "Issuing authority code"),
    "authority_name": ("签发机关", "Issuing authority"),
    "portrait_sha256": ("照片摘要", "Portrait digest (SHA-256)"),
    "picture": ("照片", "Portrait"),
}

TYPE_DESCRIPTIONS: dict[CredentialType, tuple[str, str]] = {
    CredentialType.RESIDENCE_PERMIT: (
        "公安机关签发的电子居住证",
        "Electronic residence permit issued by the public security authority",
    ),
    CredentialType.RESIDENCE_REGISTRATION: (
        "公安机关签发的电子居住登记卡",
        "Electronic residence registration card issued by the public security authority",
    ),
}

# Card colours (background, text): permit blue, registration card green, both with white text (AA contrast).
TYPE_COLOURS: dict[CredentialType, tuple[str, str]] = {
    CredentialType.RESIDENCE_PERMIT: ("#1F4E8C", "#FFFFFF"),
    CredentialType.RESIDENCE_REGISTRATION: ("#2E6B4F", "#FFFFFF"),
}

QR_FORMAT_NOTE = ("离线核验二维码", "offline QR pass")
QR_BASIC_NOTE = ("基本信息二维码", "basic QR pass")


def _pair(values: tuple[str, str]) -> list[tuple[str, str]]:
    return list(zip(LOCALES, values, strict=True))


def credential_display(credential_type: CredentialType, *, qr: bool = False, basic: bool = False) -> list[dict[str, Any]]:
    """OpenID4VCI credential_metadata.display: one entry per locale (``basic``: the basic QR pass)."""
    background, text = TYPE_COLOURS[credential_type]
    names = (credential_type.name_zh, credential_type.name_en)
    if qr:
        note = QR_BASIC_NOTE if basic else QR_FORMAT_NOTE
        names = (f"{names[0]}（{note[0]}）", f"{names[1]} ({note[1]})")
    descriptions = dict(_pair(TYPE_DESCRIPTIONS[credential_type]))
    return [
        {"name": name, "locale": locale, "description": descriptions[locale],
         "background_color": background, "text_color": text}
        for locale, name in _pair(names)
    ]


def claims_metadata() -> list[dict[str, Any]]:
    """OpenID4VCI credential_metadata.claims: a path and localised names for every personal claim."""
    return [
        {"path": [claim], "display": [{"name": label, "locale": locale} for locale, label in _pair(CLAIM_LABELS[claim])]}
        for claim in PERSONAL_CLAIMS
    ]


def type_metadata(credential_type: CredentialType, vct: str) -> dict[str, Any]:
    """SD-JWT VC Type Metadata (draft-ietf-oauth-sd-jwt-vc-18 §6) for one vct."""
    background, text = TYPE_COLOURS[credential_type]
    descriptions = dict(_pair(TYPE_DESCRIPTIONS[credential_type]))
    return {
        "vct": vct,
        "name": credential_type.name_en,
        "description": descriptions["en"],
        "display": [
            {"locale": locale, "name": name, "description": descriptions[locale],
             "rendering": {"simple": {"background_color": background, "text_color": text}}}
            for locale, name in _pair((credential_type.name_zh, credential_type.name_en))
        ],
        "claims": [
            {"path": [claim], "sd": "always",
             "display": [{"locale": locale, "label": label} for locale, label in _pair(CLAIM_LABELS[claim])]}
            for claim in PERSONAL_CLAIMS
        ],
    }
