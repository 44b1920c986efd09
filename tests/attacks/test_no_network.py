"""Verification never opens a network connection: every socket entry point raises while each kind of token
is verified (a credential naming jku/x5u URLs included), and no attempt is recorded."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from credential.qrpass import decode_qr_text, verify_live_proof, verify_pass
from credential.sdjwt import verify_sd_jwt_vc
from credential.statuslist import verify_status_list_token
from credential.trustlist import TrustedKey, verify_trust_list
from tests.attacks.forge import resign
from tests.attacks.support import expect, issuer_jwt, with_jwt
from tests.conftest import T0
from tests.verifier.conftest import STATUS_URI, World
from verifier.cache import VerifierCache
from verifier.cli import main_verify
from verifier.policy import Policy
from verifier.result import Result


class NetworkUsedError(AssertionError):
    pass


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    attempts: list[str] = []

    def refuse(name: str) -> Any:
        def blocked(*args: object, **kwargs: object) -> Any:
            attempts.append(name)
            raise NetworkUsedError(f"verification tried {name}{args[1:2]}")

        return blocked

    monkeypatch.setattr(socket.socket, "connect", refuse("socket.connect"))
    monkeypatch.setattr(socket.socket, "connect_ex", refuse("socket.connect_ex"))
    monkeypatch.setattr(socket.socket, "sendto", refuse("socket.sendto"))
    monkeypatch.setattr(socket, "create_connection", refuse("create_connection"))
    monkeypatch.setattr(socket, "getaddrinfo", refuse("getaddrinfo"))
    monkeypatch.setattr(socket, "gethostbyname", refuse("gethostbyname"))
    yield attempts
    assert attempts == []


def test_the_guard_works(no_network: list[str]) -> None:
    with pytest.raises(NetworkUsedError):
        socket.create_connection(("127.0.0.1", 9))
    no_network.clear()


def test_verify_every_kind_offline(world: World, cache: VerifierCache, no_network: list[str]) -> None:
    world.fill(cache)  # importing the trust list and a status list is offline too
    sd = world.sd_jwt()
    expect(Result.VALID, world.live_qr(), cache)
    expect(Result.VALID, world.static_qr(), cache)
    expect(Result.VALID, sd, cache)
    expect(Result.VALID, world.presentation(), cache, Policy(require_live=True))
    for name in ("jku", "x5u"):
        forged = resign(issuer_jwt(sd), world.credential_signer, header={name: "https://attacker.example/k"})
        expect(Result.MALFORMED, with_jwt(sd, forged), cache)
    cache.accept_status_list(STATUS_URI, world.status_token(now=T0 - 30), T0)
    cache.accept_trust_list(world.trust_token(version=2, now=T0 - 30), T0)
    expect(Result.VALID, world.live_qr(), cache)


def test_entry_points_offline(world: World, no_network: list[str]) -> None:
    ring = world.ring

    def credential_key(kid: str) -> Any:
        assert kid == world.credential_signer.kid
        return world.credential_signer.public_key

    def trusted_credential_key(kid: str) -> TrustedKey:
        return ring.trust_list(issuer="https://permits.example.gov.cn", now=T0, version=1, status_lists=[],
                               aggregation_uri=None).key_for(kid, purpose="credential", now=T0)

    decoded = decode_qr_text(world.live_qr())
    verified = verify_pass(decoded, resolve_key=trusted_credential_key, now=T0)
    verify_live_proof(decoded, verified.holder_key, now=T0)
    verify_sd_jwt_vc(world.presentation(), resolve_key=credential_key, now=T0, require_key_binding=True)
    verify_status_list_token(world.status_token(), uri=STATUS_URI, now=T0,
                             resolve_key=lambda kid: world.status_signer.public_key)
    verify_trust_list(world.trust_token(), root_key=ring.root.public_key, now=T0)  # type: ignore[attr-defined]


def test_cli_verify_offline(world: World, cache: VerifierCache, tmp_path: Path, no_network: list[str],
                            capsys: pytest.CaptureFixture[str]) -> None:
    world.fill(cache)
    file = tmp_path / "credential.txt"
    file.write_text(world.presentation())
    main_verify([str(file), "--cache", str(cache.directory), "--json"])  # the CLI reads the real clock
    data = json.loads(capsys.readouterr().out)
    assert data["result"] in set(Result) and data["reason"] and data["format"] == "sd_jwt_vc"
