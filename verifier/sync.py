"""Fetch the trust list and every status list into the verifier cache: the verifier's only network access.

Everything fetched goes through the same VerifierCache.accept_* checks as a file from a USB stick, so the
server (or a CDN, or an attacker in between) is trusted for nothing but availability.

The aggregation index (``/statuslists``) is unsigned: it can only add lists the signed trust list does not
name yet (lists opened since it was signed). Its entries are untrusted input: each must be printable ASCII,
use the configured scheme (https; http too only when the base URL is http) and name the scheme, host and
port of a list the trust list names; anything else is skipped and reported in one line. The trust list's
own lists are fetched first and always, whatever the index says.

Status lists are asked for in their CWT form (``Accept`` prefers application/statuslist+cwt, a quarter
smaller) and kept as received; a server that only speaks JWT answers with the JWT, which is kept instead.
"""

from __future__ import annotations

import functools
import re
import unicodedata
import urllib.parse
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the HTTP stack (ssl, sockets, email headers) loads on the first fetch, not for a scan
    import ssl
    import urllib.request

from credential.errors import CredentialError, MalformedError, TooLargeError
from credential.statuslist import CWT_MEDIA_TYPE, JWT_MEDIA_TYPE, is_cwt, parse_aggregation
from verifier.cache import VerifierCache
from verifier.errors import SyncError, VerifierError
from verifier.report import escaped

MAX_RESPONSE = 4 * 1024 * 1024
USER_AGENT = "epermit-verifier"
STATUS_LIST_ACCEPT = f"{CWT_MEDIA_TYPE}, {JWT_MEDIA_TYPE};q=0.5"  # the CWT, else the JWT (an older server)
MAX_QUOTED_URI = 120  # characters of an index entry quoted in the line that reports skipped ones
# RFC 3986 URIs are printable ASCII without spaces: no control, line break, bidi override or look-alike.
_URI_CHARACTERS = re.compile(r"[!-~]+")
_DEFAULT_PORTS = {"http": 80, "https": 443}
Origin = tuple[str, str, int]  # scheme, host (lower case), port


@dataclass(frozen=True)
class SyncSummary:
    """What one sync did. URIs and reasons may quote what a server sent: escape them before printing."""

    trust_version: int
    status_lists: tuple[str, ...]  # URIs accepted (or already held at least as new)
    # (URI, reason) of each status list that could not be updated, and (index URL, reason) when the
    # index could not be read or entries of it were skipped (one line for all of them)
    failures: tuple[tuple[str, str], ...]

    @property
    def ok(self) -> bool:
        return not self.failures


def _character_problem(url: str) -> str:
    """Which kind of character keeps ``url`` from being a printable ASCII URI, worst first."""
    categories = {unicodedata.category(c) for c in url}
    if "Cc" in categories:
        return "not printable: a control character"
    if "Cf" in categories:
        return "not printable: a bidi or invisible formatting character"
    if any(c.isspace() for c in url):
        return "not printable: white space"
    return "not printable ASCII: a non-ASCII character" if url else "empty"


def _origin(url: str) -> Origin | str:
    """The URL's (scheme, host, port), or why it is not a URL this verifier fetches."""
    if not _URI_CHARACTERS.fullmatch(url):
        return _character_problem(url)
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in _DEFAULT_PORTS:
        return "only http and https URLs are fetched"
    if parts.username is not None or parts.password is not None:
        return "user information in the URL"
    try:
        port = parts.port
    except ValueError:
        return "invalid port"
    if not parts.hostname:
        return "no host"
    return parts.scheme, parts.hostname, port if port is not None else _DEFAULT_PORTS[parts.scheme]


def _check_url(url: str) -> None:
    origin = _origin(url)
    if isinstance(origin, str):
        raise SyncError(url, origin)


@functools.cache
def _http_only_redirects() -> type[urllib.request.HTTPRedirectHandler]:
    """The redirect handler that checks every hop like the first URL (built on first use: see the imports)."""
    import http.client
    import urllib.request
    from typing import IO

    class HttpOnlyRedirects(urllib.request.HTTPRedirectHandler):
        def redirect_request(
            self, req: urllib.request.Request, fp: IO[bytes], code: int, msg: str,
            headers: http.client.HTTPMessage, newurl: str,
        ) -> urllib.request.Request | None:
            _check_url(newurl)
            return super().redirect_request(req, fp, code, msg, headers, newurl)

    return HttpOnlyRedirects


def fetch(url: str, *, timeout: float, max_size: int = MAX_RESPONSE, tls: ssl.SSLContext | None = None,
          accept: str | None = None) -> bytes:
    """GET ``url`` with a size cap checked on the declared length and again while reading; ``tls`` trusts a
    private CA (``epermit verify sync --ca FILE``) instead of the system's roots; ``accept``: the Accept
    header (the forms asked for)."""
    import http.client
    import urllib.error
    import urllib.request

    _check_url(url)
    handlers: list[urllib.request.BaseHandler] = [_http_only_redirects()()]
    if tls is not None:
        handlers.append(urllib.request.HTTPSHandler(context=tls))
    opener = urllib.request.build_opener(*handlers)
    headers = {"User-Agent": USER_AGENT} if accept is None else {"User-Agent": USER_AGENT, "Accept": accept}
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - scheme checked
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
    except (OSError, ValueError, http.client.HTTPException) as exc:  # timeouts, resets, malformed responses
        raise SyncError(url, str(exc) or type(exc).__name__) from exc
    if len(body) > max_size:
        raise TooLargeError(f"response from {url}", max_size)
    return body


def _text(body: bytes, url: str) -> str:
    try:
        return body.decode("ascii").strip()
    except UnicodeDecodeError as exc:
        raise MalformedError(f"{url} did not return a compact JWS") from exc


def _index_entries(offered: list[str], named: list[str], schemes: frozenset[str]) -> tuple[list[str], dict[str, list[str]]]:
    """(lists the index adds to the trust list's, skipped entries by problem): see the module docstring."""
    origins = {origin for origin in map(_origin, named) if not isinstance(origin, str)}
    extra: list[str] = []
    skipped: dict[str, list[str]] = {}
    for uri in dict.fromkeys(offered):
        if uri in named:
            continue
        origin = _origin(uri)
        if isinstance(origin, str):
            problem = origin
        elif origin[0] not in schemes:
            problem = f"scheme {origin[0]} where {' or '.join(sorted(schemes))} is configured"
        elif origin not in origins:
            problem = "scheme, host or port not named by the trust list"
        else:
            extra.append(uri)
            continue
        skipped.setdefault(problem, []).append(uri)
    return extra, skipped


def _skipped_line(skipped: dict[str, list[str]], total: int) -> str:
    """One printable line for every skipped entry: a count and one escaped example per problem."""
    count = sum(len(uris) for uris in skipped.values())
    parts = []
    for problem, uris in skipped.items():
        example = uris[0] if len(uris[0]) <= MAX_QUOTED_URI else uris[0][:MAX_QUOTED_URI] + "…"
        parts.append(f"{len(uris)} {problem}, e.g. '{escaped(example)}'")
    return f"ignored {count} of {total} index entries: " + "; ".join(parts)


def sync(
    base_url: str, cache: VerifierCache, *, now: int, root_pem: bytes | None = None, timeout: float = 10,
    tls: ssl.SSLContext | None = None,
) -> SyncSummary:
    """Update ``cache`` from ``base_url`` (the wallet API's public URL).

    ``root_pem`` pins the root on first use (a different root than the pinned one is refused). The trust
    list must be accepted (a rollback or a bad signature raises); every list it names is then fetched,
    then the lists the index adds (module docstring). A list that fails, or a skipped index entry, is
    reported in ``failures``, and the rest are still taken.
    """
    base = base_url.rstrip("/")
    _check_url(base)
    # https always; http only when the operator pointed the verifier at an http server (a loopback demo).
    schemes = frozenset({"https", urllib.parse.urlsplit(base).scheme})
    if root_pem is not None:
        cache.pin_root(root_pem)
    cache.root_key()  # NoRootError now, before any network access, when no root is pinned

    trust_url = f"{base}/trustlist.jwt"
    trust = cache.accept_trust_list(_text(fetch(trust_url, timeout=timeout, tls=tls), trust_url), now)

    named = list(dict.fromkeys(trust.status_lists))
    uris = list(named)  # first: a slow or hostile index cannot crowd out the lists the signed list names
    failures: list[tuple[str, str]] = []
    aggregation_url = f"{base}/statuslists"
    try:
        offered = parse_aggregation(fetch(aggregation_url, timeout=timeout, tls=tls))
    except (CredentialError, VerifierError) as exc:  # the signed trust list still names the lists
        failures.append((aggregation_url, str(exc)))
    else:
        extra, skipped = _index_entries(offered, named, schemes)
        uris.extend(extra)
        if skipped:
            failures.append((aggregation_url, _skipped_line(skipped, len(offered))))

    accepted: list[str] = []
    for uri in uris:
        try:
            body = fetch(uri, timeout=timeout, tls=tls, accept=STATUS_LIST_ACCEPT)
            # The bytes choose the verifier (either is strict), not the Content-Type a server claims.
            cache.accept_status_list(uri, body if is_cwt(body) else _text(body, uri), now)
        except (CredentialError, VerifierError) as exc:
            failures.append((uri, str(exc)))
        else:
            accepted.append(uri)
    return SyncSummary(trust.version, tuple(accepted), tuple(failures))
