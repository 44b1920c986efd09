"""The employer demo's pages: Chinese first, with English; no script (the waiting page refreshes itself).

The templates are rendered with autoescaping (Flask's render_template_string), so nothing a wallet or an
issuer sent can become markup. Every element a browser test looks for has a ``data-testid``.
"""

from __future__ import annotations

from typing import Any

from credential.codes import FIELD_LABELS
from credential.model import CredentialType
from epermit.employer.checks import DECLINED, EXPIRED_REQUEST, INCOMPLETE, Outcome
from verifier.report import ADVICE, MEANINGS, age_text
from verifier.result import Result

STYLE = """
body{font-family:system-ui,"Noto Sans CJK SC","PingFang SC",sans-serif;max-width:46rem;margin:2rem auto;
padding:0 1rem;color:#1b1b1b}
h1{font-size:1.4rem}.en{color:#555;font-size:.9em}
.qr{display:block;margin:1rem 0;image-rendering:pixelated;width:18rem;height:18rem}
.result{font-size:1.6rem;font-weight:bold;padding:.6rem 1rem;border-radius:.4rem;display:inline-block}
.VALID{background:#d8f5dc;color:#0b5d1e}.bad{background:#fde0e0;color:#8a1010}.wait{background:#eef}
table{border-collapse:collapse;margin:1rem 0}td,th{border-bottom:1px solid #ddd;padding:.4rem .8rem;
text-align:left}code{word-break:break-all;font-size:.8em}button{font-size:1.1rem;padding:.5rem 1.2rem}
"""

LAYOUT = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
{% if refresh %}<meta http-equiv="refresh" content="2">{% endif %}
<title>员工证件核验 Employee credential check</title><link rel="stylesheet" href="{{ base }}/style.css"></head>
<body><h1>员工证件在线核验 <span class="en">Online check of an employee's residence credential</span></h1>
<p>{{ verifier_zh }} <span class="en">{{ verifier_en }}</span></p>
{{ body }}
</body></html>"""

INDEX = """<p>请员工用电子居住证钱包出示：姓名、证件号码、签发机关、证件类型与有效期。
<span class="en">The employee shows, from their residence permit wallet: name, document number, issuing authority,
document type and validity.</span></p>
<form method="post" action="{{ base }}/checks"><button data-testid="start-check" type="submit">开始核验 Start a check
</button></form>"""

WAITING = """<p class="result wait" data-testid="result" data-result="WAITING">等待出示… <span class="en">Waiting for the
wallet…</span></p>
<p>请员工用钱包扫描二维码 <span class="en">Ask the employee to scan this code with their wallet</span></p>
<img class="qr" data-testid="request-qr" alt="OpenID4VP request QR" src="{{ qr }}">
<p><a data-testid="same-device-link" href="{{ uri }}">在本机钱包中打开 <span class="en">Open in a wallet on this
device</span></a></p>
<p><code data-testid="request-uri">{{ uri }}</code></p>
<p>要求披露 <span class="en">Asked for</span>: {{ asked }}</p>"""

RESULT = """<p class="result {{ css }}" data-testid="result" data-result="{{ code }}">{{ headline }}</p>
<p>{{ advice_zh }} <span class="en">{{ advice_en }}</span></p>
{% if rows %}<table data-testid="claims">{% for key, zh, en, value in rows %}
<tr data-testid="claim-{{ key }}"><th>{{ zh }} <span class="en">{{ en }}</span></th><td>{{ value }}</td></tr>
{% endfor %}</table>{% endif %}
{% if freshness %}<p class="en" data-testid="freshness">{{ freshness }}</p>{% endif %}
<p class="en" data-testid="reason">{{ reason }}</p>
<form method="post" action="{{ base }}/checks"><button data-testid="start-check" type="submit">再核验一位 Check another
</button></form>"""

DONE = """<p>已出示，核验结果显示在核验方屏幕上。<span class="en">Presented: the verifier's screen shows the result.</span></p>
<p class="result {{ css }}" data-testid="result" data-result="{{ code }}">{{ headline }}</p>"""

_OTHER_HEADLINES = {
    DECLINED: ("持证人拒绝出示", "The holder declined"),
    INCOMPLETE: ("未披露全部所需信息：不能接受", "Not every required claim was disclosed: cannot accept"),
    EXPIRED_REQUEST: ("请求已过期：请重新开始", "The request expired: start again"),
}


def asked_labels(claims: tuple[str, ...]) -> str:
    return "、".join(" ".join(FIELD_LABELS.get(name, (name, name))) for name in claims)


def result_context(outcome: Outcome) -> dict[str, Any]:
    """What RESULT shows for a finished check."""
    code = outcome.result or ""
    try:
        result: Result | None = Result(code)
    except ValueError:
        result = None
    if result is not None:
        headline = f"{code} {MEANINGS[result]}"
        advice_zh, advice_en = ADVICE.get(result, ("可以接受：证件真实、在有效期内且未被吊销",
                                                  "Accept: genuine, within its validity and not revoked"))
    else:
        advice_zh, advice_en = _OTHER_HEADLINES.get(code, (code, code))
        headline = f"{code} {advice_zh}"
    rows = []
    if outcome.credential_type:
        kind = CredentialType.from_slug(outcome.credential_type)
        rows.append(("type", *FIELD_LABELS["type"], f"{kind.name_zh} {kind.name_en}"))
    for key, value in outcome.claims.items():
        rows.append((key, *FIELD_LABELS.get(key, (key, key)), str(value)))
    for key, value in (("valid_from", outcome.valid_from), ("valid_until", outcome.valid_until)):
        if value:
            rows.append((key, *FIELD_LABELS[key], value))
    freshness = None
    if outcome.status_age_seconds is not None:
        age = age_text(outcome.status_age_seconds)
        freshness = f"吊销数据更新于 {age} 前 revocation data {age} old"
    return {"code": code, "css": "VALID" if code == Result.VALID.value else "bad", "headline": headline,
            "advice_zh": advice_zh, "advice_en": advice_en, "rows": rows, "freshness": freshness,
            "reason": outcome.reason}
