"""What the resident gives the wallet to pick up: a pickup page URL, a wallet link, or an offer URI.

- ``https://<issuer>/pickup/<offer id>``: the link on every pickup sheet (issuer.model.pickup_url); the
  offer is at ``https://<issuer>/offers/<offer id>``, and the offer must name ``https://<issuer>`` as its
  credential issuer (a page of one issuer cannot send the wallet to another);
- any https URL with a ``credential_offer_uri`` parameter (the pickup page's wallet link);
- ``openid-credential-offer://?credential_offer_uri=...`` or ``...?credential_offer=<JSON>`` (OpenID4VCI 1.0
  §4.1), as other issuers' QR codes hold them.
The PIN is never part of a link; a link that carries a ``tx_code`` is refused rather than used.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass
from typing import Any

from credential.encoding import json_loads
from credential.errors import MalformedError
from epermit.errors import UsageError
from issuer.model import OFFER_SCHEME, offer_url

MAX_LINK = 4096
MAX_OFFER = 64 * 1024
_PRINTABLE_ASCII = re.compile(r"[!-~]+")
PICKUP_PATH = "/pickup/"


@dataclass(frozen=True)
class OfferSource:
    """Where the credential offer is: fetched from ``url``, or given by value in ``document``."""

    url: str | None
    document: dict[str, Any] | None
    issuer: str | None  # the credential issuer the link itself names (a pickup page's), else None


def https_url(url: str, *, what: str, allow_http: bool = False) -> str:
    """``url`` if it is an absolute https URL (http too with ``allow_http``: tests on loopback)."""
    parts = urllib.parse.urlsplit(url)
    schemes = ("https", "http") if allow_http else ("https",)
    if parts.scheme not in schemes or not parts.hostname or parts.username or parts.password:
        raise UsageError(f"{what} must be an https URL")
    return url


def offer_source(link: str, *, allow_http: bool = False) -> OfferSource:
    """The offer behind ``link`` (module docstring); UsageError for anything else."""
    link = link.strip()
    if not link or len(link) > MAX_LINK or not _PRINTABLE_ASCII.fullmatch(link):
        raise UsageError("a pickup link is one line of printable ASCII (the QR's text or the URL)")
    parts = urllib.parse.urlsplit(link)
    try:
        query = urllib.parse.parse_qs(parts.query, strict_parsing=bool(parts.query), max_num_fields=8)
    except ValueError as exc:
        raise UsageError("the link's query cannot be read") from exc
    if "tx_code" in query:
        raise UsageError("this link carries a PIN: a genuine pickup link never does; ask the officer")
    if link.startswith(OFFER_SCHEME) or "credential_offer_uri" in query or "credential_offer" in query:
        return _by_query(query, allow_http=allow_http)
    https_url(link, what="a pickup link", allow_http=allow_http)
    base, found, offer_id = link.partition(PICKUP_PATH)
    offer_id = urllib.parse.unquote(offer_id)
    if not found or not offer_id or "/" in offer_id or parts.query or parts.fragment:
        raise UsageError(f"not a pickup link: expected https://<issuer>{PICKUP_PATH}<offer id> or an "
                         f"{OFFER_SCHEME} URI")
    return OfferSource(offer_url(base, offer_id), None, base)


def _by_query(query: dict[str, list[str]], *, allow_http: bool) -> OfferSource:
    by_reference, by_value = query.get("credential_offer_uri", []), query.get("credential_offer", [])
    if len(by_reference) + len(by_value) != 1:
        raise UsageError("an offer URI holds exactly one credential_offer_uri or credential_offer")
    if by_reference:
        return OfferSource(https_url(by_reference[0], what="credential_offer_uri", allow_http=allow_http), None, None)
    try:
        document = json_loads(by_value[0], max_size=MAX_OFFER)
    except MalformedError as exc:
        raise UsageError(f"credential_offer is not JSON: {exc.reason}") from exc
    if not isinstance(document, dict):
        raise UsageError("credential_offer must be a JSON object")
    return OfferSource(None, document, None)
