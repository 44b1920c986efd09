"""`epermit serve --redis`: both APIs under gunicorn (3 workers each) on one Redis, hit by concurrent clients."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from credential.samples import AUTHORITY_CODE, AUTHORITY_NAME
from epermit.http_client import HttpError, request
from issuer.keyed import KeyedHash
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
