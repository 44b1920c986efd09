"""Fetch the trust list and every status list into the verifier cache: the verifier's only network access.

Everything fetched goes through the same VerifierCache.accept_* checks as a file from a USB stick, so the
server (or a CDN, or an attacker in between) is trusted for nothing but availability.
"""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from http.client import HTTPMessage
from typing import IO

from credential.errors import CredentialError, MalformedError, TooLargeError
from credential.statuslist import parse_aggregation
from verifier.cache import VerifierCache
from verifier.errors import SyncError, VerifierError

MAX_RESPONSE = 4 * 1024 * 1024
USER_AGENT = "epermit-verifier"


@dataclass(frozen=True)
class SyncSummary:
    trust_version: int
    status_lists: tuple[str, ...]  # URIs accepted (or already held at least as new)
    failures: tuple[tuple[str, str], ...]  # (URI, reason) of status lists that could not be updated

    @property
    def ok(self) -> bool:
        return not self.failures


def _check_url(url: str) -> None:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SyncError(url, "only http and https URLs are fetched")


class _HttpOnlyRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(
        self, req: urllib.request.Request, fp: IO[bytes], code: int, msg: str, headers: HTTPMessage, newurl: str
    ) -> urllib.request.Request | None:
        _check_url(newurl)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def fetch(url: str, *, timeout: float, max_size: int = MAX_RESPONSE) -> bytes:
    """GET ``url`` with a size cap checked on the declared length and again while reading."""
    _check_url(url)
    opener = urllib.request.build_opener(_HttpOnlyRedirects)
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})  # noqa: S310 - scheme checked
    try:
        with opener.open(request, timeout=timeout) as response:
            declared = response.headers.get("Content-Length")
            if declared is not None and declared.isdigit() and int(declared) > max_size:
                raise TooLargeError(f"response from {url}", max_size)
            body: bytes = response.read(max_size + 1)
    except urllib.error.HTTPError as exc:
        raise SyncError(url, f"HTTP {exc.code}") from exc
    except urllib.error.URLError as exc:
        raise SyncError(url, str(exc.reason)) from exc
    except (OSError, ValueError) as exc:  # timeouts, resets, malformed responses
        raise SyncError(url, str(exc) or type(exc).__name__) from exc
    if len(body) > max_size:
        raise TooLargeError(f"response from {url}", max_size)
    return body


def _text(body: bytes, url: str) -> str:
    try:
        return body.decode("ascii").strip()
    except UnicodeDecodeError as exc:
        raise MalformedError(f"{url} did not return a compact JWS") from exc


def sync(
    base_url: str, cache: VerifierCache, *, now: int, root_pem: bytes | None = None, timeout: float = 10
) -> SyncSummary:
    """Update ``cache`` from ``base_url`` (the wallet API's public URL).

    ``root_pem`` pins the root on first use (a different root than the pinned one is refused). The trust
    list must be accepted (a rollback or a bad signature raises); status lists that fail are reported in
    ``failures`` and the rest are still taken.
    """
    base = base_url.rstrip("/")
    _check_url(base)
    if root_pem is not None:
        cache.pin_root(root_pem)
    cache.root_key()  # CacheError now, before any network access, when no root is pinned

    trust_url = f"{base}/trustlist.jwt"
    trust = cache.accept_trust_list(_text(fetch(trust_url, timeout=timeout), trust_url), now)

    uris: list[str] = []
    failures: list[tuple[str, str]] = []
    aggregation_url = f"{base}/statuslists"
    try:
        uris.extend(parse_aggregation(fetch(aggregation_url, timeout=timeout)))
    except CredentialError as exc:  # the signed trust list still names the lists
        failures.append((aggregation_url, str(exc)))
    uris.extend(trust.status_lists)

    accepted: list[str] = []
    for uri in dict.fromkeys(uris):  # union, in order, without duplicates
        try:
            token = _text(fetch(uri, timeout=timeout), uri)
            cache.accept_status_list(uri, token, now)
        except (CredentialError, VerifierError) as exc:
            failures.append((uri, str(exc)))
        else:
            accepted.append(uri)
    return SyncSummary(trust.version, tuple(accepted), tuple(failures))
