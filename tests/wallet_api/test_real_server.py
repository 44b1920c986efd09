"""Against a real threaded HTTP server: limits on streamed bodies, garbage on the socket.

(The concurrent single-use races and the whole flow over HTTP are in test_concurrency.py.)"""

from __future__ import annotations

import http.client
import json
import socket
import urllib.error
import urllib.parse
import urllib.request

import pytest
from werkzeug.serving import BaseWSGIServer

from issuer.model import Offer
from issuer.service import IssuerService
from tests.wallet_api.support import PRE_AUTH_GRANT


def post_chunked(server: BaseWSGIServer, path: str, parts: list[bytes], headers: dict[str, str]) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=30)
    try:
        connection.request("POST", path, body=iter(parts), encode_chunked=True, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@pytest.mark.parametrize("padding", [64 * 1024 - 8, 64 * 1024 + 1, 200 * 1024])
def test_a_chunked_body_at_or_over_the_limit_is_413_never_truncated(
    server: BaseWSGIServer, service: IssuerService, offer: Offer, padding: int
) -> None:
    # No Content-Length: werkzeug only cuts such a body at the limit; the API must refuse it, not parse a prefix.
    token = service.redeem(offer.pre_authorized_code, offer.tx_code)
    body = b'{"credential_configuration_id":"residence_permit_sd_jwt"}' + b" " * padding
    status, payload = post_chunked(server, "/credential", [body[i:i + 4096] for i in range(0, len(body), 4096)],
                                   {"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
    assert status == 413
    assert json.loads(payload)["error"] == "invalid_request"
    form = b"grant_type=" + PRE_AUTH_GRANT.encode() + b"&pre-authorized_code=x&tx_code=" + b"1" * padding
    status, payload = post_chunked(server, "/token", [form], {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 413
    assert json.loads(payload)["error"] == "invalid_request"


def test_a_chunked_body_under_the_limit_is_read_whole(server: BaseWSGIServer, offer: Offer) -> None:
    form = urllib.parse.urlencode({"grant_type": PRE_AUTH_GRANT, "pre-authorized_code": offer.pre_authorized_code,
                                   "tx_code": offer.tx_code}).encode()
    status, payload = post_chunked(server, "/token", [form[:10], form[10:]],
                                   {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 200, payload
    assert "access_token" in json.loads(payload)


def test_the_server_answers_garbage_with_json_not_a_traceback(server: BaseWSGIServer) -> None:
    with socket.create_connection(("127.0.0.1", server.server_port), timeout=10) as sock:
        sock.sendall(b"POST /nonce HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nConnection: close\r\n\r\n\xff\xfe\xfd")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert "c_nonce" in json.loads(body)


def test_a_chunked_body_of_exactly_the_limit_is_accepted(
    server: BaseWSGIServer, service: IssuerService, offer: Offer
) -> None:
    token = service.redeem(offer.pre_authorized_code, offer.tx_code)
    head = b'{"credential_configuration_id":"residence_permit_sd_jwt"}'
    body = head + b" " * (64 * 1024 - len(head))
    status, payload = post_chunked(server, "/credential", [body[i:i + 1000] for i in range(0, len(body), 1000)],
                                   {"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
    assert (status, json.loads(payload)["error"]) == (400, "invalid_proof")  # parsed whole: it lacks proofs
