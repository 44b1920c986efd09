"""sync(): a tiny stdlib HTTP server on 127.0.0.1:0 serves the documents; everything goes through accept_*."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from credential.errors import RollbackError, TooLargeError
from credential.qrpass import encode_pass, live_qr_text
from credential.statuslist import INVALID
from tests.conftest import T0
from tests.verifier.conftest import World
from verifier.cache import VerifierCache, status_file_name
from verifier.errors import NoRootError, SyncError
from verifier.policy import Policy
from verifier.result import Result
from verifier.sync import MAX_RESPONSE, STATUS_LIST_ACCEPT, fetch, sync
from verifier.verify import verify


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        pass  # the client hanging up on an oversized body is the point of one test


class Site:
    """Documents by path; the handler serves them (and 404 for anything else)."""

    def __init__(self) -> None:
        self.documents: dict[str, bytes] = {}
        self.cwts: dict[str, bytes] = {}  # a path's CWT form, served when Accept names the CWT media type
        self.requests: list[str] = []
        self.hosts: list[str] = []  # the Host header of each request
        self.accepts: dict[str, str | None] = {}  # the last Accept header sent for each path
        self.server = QuietServer(("127.0.0.1", 0), self._handler())
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                site.requests.append(self.path)
                site.hosts.append(self.headers.get("Host", ""))
                site.accepts[self.path] = self.headers.get("Accept")
                wants_cwt = "application/statuslist+cwt" in (self.headers.get("Accept") or "")
                body = site.cwts.get(self.path) if wants_cwt and self.path in site.cwts else site.documents.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        return Handler


@pytest.fixture
def site() -> Iterator[Site]:
    served = Site()
    thread = threading.Thread(target=served.server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield served
    served.server.shutdown()
    served.server.server_close()
    thread.join()


def publish(site: Site, world: World, *, version: int = 1, trust_at: int = T0 - 3600,
            status_at: int = T0 - 3600) -> tuple[str, str]:
    list1, list2 = f"{site.base}/statuslists/1", f"{site.base}/statuslists/2"
    site.documents["/trustlist.jwt"] = world.ring.trust_list_token(
        issuer=site.base, now=trust_at, version=version, status_lists=[list1],
        aggregation_uri=f"{site.base}/statuslists").encode()
    # list 2 is named only by the aggregation: sync takes the union
    site.documents["/statuslists"] = json.dumps({"status_lists": [list1, list2]}).encode()
    for uri in (list1, list2):
        site.documents[uri.removeprefix(site.base)] = world.status_token(now=status_at, uri=uri).encode()
    return list1, list2


def test_sync_fetches_trust_list_and_every_status_list(site: Site, world: World, cache: VerifierCache) -> None:
    list1, list2 = publish(site, world)
    summary = sync(site.base, cache, now=T0, root_pem=world.root_pem)
    assert summary.ok and summary.trust_version == 1
    assert set(summary.status_lists) == {list1, list2}
    assert cache.status_list(list1) is not None and cache.status_list(list2) is not None
    assert cache.trust_fetched_at() == T0 and cache.status_fetched_at(list2) == T0

    # A pass pointing at list 1, revoked there: the next sync brings the news; verify never fetches.
    cose = encode_pass(world.permit, signer=world.credential_signer, holder_key=world.holder.public_key,
                       status_uri=list1, status_idx=3, now=T0 - 86400)
    qr = live_qr_text(cose, holder_signer=world.holder, now=T0)
    assert verify(qr, cache, policy=Policy(), now=T0).result is Result.VALID
    world.statuses.set(3, INVALID)
    publish(site, world, status_at=T0 - 60)
    fetched = len(site.requests)
    assert verify(qr, cache, policy=Policy(), now=T0).result is Result.VALID  # old data until synced
    assert len(site.requests) == fetched
    sync(site.base + "/", cache, now=T0)
    assert verify(qr, cache, policy=Policy(), now=T0).result is Result.REVOKED


def test_sync_needs_a_pinned_root(site: Site, world: World, cache: VerifierCache) -> None:
    publish(site, world)
    with pytest.raises(NoRootError, match="no root pinned"):
        sync(site.base, cache, now=T0)
    assert site.requests == []  # refused before any network access


def test_sync_refuses_a_rolled_back_trust_list(site: Site, world: World, cache: VerifierCache) -> None:
    publish(site, world, version=2)
    sync(site.base, cache, now=T0, root_pem=world.root_pem)
    publish(site, world, version=1, trust_at=T0 - 60)
    with pytest.raises(RollbackError):
        sync(site.base, cache, now=T0)
    held = cache.trust_list()
    assert held is not None and held.version == 2


def test_failing_status_lists_are_reported_not_fatal(site: Site, world: World, cache: VerifierCache) -> None:
    list1, _ = publish(site, world)
    del site.documents["/statuslists/2"]
    site.documents["/statuslists"] = b"not json"
    summary = sync(site.base, cache, now=T0, root_pem=world.root_pem)
    assert summary.status_lists == (list1,)  # the trust list still names list 1
    assert {uri for uri, _ in summary.failures} == {f"{site.base}/statuslists"}
    assert not summary.ok


def test_fetch_caps_and_schemes(site: Site, tmp_path: Path) -> None:
    site.documents["/big"] = b"A" * (MAX_RESPONSE + 1)
    with pytest.raises(TooLargeError):
        fetch(f"{site.base}/big", timeout=5)
    with pytest.raises(SyncError, match="HTTP 404"):
        fetch(f"{site.base}/missing", timeout=5)
    (tmp_path / "x").write_text("secret")
    for url in (f"file://{tmp_path}/x", "ftp://example.org/x", "javascript:alert(1)"):
        with pytest.raises(SyncError, match="only http"):
            fetch(url, timeout=5)


def test_unreachable_server_is_a_sync_error(world: World, cache: VerifierCache) -> None:
    cache.pin_root(world.root_pem)
    with pytest.raises(SyncError):
        sync("http://127.0.0.1:9", cache, now=T0, timeout=2)


# --- the index is untrusted input (unsigned): only its well-formed entries on the trust list's hosts ---


def _poisoned(site: Site) -> list[str]:
    port = site.server.server_address[1]
    return [
        f"{site.base}/statuslists/2\x1b[2J\x1b[32mVALID",  # a terminal escape: http.client refuses the URL
        f"{site.base}/statuslists/\u202e2",  # a bidi override
        f"{site.base}/statuslists/ 2",
        f"http://localhost:{port}/statuslists/2",  # the same server under a host the trust list does not name
        f"https://127.0.0.1:{port}/statuslists/2",  # https is allowed; this host is named with http only
        f"http://user@127.0.0.1:{port}/statuslists/2",
        "file:///etc/passwd",
    ]


def test_a_poisoned_index_is_skipped_and_every_list_is_still_refreshed(site: Site, world: World,
                                                                       cache: VerifierCache) -> None:
    list1, list2 = publish(site, world)
    sync(site.base, cache, now=T0, root_pem=world.root_pem)
    cose = encode_pass(world.permit, signer=world.credential_signer, holder_key=world.holder.public_key,
                       status_uri=list1, status_idx=3, now=T0 - 86400)
    qr = live_qr_text(cose, holder_signer=world.holder, now=T0)
    world.statuses.set(3, INVALID)
    publish(site, world, status_at=T0 - 60)
    poison = _poisoned(site)
    site.documents["/statuslists"] = json.dumps({"status_lists": [*poison, list2]}).encode()
    site.hosts.clear()

    summary = sync(site.base, cache, now=T0)  # the old code raised http.client.InvalidURL here

    assert summary.status_lists == (list1, list2)  # the trust list's own first, then the index's good one
    assert verify(qr, cache, policy=Policy(), now=T0).result is Result.REVOKED  # the news arrived
    [(where, line)] = summary.failures  # one line for the whole index
    assert where == f"{site.base}/statuslists"
    assert line.isprintable() and line.startswith(f"ignored {len(poison)} of {len(poison) + 1} index entries")
    assert "\\x1b[2J" in line and "\\u202e" in line and "not named by the trust list" in line
    assert set(site.hosts) == {site.base.removeprefix("http://")}  # nothing fetched from a host not named


def test_a_bad_uri_in_the_signed_trust_list_is_reported_not_fatal(site: Site, world: World,
                                                                  cache: VerifierCache) -> None:
    list1, list2 = publish(site, world)
    site.documents["/trustlist.jwt"] = world.ring.trust_list_token(
        issuer=site.base, now=T0 - 3600, version=1, status_lists=[f"{site.base}/statuslists/3\r\nX: y", list1],
        aggregation_uri=None).encode()
    summary = sync(site.base, cache, now=T0, root_pem=world.root_pem)
    assert summary.status_lists == (list1, list2)
    [(uri, reason)] = summary.failures
    assert uri.endswith("\r\nX: y") and "not printable" in reason


def test_sync_command_output_escapes_what_the_server_sent(site: Site, world: World, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    import time

    from verifier.cli import main_verify

    now = int(time.time())  # the command judges at the real clock
    list1, list2 = publish(site, world, trust_at=now - 3600, status_at=now - 60)
    site.documents["/trustlist.jwt"] = world.ring.trust_list_token(
        issuer=site.base, now=now - 3600, version=1, status_lists=[list1, f"{site.base}/x\x1b]0;owned\x07"],
        aggregation_uri=None).encode()
    site.documents["/statuslists"] = json.dumps({"status_lists": [*_poisoned(site), list2]}).encode()
    root = tmp_path / "root.pem"
    root.write_bytes(world.root_pem)
    assert main_verify(["sync", site.base, "--cache", str(tmp_path / "c"), "--root", str(root)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "trust list version 1; 2 status list(s) updated\n"
    index, signed = captured.err.splitlines()
    assert index.isprintable() and "\\x1b" in index and "\\u202e" in index
    assert signed.isprintable() and signed.startswith(f"warning: {site.base}/x\\x1b]0;owned\\x07: ")


# --- the CWT form (issue 14) ------------------------------------------------------------------------------


def test_sync_asks_for_the_cwt_keeps_it_and_judges_by_it(site: Site, world: World, cache: VerifierCache) -> None:
    list1, list2 = publish(site, world)
    world.statuses.set(3, INVALID)
    for uri in (list1, list2):  # only the CWT says 3 is revoked: a verdict of REVOKED proves it was used
        site.cwts[uri.removeprefix(site.base)] = world.status_cwt(now=T0 - 60, uri=uri)
    summary = sync(site.base, cache, now=T0, root_pem=world.root_pem)
    assert summary.ok and set(summary.status_lists) == {list1, list2}
    assert site.accepts["/statuslists/1"] == site.accepts["/statuslists/2"] == STATUS_LIST_ACCEPT
    assert STATUS_LIST_ACCEPT == "application/statuslist+cwt, application/statuslist+jwt;q=0.5"
    assert site.accepts["/trustlist.jwt"] is None  # only the status lists have two forms
    held = sorted(p.name for p in (cache.directory / "status").iterdir())
    assert held == sorted(status_file_name(uri, "cwt") for uri in (list1, list2))
    cose = encode_pass(world.permit, signer=world.credential_signer, holder_key=world.holder.public_key,
                       status_uri=list1, status_idx=3, now=T0 - 86400)
    qr = live_qr_text(cose, holder_signer=world.holder, now=T0)
    assert verify(qr, VerifierCache(cache.directory), policy=Policy(), now=T0).result is Result.REVOKED


def test_sync_keeps_the_jwt_from_a_server_without_the_cwt(site: Site, world: World, cache: VerifierCache) -> None:
    list1, _ = publish(site, world)  # no CWT forms: the server ignores Accept, as an older one would
    assert sync(site.base, cache, now=T0, root_pem=world.root_pem).ok
    assert (cache.directory / "status" / status_file_name(list1, "jwt")).is_file()
    assert cache.status_list(list1) is not None


def test_a_rolled_back_cwt_is_refused_by_sync(site: Site, world: World, cache: VerifierCache) -> None:
    list1, _ = publish(site, world)
    site.cwts["/statuslists/1"] = world.status_cwt(now=T0 - 60, uri=list1)
    sync(site.base, cache, now=T0, root_pem=world.root_pem)
    site.cwts["/statuslists/1"] = world.status_cwt(now=T0 - 120, uri=list1)
    summary = sync(site.base, cache, now=T0)
    assert [uri for uri, _ in summary.failures] == [list1]
    assert "issued at" in summary.failures[0][1]
