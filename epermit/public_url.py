"""The wallet API's public URL as the office's data folder remembers it, and whether residents' phones can use it.

Pickup links and offer URIs that `epermit issue` prints on sheets and sends by SMS point at the wallet API's
public https origin. Typed again for every batch, a forgotten option once sent 995 texts to
``http://127.0.0.1:8081``; so the URL is remembered in the data folder (the file ``public-url``): set by
`epermit keys init --public-url` (the data folder holding the key directory) and by `epermit serve
--public-url` (what the servers really answer on), read by `epermit issue`. A link that a resident's phone
cannot open (plain http, or a loopback or unspecified address) is refused unless the officer says
``--insecure-http`` (local testing and the demo).
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from urllib.parse import urlsplit

from epermit.errors import UsageError
from epermit.private_files import write_private

PUBLIC_URL_FILE = "public-url"  # in the data folder: one line, the https origin
MAX_URL = 2048


def checked_public_url(text: str) -> str:
    """``text`` as a base URL (http or https, a host, no query or fragment), without a trailing slash."""
    url = text.strip().rstrip("/")
    parts = urlsplit(url)
    if (len(url) > MAX_URL or parts.scheme not in ("http", "https") or not parts.hostname or parts.query
            or parts.fragment or any(c.isspace() for c in url)):
        raise UsageError(f"公共地址无效：{text!r}，应为 https://主机名[/路径]。"
                         f"Not a public URL: {text!r} (expected https://host[/path]).")
    return url


def remember_public_url(data: Path, url: str) -> Path:
    """Write ``url`` (checked) to the data folder's ``public-url`` file (0600); returns the file."""
    path = data / PUBLIC_URL_FILE
    write_private(path, checked_public_url(url) + "\n")
    return path


def remembered_public_url(data: Path) -> str | None:
    """The URL the data folder remembers, or None when none was ever set."""
    path = data / PUBLIC_URL_FILE
    try:
        text = path.read_text(encoding="utf-8")[: MAX_URL + 2]
    except FileNotFoundError:
        return None
    return checked_public_url(text)


def unreachable_reason(url: str) -> str | None:
    """Why a resident's phone cannot use links to ``url`` (zh, then en), or None when it can."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost") or _is_local_address(host):
        return (f"公共地址 {url} 指向本机（环回地址），居民的手机打不开领取链接。"
                f"The public URL {url} is this machine (a loopback address): residents' phones cannot open "
                f"the pickup links.")
    if parts.scheme != "https":
        return (f"公共地址 {url} 不是 https，钱包不接受。The public URL {url} is not https: wallets refuse it.")
    return None


def require_reachable(url: str, *, insecure_http: bool) -> None:
    """UsageError (zh, en, and what to do) unless phones can use ``url`` or the officer opted out."""
    reason = unreachable_reason(url)
    if reason is not None and not insecure_http:
        raise UsageError(f"{reason} 请用 --public-url https://… 指定钱包服务的公网地址（或在数据目录中由 "
                         f"`epermit serve --public-url` 记住）；仅供本机测试时加 --insecure-http。"
                         f"Give the wallet API's public address with --public-url https://… (or let "
                         f"`epermit serve --public-url` remember it in the data folder); for local testing "
                         f"only, add --insecure-http.")


def _is_local_address(host: str) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified
