"""token-status-list (the OWF Python implementation of the IETF Token Status List) decodes the lists our
real issuer publishes: every delivered index reads back the state we set (valid, suspended, revoked)."""

from __future__ import annotations

import json
import ssl
import urllib.request
import zlib
from typing import Any

import cbor2

from credential.encoding import b64url_decode
from keys.signers import KeySigner
from tests.peers.conftest import LiveIssuer, require_peer

CWT_MEDIA_TYPE = "application/statuslist+cwt"
CWT_STATUS_LIST = 65533  # the status_list claim key (draft-ietf-oauth-status-list, CWT claims registry)


class CwtStatusListMissingError(AssertionError):
    """The issuer answered the CWT media type with something else: CWT lists are not served yet."""


def bit_array() -> Any:
    try:
        from token_status_list import BitArray
    except ImportError:
        require_peer(False, "the Python package token-status-list (dev extra)")
    return BitArray


def fetch(issuer: LiveIssuer, url: str, accept: str) -> tuple[str, bytes]:
    context = ssl.create_default_context(cafile=str(issuer.ca_file))
    request = urllib.request.Request(url, headers={"Accept": accept})
    try:
        with urllib.request.urlopen(request, context=context, timeout=30) as response:
            return response.headers.get_content_type(), response.read()
    except urllib.error.HTTPError as exc:
        return f"HTTP {exc.code}", exc.read()


def three_states(issuer: LiveIssuer) -> dict[tuple[str, int], int]:
    """Three delivered credentials: one left valid, one suspended, one revoked; (status uri, idx) -> value."""
    expected: dict[tuple[str, int], int] = {}
    for action, value in ((None, 0), ("suspend", 2), ("revoke", 1)):
        offer = issuer.offer()
        token = issuer.service.redeem(offer.pre_authorized_code, offer.tx_code)
        [delivered] = issuer.service.deliver(token, [KeySigner.generate("ES256").public_key], offer.configuration_ids[0])
        if action is not None:
            getattr(issuer.service, action)(offer.record_id, officer="supervisor-0001", reason="peer test")
        expected[(delivered.status_uri, delivered.status_idx)] = value
    return expected


def test_token_status_list_decodes_our_jwt_lists(issuer: LiveIssuer) -> None:
    bit_array_class = bit_array()
    expected = three_states(issuer)
    for (uri, idx), value in expected.items():
        media_type, body = fetch(issuer, uri, "application/statuslist+jwt")
        assert media_type == "application/statuslist+jwt", (media_type, body[:200])
        payload = json.loads(b64url_decode(body.decode("ascii").split(".")[1]))
        lst = bit_array_class.load(payload["status_list"])
        assert lst.get(idx) == value
        assert payload["sub"] == uri


def test_token_status_list_decodes_our_cwt_lists(issuer: LiveIssuer) -> None:
    bit_array_class = bit_array()
    expected = three_states(issuer)
    for (uri, idx), value in expected.items():
        media_type, body = fetch(issuer, uri, CWT_MEDIA_TYPE)
        if media_type != CWT_MEDIA_TYPE:
            raise CwtStatusListMissingError(f"{uri} answered {media_type}")
        sign1 = cbor2.loads(body)
        sign1 = sign1.value if isinstance(sign1, cbor2.CBORTag) else sign1  # COSE_Sign1 is tag 18
        claims = cbor2.loads(sign1[2])
        status_list = claims[CWT_STATUS_LIST]
        lst = bit_array_class(status_list["bits"], zlib.decompress(status_list["lst"]))
        assert lst.get(idx) == value
