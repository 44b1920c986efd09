"""The pickup page, GET /pickup/<offer id>: where the QR on a pickup sheet (issuer.model.pickup_url) leads.

A phone's camera app opens https links, not ``openid-credential-offer://`` ones, so the sheet's QR holds this
page's URL. It says what the resident is picking up and what to do, in Chinese (``?lang=en`` for English),
and links to our wallet PWA with the offer (``/wallet/?credential_offer_uri=<URL-encoded offer URL>``, the
contract with wallet_api's /wallet/ page) and to the ``openid-credential-offer://`` URI for any other
OpenID4VCI wallet. The PIN is never in either link: the resident types it in the wallet.

An unknown link answers 404, one whose offer was redeemed, burned, cancelled or has expired 410, both as a
page in Chinese and English. No script, one inline style allowed by its hash, nothing cached (no-store:
the page leads to a live pre-authorized code), no personal data (whoever holds the link sees the page).
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import html
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from flask import Blueprint, Response, request

from credential.model import CredentialType
from credential.passclaims import CHINA_STANDARD_TIME
from issuer.errors import OfferNotFoundError
from issuer.model import Offer, configuration_ids, offer_uri, offer_url
from wallet_api.context import wallet_context

WALLET_PATH = "/wallet/"  # the wallet PWA, under the public URL's path

_STYLE = (
    "body{font-family:system-ui,'PingFang SC','Noto Sans CJK SC',sans-serif;margin:0;color:#1a1a1a;"
    "background:#f6f4f0;line-height:1.5}"
    "main{max-width:34rem;margin:0 auto;padding:1rem}"
    "header{display:flex;justify-content:space-between;align-items:baseline;gap:1rem}"
    "h1{font-size:1.4rem;margin:.5rem 0}"
    "ol{padding-left:1.4rem}li{margin:.3rem 0}"
    "a.button{display:block;text-align:center;background:#8b1a1a;color:#fff;padding:.9rem;border-radius:.5rem;"
    "font-size:1.15rem;text-decoration:none;margin:1rem 0}"
    ".other{font-size:.9rem;word-break:break-all}.note{font-size:.9rem;color:#555}"
    ".warn{background:#fff3cd;padding:.6rem;border-radius:.4rem;font-size:.9rem}"
    "section+section{border-top:1px solid #ccc;margin-top:1rem}"
)
_STYLE_HASH = base64.b64encode(hashlib.sha256(_STYLE.encode("utf-8")).digest()).decode("ascii")
CSP = (f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; img-src 'none'; base-uri 'none'; "
       "form-action 'none'; frame-ancestors 'none'")

@dataclass(frozen=True)
class _Texts:
    """The offer page in one language ({zh}/{en}: the document type's name; {time}: the offer's expiry)."""

    title: str
    intro: str
    steps: tuple[str, ...]
    button: str
    other: str
    other_link: str
    valid: str
    warn: str
    switch: str  # the link to the other language, named in that language
    switch_lang: str


_TEXT = {
    "zh": _Texts(
        title="领取电子{zh}",
        intro="公安机关已为您签发电子{zh}。领取到手机钱包后，出示钱包中的二维码，房东、用人单位即可离线核验。",
        steps=("点击下方按钮，打开钱包。",
               "在钱包中输入民警交给您（或短信发送给您）的6位取证密码（PIN）。PIN 不在本链接中。",
               "领取完成后，钱包显示您的证件二维码，每30秒更新一次。"),
        button="用 epermit 钱包领取",
        other="使用其他 OpenID4VCI 钱包：",
        other_link="用其他钱包打开",
        valid="本领取链接有效至 {time}（北京时间），只能领取一次。",
        warn="请勿转发本链接或 PIN。民警不会通过电话或短信向您索要 PIN。",
        switch="English",
        switch_lang="en",
    ),
    "en": _Texts(
        title="Pick up your electronic {en}",
        intro="The public security authority has issued your electronic {en}. Once it is in your phone's wallet, "
              "show the wallet's QR code: landlords and employers check it, even offline.",
        steps=("Tap the button below to open the wallet.",
               "Enter the 6-digit PIN the officer gave you (or sent you by SMS) in the wallet. The PIN is not "
               "in this link.",
               "Once picked up, the wallet shows your document's QR code, renewed every 30 seconds."),
        button="Pick up with the epermit wallet",
        other="With another OpenID4VCI wallet: ",
        other_link="open in another wallet",
        valid="This pickup link is valid until {time} (Beijing time) and works once.",
        warn="Do not forward this link or the PIN. Officers never ask for your PIN by phone or SMS.",
        switch="中文",
        switch_lang="zh",
    ),
}
_GONE = {
    404: (("找不到此领取链接", "请核对链接是否完整，或向签发证件的民警申请新的领取单。"),
          ("This pickup link is not known", "Check that the link is complete, or ask the officer who issued "
                                           "your document for a new pickup sheet.")),
    410: (("此领取链接已失效", "领取链接只能使用一次，并有有效期。如果您尚未领取证件，请向签发证件的民警申请新的领取单。"),
          ("This pickup link has expired or was already used", "A pickup link works once and for a limited "
                                                               "time. If you have not picked up your document, "
                                                               "ask the officer who issued it for a new pickup "
                                                               "sheet.")),
}

_HTML_LANG = {"zh": "zh-CN", "en": "en"}

bp = Blueprint("pickup_page", __name__)


def wallet_link(public_url: str, offer_id: str) -> str:
    """The link that opens our wallet PWA with this offer (the path under the public URL's own path)."""
    prefix = urlsplit(public_url).path
    return f"{prefix}{WALLET_PATH}?credential_offer_uri={quote(offer_url(public_url, offer_id), safe='')}"


def _credential_type(offer: Offer) -> CredentialType | None:
    for credential_type in CredentialType:
        if set(offer.configuration_ids) & set(configuration_ids(credential_type)):
            return credential_type
    return None


def _page(lang: str, title: str, body: str, status: int) -> Response:
    document = (
        f'<!doctype html>\n<html lang="{_HTML_LANG[lang]}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><main>{body}</main></body></html>\n"
    )
    response = Response(document, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _offer_page(public_url: str, offer: Offer, lang: str) -> Response:
    text = _TEXT[lang]
    kind = _credential_type(offer)
    names = {"zh": kind.name_zh, "en": kind.name_en} if kind else {"zh": "居住证件", "en": "residence document"}
    title = text.title.format(**names)
    until = datetime.datetime.fromtimestamp(offer.expires_at, CHINA_STANDARD_TIME).strftime("%Y-%m-%d %H:%M")
    steps = "".join(f"<li>{html.escape(step)}</li>" for step in text.steps)
    other = offer_uri(public_url, offer.offer_id)
    body = (
        f'<header><h1 id="title">{html.escape(title)}</h1>'
        f'<a id="lang" href="?lang={text.switch_lang}" lang="{text.switch_lang}">{text.switch}</a></header>'
        f'<p id="intro">{html.escape(text.intro.format(**names))}</p>'
        f'<ol id="steps">{steps}</ol>'
        f'<a class="button" id="open-wallet" href="{html.escape(wallet_link(public_url, offer.offer_id))}">'
        f'{html.escape(text.button)}</a>'
        f'<p class="other">{html.escape(text.other)}<a id="offer-uri" href="{html.escape(other)}">'
        f'{html.escape(text.other_link)}</a><br><code>{html.escape(other)}</code></p>'
        f'<p class="note" id="valid">{html.escape(text.valid.format(time=until))}</p>'
        f'<p class="warn" id="warn">{html.escape(text.warn)}</p>'
    )
    return _page(lang, title, body, 200)


def _gone_page(status: int) -> Response:
    (zh_title, zh_text), (en_title, en_text) = _GONE[status]
    body = (
        f'<section lang="zh-CN"><h1 id="title">{html.escape(zh_title)}</h1><p>{html.escape(zh_text)}</p></section>'
        f'<section lang="en"><h1>{html.escape(en_title)}</h1><p>{html.escape(en_text)}</p></section>'
    )
    return _page("zh", f"{zh_title} · {en_title}", body, status)


@bp.get("/pickup/<offer_id>")
def pickup(offer_id: str) -> Response:
    context = wallet_context()
    lang = "en" if request.args.get("lang") == "en" else "zh"
    try:
        offer = context.service.offer_by_id(offer_id)
    except OfferNotFoundError:
        return _gone_page(410 if context.service.offer_known(offer_id) else 404)
    return _offer_page(context.settings.public_url, offer, lang)
