"""How a verification is shown to a person: the result's meaning, the holder's data in order, data ages,
and text from outside made safe for a terminal."""

from __future__ import annotations

from typing import Any

from credential.codes import FIELD_LABELS, district_label, ethnicity_label, sex_label
from credential.model import CredentialType
from verifier.result import Result, VerificationResult

MAX_REASON = 300  # characters of the one-line reason

# Shown after the result code on the big first line: what it means, in Chinese and English.
MEANINGS: dict[Result, str] = {
    Result.VALID: "有效",
    Result.REVOKED: "已吊销 revoked by the issuing authority",
    Result.SUSPENDED: "已暂停 suspended by the issuing authority",
    Result.EXPIRED: "已过期 expired",
    Result.NOT_YET_VALID: "尚未生效 not yet valid",
    Result.UNTRUSTED_ISSUER: "非真实证件 NOT GENUINE: unknown or untrusted issuer",
    Result.BAD_SIGNATURE: "非真实证件 NOT GENUINE: altered or forged",
    Result.MALFORMED: "无法识别 not a readable credential",
    Result.STATUS_UNKNOWN: "状态未知 revocation status unknown",
    Result.REPLAYED: "疑似截图或重放 copied or replayed QR code",
    Result.NO_HOLDER_PROOF: "缺少持有人证明 no proof from the holder's phone",
    Result.NOT_SET_UP: "尚未设置：请先联网同步一次 not set up: sync once",
    Result.PORTRAIT_MISMATCH: "照片不符 PORTRAIT MISMATCH: the photo is not the one this permit signs",
}
# What the result means for the landlord and what to do, in plain Chinese and English (the README's table):
# the line a person reads, in place of the technical reason (which stays in --json).
ADVICE: dict[Result, tuple[str, str]] = {
    Result.REVOKED: ("发证机关已吊销此证件：不要接受", "The issuing authority has revoked this permit: do not accept it"),
    Result.SUSPENDED: ("发证机关已暂停此证件：暂不接受，请持证人联系发证机关",
                       "The issuing authority has suspended this permit: do not accept it for now; the holder must "
                       "contact the issuing office"),
    Result.EXPIRED: ("证件已过有效期：不要接受，请持证人办理签注",
                     "This permit has expired: do not accept it; the holder must renew it"),
    Result.NOT_YET_VALID: ("证件尚未生效：不要接受；如不应如此，请检查本机时间",
                           "This permit is not valid yet: do not accept it; if that looks wrong, check this device's "
                           "clock"),
    Result.UNTRUSTED_ISSUER: ("不是可信机关签发的证件：视为非真实证件",
                              "Not issued by a trusted authority: treat it as not genuine"),
    Result.BAD_SIGNATURE: ("证件内容被篡改或伪造：视为非真实证件", "Altered or forged: treat it as not genuine"),
    Result.MALFORMED: ("无法识别此二维码：请重新扫描", "Not a readable permit code: scan it again"),
    Result.STATUS_UNKNOWN: ("无法确认是否已吊销：请联网同步后再扫，在此之前不要视为有效",
                            "Cannot tell whether it was revoked: go online to sync, then scan again; do not treat it "
                            "as valid meanwhile"),
    Result.REPLAYED: ("这个二维码是旧的截图或已过期：请持证人刷新后再扫",
                      "This code is an old screenshot: ask the holder to refresh it"),
    Result.NO_HOLDER_PROOF: ("这是静态码：请持证人在手机上出示动态码",
                             "This is a static code: ask the holder to show the live code on their phone"),
    Result.NOT_SET_UP: ("本机尚无核验数据：请联网同步一次后再扫",
                        "This verifier has no verification data yet: sync once online, then scan again"),
    Result.PORTRAIT_MISMATCH: ("照片码与证件签名的照片不符：不要接受，也不要把这张照片当作持证人",
                               "The photo code is not the photo this permit signs: do not accept it, and do not "
                               "take that photo for the holder's face"),
}
# The portrait line (VerificationResult.portrait): what the photo check found, in Chinese and English.
PORTRAIT_LABELS = {
    "verified": "照片 portrait: verified 已核验：与证件签名一致，请与本人比对 (matches the permit's signature: compare "
                "it with the person)",
    "absent": "照片 portrait: absent 未扫描到照片码",
    "mismatch": "照片 portrait: mismatch 未能与证件签名核对一致：不要把此图片当作持证人照片 (not the photo the "
                "permit signs: do not take it for the holder's face)",
}
# Results whose technical reason also helps the person (which file, which list, no QR code in the photo);
# the others' reasons (proof times, claim names) say nothing the advice does not.
_DETAIL_SHOWN = (Result.VALID, Result.MALFORMED, Result.UNTRUSTED_ISSUER, Result.STATUS_UNKNOWN, Result.NOT_SET_UP,
                 Result.PORTRAIT_MISMATCH)
# Where comparing the photo and the card with the holder is still the landlord's next step: not under a
# verdict that already says no (REVOKED, NO_HOLDER_PROOF, ...).
_STATIC_ADVICE = (Result.VALID, Result.STATUS_UNKNOWN)
# The order of the holder's data on screen; any other claim follows, sorted by name.
FIELD_ORDER = (
    "name", "name_pinyin", "sex", "ethnicity", "birth_date", "citizen_id", "address", "district",
    "document_number", "authority_name", "authority_code", "valid_from", "valid_until", "portrait_sha256",
)
_TYPES = {t.slug: t for t in CredentialType}
# Which view of a QR pass the data is (VerificationResult.view): said beside the document type.
VIEW_LABELS = {
    "basic": "基本信息 basic view (name, document, validity: no personal data)",
    "full": "完整信息 full view",
}


# -- text from outside, made safe for a terminal ----------------------------------------------------------


def one_line(text: str) -> str:
    """A reason fit for a terminal: one line, no control characters (an attacker's kid or typ may be quoted
    in it, and an escape sequence could paint a fake result), at most MAX_REASON characters."""
    printable = text if text.isprintable() else "".join(c if c.isprintable() else " " for c in text)
    cleaned = " ".join(printable.split())
    return cleaned if len(cleaned) <= MAX_REASON else cleaned[: MAX_REASON - 1] + "…"


def escaped(text: str) -> str:
    """``text`` with every non-printable character (controls, line breaks, bidi overrides such as U+202E)
    written as a Python escape: a URL or message from a server shows what it holds, on one line."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


# -- ages -------------------------------------------------------------------------------------------------


def age_text(seconds: int) -> str:
    """How old data is, for a person: "12 min", "5 h", "3 d" (minutes below an hour, hours below two days)."""
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"


def ago(seconds: int) -> str:
    """When data was updated: "just now" within the minute, else "12 min ago"."""
    return "just now" if seconds < 60 else f"{age_text(seconds)} ago"


# -- the holder's data ------------------------------------------------------------------------------------


def mask_citizen_id(value: str) -> str:
    """First 6 (birth division) and last 4 characters; the rest, with the birth date, is hidden."""
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def shown_claims(claims: dict[str, Any], *, full: bool) -> dict[str, Any]:
    """The claims as they may be shown: the citizen ID masked unless ``full``."""
    shown = dict(claims)
    if not full and isinstance(shown.get("citizen_id"), str):
        shown["citizen_id"] = mask_citizen_id(shown["citizen_id"])
    return shown


def display_value(name: str, value: Any) -> str:
    """One claim's value for the screen: codes (sex, ethnicity, district) with their zh and en labels."""
    if name == "sex" and type(value) is int:
        zh, en = sex_label(value)
        return f"{zh} {en}"
    if name == "ethnicity" and type(value) is int:
        zh, en = ethnicity_label(value)
        return f"{zh} {en}"
    if name == "district" and isinstance(value, str):
        zh, en = district_label(value)
        return f"{value} {zh} {en}"
    return str(value)


def _claim_lines(claims: dict[str, Any], view: str | None = None) -> list[str]:
    lines: list[str] = []
    kind = claims.get("type")
    heading = f"{_TYPES[kind].name_zh} {_TYPES[kind].name_en}" if isinstance(kind, str) and kind in _TYPES else ""
    if view in VIEW_LABELS:
        heading = f"{heading} · {VIEW_LABELS[view]}" if heading else VIEW_LABELS[view]
    if heading:
        lines.append(f"  {heading}")
    for name in (*FIELD_ORDER, *sorted(set(claims) - set(FIELD_ORDER) - {"type"})):
        if name not in claims or claims[name] is None:
            continue
        zh, en = FIELD_LABELS.get(name, (name, name))
        lines.append(f"  {zh} {en}: {display_value(name, claims[name])}")
    return lines


def portrait_lines(outcome: VerificationResult) -> list[str]:
    """The photo check: verified (type and size of the saved image), absent, or mismatch with its reason."""
    lines = [f"  {PORTRAIT_LABELS[outcome.portrait]}"]
    if outcome.portrait == "verified" and outcome.portrait_image is not None:
        lines.append(f"  {outcome.portrait_media_type}, {len(outcome.portrait_image)} bytes")
    elif outcome.portrait_reason and (outcome.portrait == "mismatch" or outcome.claims.get("portrait_sha256")):
        lines.append(f"  {outcome.portrait_reason}")
    return lines


# -- the whole report -------------------------------------------------------------------------------------


def render(outcome: VerificationResult, *, full: bool = False) -> str:
    """The human report: a big result line, the reason, the holder's data, and how fresh the data is."""
    headline = f"✔ {outcome.result.value}" if outcome.ok else f"✘ {outcome.result.value}"
    if outcome.ok:
        headline += " (live)" if outcome.live else " (static)"
    lines = [f"{headline} — {MEANINGS[outcome.result]}"]
    if outcome.result in ADVICE:
        lines.extend(f"  {advice}" for advice in ADVICE[outcome.result])
    if outcome.result in _DETAIL_SHOWN:
        lines.append(f"  {outcome.reason}")
    claims = shown_claims(outcome.claims, full=full)
    if claims:
        lines.append("")
        lines.extend(_claim_lines(claims, outcome.view))
    lines.append("")
    lines.extend(portrait_lines(outcome))
    if outcome.authority_name:
        lines.append(f"  signed by a key of {outcome.authority_name} (kid {outcome.issuer_kid})")
    freshness = []
    if outcome.status_age_seconds is not None:
        freshness.append(f"revocation data updated {ago(outcome.status_age_seconds)}")
    if outcome.trust_age_seconds is not None:
        freshness.append(f"trust list updated {ago(outcome.trust_age_seconds)}")
    elif outcome.result is Result.NOT_SET_UP:
        freshness.append("run `epermit verify sync URL --root root.pem` once, online")
    elif outcome.format is not None:  # a credential was read but no trust list could judge it
        freshness.append("no trust list: run `epermit verify sync`")
    if freshness:
        lines.append("  " + "; ".join(freshness))
    for warning in (outcome.status_warning, outcome.clock_warning):
        if warning:
            lines.append(f"  ⚠ {warning}")
    if outcome.live is False and outcome.issuer_kid is not None and outcome.result in _STATIC_ADVICE:
        lines.append("  ⚠ static QR (paper or screenshot): compare the photo and the physical card with the holder")
    return "\n".join(lines)


__all__ = [
    "ADVICE",
    "FIELD_ORDER",
    "MAX_REASON",
    "MEANINGS",
    "PORTRAIT_LABELS",
    "VIEW_LABELS",
    "age_text",
    "ago",
    "display_value",
    "escaped",
    "mask_citizen_id",
    "one_line",
    "portrait_lines",
    "render",
    "shown_claims",
]
