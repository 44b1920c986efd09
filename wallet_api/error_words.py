"""What a resident reads first when the wallet API refuses: a Chinese message per error code.

RFC 6749 §5.2 keeps ``error_description`` to ASCII (and OpenID4VCI follows it), so the English description
stays as it is; the Chinese goes into an extra member, ``error_description_zh`` (§5.2 allows members beyond
error, error_description and error_uri; clients ignore what they do not know). A refusal that wrote its own
Chinese (``IssuerError.description_zh``: e.g. the day an endorsement window opens) says that; every other
code says the words below, and a code without words the general sentence, so that no refusal reaches a
resident in English only.
"""

from __future__ import annotations

GENERAL = "服务未能办理此请求，请稍后重试；如仍不行，请联系所在派出所。"

ERROR_ZH: dict[str, str] = {
    # OAuth 2.0, OpenID4VCI and DPoP (the wallet's own protocol steps)
    "invalid_request": "请求格式有误，请更新钱包后重试。",
    "invalid_grant": "领取码或取证密码（PIN）不正确或已失效，请核对民警提供的密码，或请民警重新生成领取码。",
    "unsupported_grant_type": "钱包使用了本服务不支持的领取方式，请更新钱包。",
    "invalid_token": "登录已过期或无效，请重新领取或重新登录。",
    "invalid_scope": "申请的证件类型不在本服务范围内。",
    "invalid_client": "钱包未通过服务的身份核验，请更新钱包。",
    "access_denied": "本次操作未获授权。",
    "unsupported_response_type": "钱包使用了本服务不支持的授权方式，请更新钱包。",
    "invalid_request_uri": "授权请求已过期或已使用，请重新操作。",
    "invalid_authorization_details": "申请的证件信息有误，请更新钱包后重试。",
    "invalid_credential_request": "领证请求有误，请更新钱包后重试。",
    "unknown_credential_configuration": "申请的证件格式本服务不提供。",
    "invalid_proof": "设备密钥证明无效：请在持有该证件的手机上操作。",
    "invalid_nonce": "设备证明已过期，请重试。",
    "invalid_encryption_parameters": "钱包的加密参数有误，请更新钱包。",
    "credential_request_denied": "证件不能发放：已暂停、已吊销或有效期已过，请联系所在派出所。",
    "invalid_notification_id": "确认信息有误，无需处理。",
    "invalid_notification_request": "确认信息有误，无需处理。",
    "invalid_transaction_id": "待领取的证件编号有误，请重新领取。",
    "issuance_pending": "证件正在审核中，审核通过后即可领取。",
    "invalid_dpop_proof": "设备签名无效：请在持有该证件的手机上操作。",
    "use_dpop_nonce": "服务要求更新设备签名，请重试。",
    "vp_formats_not_supported": "钱包出示的证件格式本服务不支持。",
    # residents' online requests
    "invalid_resident_request": "申请内容有误，请核对后重试。",
    "invalid_presentation": "身份核验未通过：请在持有该证件的手机上重新出示证件。",
    "credential_not_current": "该证件当前无效（已暂停、已吊销或已过期），不能办理；请联系所在派出所。",
    "request_not_found": "找不到该申请。",
    "request_conflict": "该证件已有正在办理的申请，请等待办结后再申请。",
    "recovery_refused": "身份证号与恢复码不匹配。",
    "code_refused": "验证码不正确或已过期，请重新获取。",
    "not_endorsable": "只有居住证可以签注；居住登记卡请重新登记。",
    "endorsement_not_due": "尚未到签注办理期。",
    "endorsement_lapsed": "居住证到期已超过一个签注周期，请到派出所重新申领。",
    "registration_required": "没有有效的居住登记，请先办理居住登记。",
    "registration_too_short": "居住登记时间不足，暂不能办理居住证。",
    # the service itself
    "rate_limited": "尝试次数过多，请稍后再试。",
    "temporarily_unavailable": "服务暂时不可用，请稍后再试。",
    "server_error": "服务内部错误，请稍后再试。",
    "forbidden": "没有办理此事项的权限。",
    "not_found": "找不到所请求的内容。",
    "conflict": "证件状态已变化，请刷新后重试。",
    "unauthorized": "需要先登录。",
    "method_not_allowed": "请求方式有误，请更新钱包。",
    "request_too_large": "请求内容过大。",
    "unsupported_media_type": "请求格式有误，请更新钱包。",
    "not_acceptable": "请求格式有误，请更新钱包。",
}


def zh_message(error: str, written: str | None = None) -> str:
    """The Chinese a resident reads for ``error``: the refusal's own words when it wrote some, else the code's."""
    return written or ERROR_ZH.get(error, GENERAL)
