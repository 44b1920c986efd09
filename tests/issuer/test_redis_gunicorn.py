"""`epermit serve --redis`: both APIs under gunicorn (3 workers each) on one Redis, hit by concurrent clients."""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import IO, Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from credential.samples import AUTHORITY_CODE, AUTHORITY_NAME
from epermit.http_client import HttpError, request
from issuer.keyed import KeyedHash
from issuer.totp import code_at
from keys import init_keys

from .outage import sample
from .redis_office import OfficeClient, pick_up, registration_card, seed_officers
from .redis_server import REDIS_SERVER, RedisServer, free_port

pytestmark = [pytest.mark.slow, pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server is not installed")]
ROOT = Path(__file__).resolve().parents[2]
PASSPHRASE = "correct horse battery staple"
CLIENTS = 6
ISSUES_PER_CLIENT = 4
METRICS_TOKEN = "scrape-" + "s" * 32


def wait_until_up(url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "epermit serve exited"
        try:
            request(url, timeout=2)
            return
        except HttpError:
            return  # any HTTP answer: gunicorn serves
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not come up")


def serve(args: list[str], env: dict[str, str], stderr: IO[bytes] | int = subprocess.PIPE) -> subprocess.Popen[bytes]:
    """``stderr``: a file for a long run (the workers' JSON request logs would fill an unread pipe)."""
    return subprocess.Popen([sys.executable, "-m", "epermit.cli", "serve", "--insecure-http", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=stderr)


def test_serve_redis_refuses_an_unsafe_redis(tmp_path: Path) -> None:
    server = RedisServer(tmp_path / "redis", durable=False).start()
    try:
        init_keys(tmp_path / "data" / "keys", PASSPHRASE.encode(), AUTHORITY_CODE, AUTHORITY_NAME, int(time.time()))
        env = {**os.environ, "EPERMIT_KEY_PASSPHRASE": PASSPHRASE}
        done = serve(["--redis", server.url, "--data", str(tmp_path / "data")], env)
        _, err = done.communicate(timeout=60)
        assert done.returncode == 2 and b"appendonly" in err
    finally:
        server.stop()


def test_gunicorn_workers_on_one_redis(tmp_path: Path) -> None:
    from issuer.store.redis import RedisStore

    server = RedisServer(tmp_path / "redis").start()
    ring = init_keys(tmp_path / "data" / "keys", PASSPHRASE.encode(), AUTHORITY_CODE, AUTHORITY_NAME, int(time.time()))
    officer_port, wallet_port = free_port(), free_port()
    verifier_cas = tmp_path / "verifier-cas.pem"
    verifier_cas.write_bytes(ring.root_certificate.public_bytes(Encoding.PEM))  # any CA certificate will do
    env = {**os.environ, "EPERMIT_KEY_PASSPHRASE": PASSPHRASE, "EPERMIT_WORKERS": "3",
           "EPERMIT_METRICS_TOKEN": METRICS_TOKEN, "EPERMIT_VERIFIER_CA_FILE": str(verifier_cas)}
    env.pop("EPERMIT_REDIS_URL", None)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    log = (tmp_path / "serve.log").open("wb")
    process = serve(["--redis", server.url, "--data", str(tmp_path / "data"), "--officer-port", str(officer_port),
                     "--wallet-port", str(wallet_port)], env, stderr=log)
    store = RedisStore.from_url(server.url)
    try:
        public_url = f"http://127.0.0.1:{wallet_port}"
        wait_until_up(f"{public_url}/statuslists", process)
        wait_until_up(f"http://127.0.0.1:{officer_port}/api/v1/records/x", process)
        client = OfficeClient(f"http://127.0.0.1:{officer_port}", seed_officers(store, KeyedHash(ring.store_secret)))
        results: list[tuple[str, int]] = []
        errors: list[BaseException] = []
        lock = threading.Lock()

        def issue(n: int) -> None:
            try:
                for k in range(ISSUES_PER_CLIENT):
                    record_id = client.register(registration_card(100 + n * ISSUES_PER_CLIENT + k))
                    found = pick_up(*client.offer(record_id))
                    with lock:
                        results.extend(found)
            except BaseException as exc:
                errors.append(exc)

        started = time.monotonic()
        threads = [threading.Thread(target=issue, args=(n,)) for n in range(CLIENTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
        assert errors == []
        assert len(results) == len(set(results)) == CLIENTS * ISSUES_PER_CLIENT  # no index handed out twice
        print(f"\ngunicorn 3+3 workers: {len(results)} pick-ups (register, offer, token, 2 credentials) in "
              f"{elapsed:.2f} s = {len(results) / elapsed:.1f}/s")
        token = request(f"{public_url}/statuslists/1")
        assert token.headers["Content-Type"].startswith("application/statuslist+jwt")
        for answer in (token, request(f"http://127.0.0.1:{officer_port}/openapi.json")):
            # gunicorn names itself without a version; the apps add the security headers.
            assert answer.headers["Server"] == "gunicorn" and answer.headers["X-Content-Type-Options"] == "nosniff"
        # One scrape of the officer API adds up every worker of both servers (multiprocess mode).
        scraped = request(f"http://127.0.0.1:{officer_port}/metrics",
                          headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).body.decode()
        assert sample(scraped, "epermit_credentials_delivered_total") == 3 * len(results)  # three encodings each
        assert sample(scraped, "epermit_http_requests_total", api="officer", route="/api/v1/records", method="POST",
                      status="201") == len(results)
        assert request(f"{public_url}/readyz").status == 200
        # The web wallet's CAs for online verifiers: the operator's EPERMIT_VERIFIER_CA_FILE.
        [ca] = json.loads(request(f"{public_url}/wallet/verifiers.json").body)["certificates"]
        assert base64.b64decode(ca) == ring.root_certificate.public_bytes(Encoding.DER)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
            store.close()
            server.stop()
            log.close()
    assert process.returncode == 0
    lines = [json.loads(line) for line in (tmp_path / "serve.log").read_text().splitlines() if line.startswith("{")]
    assert sum(1 for line in lines if line.get("event") == "request" and line["route"] == "/credential") == \
        3 * len(results)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the test reads each 302 and its cookie itself


def console_request(url: str, cookie: str = "", form: dict[str, str] | None = None) -> tuple[int, str, str]:
    """(status, body, session cookie) of one console request; the cookie sent by hand (it is Secure: a
    browser sends it to http://127.0.0.1, Python's cookie jar would not)."""
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    req = urllib.request.Request(url, data=data, headers={"Cookie": cookie} if cookie else {})
    try:
        answer = urllib.request.build_opener(_NoRedirect).open(req, timeout=10)
    except urllib.error.HTTPError as exc:
        answer = exc
    set_cookie = answer.headers.get("Set-Cookie", "")
    return answer.status, answer.read().decode(), set_cookie.split(";")[0] or cookie


def test_serve_redis_prints_the_console_where_officers_sign_in_with_password_and_totp(tmp_path: Path) -> None:
    """The office machine's CLI sets the officer up on the Redis store (item 17), `serve --redis` prints the
    console's URL (item 9), and the officer signs in there with the password and the app's code (item 7)."""
    server = RedisServer(tmp_path / "redis").start()
    init_keys(tmp_path / "data" / "keys", PASSPHRASE.encode(), AUTHORITY_CODE, AUTHORITY_NAME, int(time.time()))
    console_secret = tmp_path / "console-secret"
    console_secret.write_text(secrets.token_urlsafe(48))
    console_secret.chmod(0o600)
    env = {**os.environ, "EPERMIT_KEY_PASSPHRASE": PASSPHRASE, "EPERMIT_WORKERS": "1",
           "EPERMIT_CONSOLE_SECRET_FILE": str(console_secret), "EPERMIT_OFFICER_PASSWORD": "li na's long password"}
    for name in ("EPERMIT_REDIS_URL", "EPERMIT_METRICS_TOKEN", "EPERMIT_CONSOLE_SECRET", "EPERMIT_REDIS_PREFIX"):
        env.pop(name, None)
    location = ["--data", str(tmp_path / "data"), "--redis", server.url]

    def officers(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "epermit.cli", "officers", *args, *location], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=60, check=False)

    assert officers("add", "--id", "li", "--name", "李娜", "--role", "clerk", "--district", "110105").returncode == 0
    assert officers("set-password", "--id", "li").returncode == 0
    enrolled = officers("enrol-totp", "--id", "li", "--qr", str(tmp_path / "li.svg"))
    assert enrolled.returncode == 0, enrolled.stderr
    [uri] = [line for line in enrolled.stdout.splitlines() if line.startswith("otpauth://")]
    key = urllib.parse.parse_qs(urllib.parse.urlsplit(uri).query)["secret"][0]
    secret = base64.b32decode(key + "=" * (-len(key) % 8))
    assert not (tmp_path / "data" / "epermit.sqlite3").exists()  # all of it on Redis

    officer_port, wallet_port = free_port(), free_port()
    log = (tmp_path / "serve.log").open("wb")
    process = serve([*location, "--officer-port", str(officer_port), "--wallet-port", str(wallet_port)], env,
                    stderr=log)
    try:
        assert process.stdout is not None
        printed = [process.stdout.readline().decode() for _ in range(3)]
        console = f"http://127.0.0.1:{officer_port}/officer/"
        assert printed[2].split() == ["officer", "console", console], printed
        wait_until_up(f"{console}login", process)
        status, page, cookie = console_request(f"{console}login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page)
        assert status == 200 and csrf is not None
        form = {"csrf": csrf.group(1), "officer_id": "li", "password": "li na's long password"}
        assert console_request(f"{console}login", cookie, {**form, "code": "12345"})[0] == 401
        status, _, cookie = console_request(f"{console}login", cookie, {**form, "code": code_at(secret, int(time.time()))})
        assert status == 302
        status, page, _ = console_request(console, cookie)
        assert status == 200 and "李娜" in page and 'id="search"' in page
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
            server.stop()
            log.close()
