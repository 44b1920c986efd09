"""The small, bounded JSON-over-HTTP client the reference wallet and the demo use (stdlib only)."""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

MAX_RESPONSE = 4 * 1024 * 1024


class HttpError(Exception):
    """A non-2xx answer, with the server's OAuth-style error code when it sent one."""

    def __init__(self, url: str, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.url = url
        self.status = status
        self.headers = headers or {}  # e.g. DPoP-Nonce, which a use_dpop_nonce retry must carry
        self.error = ""
        self.description = ""
        self.description_zh = ""  # the Chinese beside the ASCII description (wallet_api.error_words)
        try:
            data = json.loads(body)
            if isinstance(data, dict):
                self.error = str(data.get("error", ""))
                self.description = str(data.get("error_description", ""))
                self.description_zh = str(data.get("error_description_zh", ""))
        except ValueError:
            pass
        super().__init__(f"{url}: HTTP {status} {self.error} {self.description}".rstrip())


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def request(
    url: str,
    *,
    method: str = "GET",
    json_body: object | None = None,
    form: dict[str, str] | None = None,
    raw: tuple[str, bytes] | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10,
    tls: ssl.SSLContext | None = None,
) -> Response:
    """One bounded request; ``tls`` trusts a private CA (the demo's) instead of the system's roots. ``raw``:
    a body of its own media type, (content type, bytes), e.g. a photo."""
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise ValueError(f"not an http(s) URL: {url}")
    data: bytes | None = None
    all_headers = dict(headers or {})
    if json_body is not None:
        data = json.dumps(json_body, ensure_ascii=False).encode("utf-8")
        all_headers["Content-Type"] = "application/json"
    elif form is not None:
        data = urllib.parse.urlencode(form).encode("ascii")
        all_headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif raw is not None:
        all_headers["Content-Type"], data = raw
    req = urllib.request.Request(url, data=data, method=method, headers=all_headers)  # noqa: S310 - scheme checked
    try:
        with urllib.request.urlopen(req, timeout=timeout, context=tls) as resp:  # noqa: S310
            body = resp.read(MAX_RESPONSE + 1)
            if len(body) > MAX_RESPONSE:
                raise HttpError(url, resp.status, b"")
            return Response(resp.status, dict(resp.headers.items()), body)
    except urllib.error.HTTPError as exc:
        raise HttpError(url, exc.code, exc.read(MAX_RESPONSE), dict(exc.headers.items())) from exc
