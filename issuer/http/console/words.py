"""What the console says to a window clerk: fields, record states, document types, reason codes and the
reasons a form field is refused, each as (Chinese, English) words instead of the slugs and messages of code.

The reason sentences are matched on InvalidApplicationError's reason (credential.model, credential.citizen_id);
a reason without a sentence here gets a plain "check this entry", never the developer's message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from credential.errors import InvalidApplicationError

Words = tuple[str, str]  # (zh, en)

FIELDS: dict[str, Words] = {
    "type": ("类型", "Type"), "name": ("姓名", "Name"), "name_pinyin": ("拼音", "Pinyin"), "sex": ("性别", "Sex"),
    "ethnicity": ("民族", "Ethnicity"), "birth_date": ("出生日期", "Birth date"),
    "citizen_id": ("公民身份号码", "Citizen ID"), "address": ("居住地址", "Address"),
    "document_number": ("证件号码", "Document no."), "district": ("辖区", "District"),
    "authority_code": ("签发机关代码", "Authority code"), "authority_name": ("签发机关", "Authority"),
    "valid_from": ("起始日期", "Valid from"), "valid_until": ("截止日期", "Valid until"),
    "override_reason": ("超期登记审批理由", "Override reason"),
}

STATES: dict[str, Words] = {"active": ("有效", "Active"), "suspended": ("已暂停", "Suspended"),
                            "revoked": ("已吊销", "Revoked")}
TYPES: dict[str, Words] = {"residence_permit": ("居住证", "Residence permit"),
                           "residence_registration": ("居住登记卡", "Registration card")}
REASONS: dict[str, Words] = {
    "LOST": ("遗失", "Lost"), "MOVED_AWAY": ("迁出", "Moved away"), "FRAUD": ("欺诈", "Fraud"),
    "DECEASED": ("死亡", "Deceased"), "COURT_ORDER": ("法院裁定", "Court order"),
    "ADMIN_ERROR": ("录入错误", "Entered in error"), "RESOLVED": ("问题已解决", "Resolved"),
    "NEW_DEVICE": ("更换手机", "New phone"), "OTHER": ("其他", "Other"),
}
ROLES: dict[str, Words] = {"clerk": ("柜员", "Clerk"), "issuing_officer": ("签发民警", "Issuing officer"),
                           "supervisor": ("所长", "Supervisor"), "auditor": ("审计员", "Auditor"),
                           "bureau_auditor": ("局审计员", "Bureau auditor"), "admin": ("管理员", "Administrator")}
# What each audit action is, in words (the record's history, the auditor's page): every action written
# anywhere (issuer.model.Action, the service, the wallet side, sign-in, the officers CLI); an unknown one is
# shown as its name.
ACTIONS: dict[str, Words] = {
    "register": ("登记", "Registered"), "override_registration": ("超期登记审批", "Registration override"),
    "read_record": ("查阅记录", "Record read"), "create_offer": ("签发（领取单）", "Issued (pickup sheet)"),
    "endorse": ("签注", "Endorsed"), "redeliver": ("重新下发", "Re-delivered"), "suspend": ("暂停", "Suspended"),
    "lift": ("恢复", "Lifted"), "revoke": ("吊销", "Revoked"), "approve": ("批准", "Approved"),
    "deny": ("驳回", "Denied"), "read_audit": ("查阅审计日志", "Audit log read"),
    "manage_officers": ("管理警员", "Officer management"),
    "reveal_citizen_id": ("查看完整身份号码", "Full citizen ID shown"),
    "set_portrait": ("登记照片", "Portrait taken"), "read_portrait": ("查看照片", "Portrait viewed"),
    "search_holder": ("按身份号码查询", "Citizen ID search"),
    "offer_redeemed": ("居民输入领取码", "Pickup code redeemed"), "offer_burned": ("领取码作废（PIN错误过多）",
                                                                         "Pickup code burned (too many wrong PINs)"),
    "deliver": ("居民已领取", "Picked up by the resident"), "deliver_deferred": ("领取待审批", "Pickup awaiting approval"),
    "pickup_confirmed": ("钱包确认收到", "Wallet confirmed receipt"), "pickup_failed": ("钱包报告失败", "Wallet reported a failure"),
    "pickup_deleted": ("钱包已删除证件", "Deleted from the wallet"),
    "sign_in_failed": ("登录失败", "Failed sign-in"), "sign_in_throttled": ("登录被限制", "Sign-in throttled"),
    "officer_add": ("新增警员", "Officer added"), "officer_change": ("变更警员", "Officer changed"),
    "officer_disable": ("停用警员", "Officer disabled"), "token_issue": ("签发令牌", "Token issued"),
    "token_revoke": ("吊销令牌", "Token revoked"),
}
OUTCOMES: dict[str, Words] = {"ok": ("完成", "Done"), "denied": ("拒绝（无权限）", "Denied (not allowed)"),
                              "refused": ("未执行（状态或规定不允许）", "Refused (state or rules)")}
OFFER_STATES: dict[str, Words] = {"open": ("待领取", "Open"), "redeemed": ("已领取", "Picked up"),
                                  "burned": ("已作废", "Burned"), "cancelled": ("已取消", "Cancelled"),
                                  "expired": ("已过期", "Expired")}
# Who acted, when it was not an officer (issuer.pickup.WALLET, epermit.cli.officers.CONSOLE, issuer.signin.NOBODY).
ACTORS: dict[str, Words] = {"wallet": ("居民钱包", "Resident's wallet"),
                            "console": ("办公室命令行", "Office command line"), "-": ("未识别", "Nobody identified")}


_CODED = re.compile(r"([A-Z_]+)(?=: |;|$)(?:: )?(.*)", re.DOTALL)


def action_words(action: str) -> Words:
    return ACTIONS.get(action, (action, action))


def entry_reason_words(reason: str) -> Words:
    """An entry's reason with its reason code in words: ``LOST: 手机被盗`` -> 遗失：手机被盗 / Lost: 手机被盗;
    a registration's document type in words. Other reasons (status indices, offer refs, rules) are ids and codes, shown as written."""
    if reason in TYPES:  # a registration's entry names the document type
        return TYPES[reason]
    found = _CODED.match(reason)
    if found is None or found.group(1) not in REASONS:
        return _plain(reason, 0), _plain(reason, 1)
    (zh, en), rest = REASONS[found.group(1)], found.group(2)
    text, retired, listed = rest.rpartition("; retired ") if "; retired " in rest else (rest, "", "")
    tail = ("；作废 " + ("无" if listed == "none" else listed), retired + listed) if retired else ("", "")  # a re-delivery's retired indices
    if not text or text.startswith(";"):
        return zh + text + tail[0], en + text + tail[1]
    return f"{zh}：{text}{tail[0]}", f"{en}: {text}{tail[1]}"


# The credential configurations an entry may name (issuer.model.configuration_ids), longest suffix first.
_FORMATS: tuple[tuple[str, Words], ...] = (("_qr_basic", ("二维码（基本信息）", "QR pass (basic)")),
                                           ("_sd_jwt", ("SD-JWT 电子证件", "SD-JWT VC")),
                                           ("_qr", ("二维码", "QR pass")))
_CONFIGURATION = re.compile(r"\b(" + "|".join(TYPES) + r")(_qr_basic|_sd_jwt|_qr)\b")
_DIGEST = re.compile(r"\b([0-9a-f]{12})[0-9a-f]{52}\b")


# The fixed sentences of the service's entry reasons (issuer.service, issuer.pickup) for the Chinese line,
# anchored so that an officer's free text is never rewritten.
_ZH_TERMS: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(p), zh) for p, zh in (
    (r"^valid (\S+) to (\S+), was (\S+) to (\S+)$", r"有效期 \1 至 \2，原为 \3 至 \4"),
    (r"^valid (\S+) to (\S+)$", r"有效期 \1 至 \2"),
    (r"^offer (\S+) pending approval$", r"领取单 \1 待审批"),
    (r"^offer (\S+)", r"领取单 \1"),
    (r"; status ((?:\d+/\d+ ?)+)$", r"；状态位 \1"),
    (r"; retired ((?:\d+/\d+ ?)+|none)$", r"；作废 \1"),
    (r"^(\d+) wrong PINs$", r"\1 次PIN错误"),
))


def _plain(text: str, language: int) -> str:
    """An entry's ids made readable: a 64-hex offer ref cut to its first 12 digits (enough to tell offers
    apart on one record), a credential configuration in words."""
    def configuration(found: re.Match[str]) -> str:
        words = dict(_FORMATS)[found.group(2)]
        return f"{TYPES[found.group(1)][language]} {words[language]}"
    plain = _CONFIGURATION.sub(configuration, _DIGEST.sub(r"\1…", text))
    if language == 0:
        for pattern, zh in _ZH_TERMS:
            plain = pattern.sub(zh, plain)
    return plain


# What the record page says when a change's form is incomplete (the field's name, then the words).
CHOOSE_REASON: Words = ("请选择原因。", "Choose a reason.")
OTHER_NEEDS_TEXT: Words = ("选择“其他”时须填写原因。", "With Other, write the reason.")
CONFIRM_REVOKE: Words = ("吊销不可撤回：请勾选确认后再提交。", "Revocation is final: tick the confirmation box first.")

# First match wins; {n} is the first number of the reason (a length limit).
_REASONS: tuple[tuple[re.Pattern[str], str, str], ...] = tuple((re.compile(pattern), zh, en) for pattern, zh, en in (
    (r"check digit does not match", "校验码不符，请逐位核对号码。",
     "The check digit is wrong: check the number digit by digit."),
    (r"computed over 17 digits|must be 18 characters|must be 17 digits",
     "应为18位：17位数字，最后一位为数字或X。", "Must be 18 characters: 17 digits, then a digit or X."),
    (r"holds no valid birth date", "号码中的出生日期不是有效日期。", "The birth date inside the number is not a real date."),
    (r"unknown province prefix", "号码开头的地区代码不存在。", "The number starts with an unknown region code."),
    (r"at most \d+ characters", "应为一行，不超过{n}个字符，不得含控制字符或不可见字符。",
     "One line of at most {n} characters, without control or invisible characters."),
    (r"must not be empty|^missing$", "此项必填。", "Required."),
    (r"must be a date|is not a calendar date", "日期无效，请按 年-月-日 填写。", "Not a valid date (YYYY-MM-DD)."),
    (r"not a code of the national table|must be an integer code|must be a six-digit code",
     "代码不存在，请使用国家标准代码表中的代码。", "Unknown code: use one from the national table."),
    (r"must be Chinese characters", "应为汉字，各部分以 · 连接。", "Chinese characters only, parts joined by ·."),
    (r"must be letters A-Z", "应为大写字母 A-Z，以单个空格分隔。", "Letters A-Z separated by single spaces."),
    (r"before 1900", "出生日期不得早于1900年。", "The birth date is before 1900."),
    (r"differs from the birth date", "与公民身份号码中的出生日期不符。", "Differs from the birth date in the citizen ID."),
    (r"differs from the sex", "与公民身份号码中的性别不符。", "Differs from the sex encoded in the citizen ID."),
    (r"must be A-Z, 0-9 and -", "只能包含大写字母、数字和 -。", "Only A-Z, 0-9 and - are allowed."),
    (r"must be after valid_from", "截止日期应晚于起始日期。", "Must be after the start date."),
    (r"before the holder's birth date", "起始日期早于出生日期。", "Before the holder's birth date."),
    (r"must be one of", "请从列表中选择。", "Choose one from the list."),
))
_CHECK_THIS: Words = ("此项填写有误，请核对。", "This entry is not valid: please check it.")


@dataclass(frozen=True)
class FieldError:
    """A refused form field as the page shows it: which field, its label, and why in words."""

    field: str
    label: Words
    reason: Words

    def summary(self) -> str:
        """The line at the top of the page."""
        zh, en = self.label
        return f"请更正标出的一项：{zh}。Correct the marked field: {en}."


def reason_words(reason: str) -> Words:
    for pattern, zh, en in _REASONS:
        if pattern.search(reason):
            number = re.search(r"\d+", reason)
            n = number.group(0) if number else ""
            return zh.format(n=n), en.format(n=n)
    return _CHECK_THIS


def field_error(exc: Exception, *, fields: dict[str, str] | None = None) -> FieldError | None:
    """``exc`` as the error of one form field, or None when it is not about a field the form has.

    ``fields`` renames an error's field to the form's input (the search box takes the citizen ID as ``q``).
    """
    if not isinstance(exc, InvalidApplicationError) or exc.field not in FIELDS:
        return None
    reason = str(exc).removeprefix(f"{exc.field}: ")
    return FieldError((fields or {}).get(exc.field, exc.field), FIELDS[exc.field], reason_words(reason))
