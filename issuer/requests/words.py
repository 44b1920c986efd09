"""What the resident is told about a request, in Chinese first and in English, always with the next step."""

from __future__ import annotations

from issuer.requests.model import RequestKind, RequestState, ResidentRequest

KIND_WORDS: dict[RequestKind, tuple[str, str]] = {
    RequestKind.ENDORSE: ("签注", "endorsement"),
    RequestKind.LOST: ("手机丢失", "lost phone"),
    RequestKind.ADDRESS: ("地址变更", "address change"),
    RequestKind.DEREGISTER: ("注销", "deregistration"),
}

STATE_WORDS: dict[RequestState, tuple[str, str]] = {
    RequestState.SUBMITTED: ("已提交", "submitted"),
    RequestState.QUEUED: ("待审核", "waiting for an officer"),
    RequestState.APPROVED: ("已批准", "approved"),
    RequestState.DENIED: ("未批准", "denied"),
    RequestState.DONE: ("已办结", "done"),
}

# The next step, by (kind, state): what the resident does now. The same words reach the phone's web wallet and
# the command-line wallet, so they name what both have: a wallet to open and its 刷新 (Refresh).
_NEXT: dict[tuple[RequestKind, RequestState], tuple[str, str]] = {
    (RequestKind.ENDORSE, RequestState.APPROVED): (
        "签注已批准。请打开钱包，点击“刷新”领取新的居住证；新证确认后旧证自动失效。",
        "Endorsement approved. Open your wallet and refresh it (tap Refresh, 刷新) to get the renewed permit; the "
        "old one stops being valid once the new one is confirmed."),
    (RequestKind.ADDRESS, RequestState.APPROVED): (
        "地址变更已批准。请打开钱包，点击“刷新”领取新证；新证确认后旧证自动吊销。",
        "Address change approved. Open your wallet and refresh it (tap Refresh, 刷新) to get the new credential; "
        "the old one is revoked once the new one is confirmed."),
    (RequestKind.LOST, RequestState.APPROVED): (
        "已批准向新手机重新发证。请在新手机上打开钱包，点击“刷新”领取；旧手机上的证件将被吊销。",
        "Re-delivery to your new phone approved. Open the wallet on the new phone and refresh it (tap Refresh, "
        "刷新); the credentials on the lost phone are revoked."),
    (RequestKind.LOST, RequestState.QUEUED): (
        "旧手机上的证件已立即暂停。重新发证需经民警审核，请稍后在新手机的钱包中查看。",
        "The credentials on the lost phone are suspended now. Re-delivery needs an officer's approval: check "
        "the wallet on your new phone later."),
    (RequestKind.DEREGISTER, RequestState.DONE): (
        "注销已办结，您的证件已吊销（迁出）。无需再到窗口办理。",
        "Deregistered: your credential is revoked (moved away). There is nothing more to do at the window."),
}


def answer(request: ResidentRequest) -> dict[str, str]:
    """{"zh", "en"}: what became of the request and what the resident does next."""
    kind_zh, kind_en = KIND_WORDS[request.kind]
    state_zh, state_en = STATE_WORDS[request.state]
    step = _NEXT.get((request.kind, request.state))
    if step is None:
        if request.state is RequestState.QUEUED:
            step = ("您的申请正在等待所在辖区民警审核，审核结果会通知您，请稍后在钱包中查看。",
                    "Your request waits for an officer of your district; you will be notified: check your "
                    "wallet later.")
        elif request.state is RequestState.DENIED:
            why = request.reason or ""
            step = (f"申请未获批准：{why}。如有疑问请联系所在派出所。",
                    f"The request was denied: {why}. Ask your police station if anything is unclear.")
        elif request.state is RequestState.DONE:
            step = ("已办结，新证件已在您的钱包中。", "Done: the new credential is in your wallet.")
        else:
            step = ("申请已提交。", "The request is submitted.")
    return {"zh": f"{kind_zh}：{state_zh}。{step[0]}", "en": f"{kind_en.capitalize()}: {state_en}. {step[1]}"}
