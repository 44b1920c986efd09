"""A real deployment's login (issue 16): `epermit serve` on SQLite and `serve --redis` under gunicorn on a real
redis-server, each a subprocess over https, with the key folder's login key (keys/login.py). The command-line
wallet picks a permit up (pinning the office's root), asks for the endorsement after logging in by OpenID4VP
— trusting the pinned root alone for the login: the TLS CA it is given never signed the login certificate —
and renews through the authorization code flow; the old credential is then REVOKED. A login certificate for
another host or from another root is refused at start (zh-CN and en, exit 2); the wallet refuses a login
request whose certificate comes from another root than the one it pinned.
"""

from __future__ import annotations

import base64
import datetime
import os
import shutil
import signal
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from credential.model import CredentialType
from credential.samples import sample_permit
from epermit import cli
from epermit.http_client import HttpError, request
from epermit.login_identity import login_verifier
from epermit.office import OfficeData
from epermit.servers import BackgroundServer
from epermit.tls import LoopbackCA
from epermit.wallet import HeldCredential, WalletHome
from epermit.wallet import login as login_module
from epermit.wallet import renewal as renewal_module
from issuer.http import app as officer_api
from issuer.keyed import KeyedHash
from issuer.rules import beijing_day
from issuer.service import IssuerService
from issuer.settings import IssuerSettings
from issuer.store.sqlite import SQLiteStore
from keys import KeyRing, init_keys, load_login_key
from keys.login import LOGIN_CERT_FILE, LOGIN_KEY_FILE
from tests.issuer.redis_office import seed_officers
from tests.issuer.redis_server import REDIS_SERVER, RedisServer, free_port
from verifier.cache import VerifierCache
from verifier.policy import Policy
from verifier.result import Result
from verifier.sync import sync
from verifier.verify import verify
from wallet_api import create_app as create_wallet_app
from wallet_api.settings import WalletApiSettings

ROOT = Path(__file__).resolve().parents[2]
PASSPHRASE = "a long operator passphrase"
WALLET_PASSPHRASE = "a test phone"


@dataclass
class Site:
    data: Path
    ring: KeyRing
    ca: LoopbackCA
    ca_file: Path
    tls_cert: Path
    tls_key: Path

    @property
    def client_tls(self) -> ssl.SSLContext:
        return ssl.create_default_context(cadata=self.ca.pem.decode("ascii"))

    @property
    def root_file(self) -> Path:
        return self.data / "keys" / "root.crt.pem"


def make_site(tmp: Path, *, login_host: str | None) -> Site:
    """An office data folder with keys (cheap seals) and the login key for ``login_host``; TLS from a
    loopback CA for localhost (a CA the office's root has nothing to do with)."""
    data = tmp / "office"
    ring = init_keys(data / "keys", PASSPHRASE.encode(), "110105", "北京市公安局朝阳分局", int(time.time()) - 3600,
                     scrypt_n=2**14, login_host=login_host)
    ca = LoopbackCA(now=int(time.time()))
    server = ca.issue_server(("localhost",))
    tls_cert, tls_key = tmp / "tls.crt.pem", tmp / "tls.key.pem"
    tls_cert.write_bytes(server.certificate.public_bytes(Encoding.PEM))
    tls_key.write_bytes(server.key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    tls_key.chmod(0o600)
    return Site(data, ring, ca, ca.write_pem(tmp / "tls-ca.pem"), tls_cert, tls_key)


def serve(site: Site, *, wallet_port: int, officer_port: int, redis: str | None = None,
          log: Path | None = None) -> subprocess.Popen[bytes]:
    env = {**os.environ, "EPERMIT_KEY_PASSPHRASE": PASSPHRASE, "PYTHONPATH": str(ROOT), "EPERMIT_WORKERS": "2"}
    for name in ("EPERMIT_REDIS_URL", "PROMETHEUS_MULTIPROC_DIR", "EPERMIT_PUBLIC_URL", "EPERMIT_METRICS_TOKEN"):
        env.pop(name, None)
    command = [sys.executable, "-m", "epermit.cli", "serve", "--data", str(site.data), "--tls-cert",
               str(site.tls_cert), "--tls-key", str(site.tls_key), "--public-url", f"https://localhost:{wallet_port}",
               "--officer-port", str(officer_port), "--wallet-port", str(wallet_port),
               *(["--redis", redis] if redis else [])]
    stderr = log.open("wb") if log is not None else subprocess.PIPE
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=stderr)


def wait_ready(url: str, process: subprocess.Popen[bytes], tls: ssl.SSLContext, timeout: float = 90) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "epermit serve exited"
        try:
            answer: dict[str, Any] = request(f"{url}/readyz", tls=tls, timeout=5).json()
            return answer
        except HttpError as exc:
            if exc.status != 503:
                raise
        except OSError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"{url} did not come up")


def stop(process: subprocess.Popen[bytes]) -> str:
    """Stop the server (both modes stop on SIGINT); what it printed."""
    process.send_signal(signal.SIGINT)
    try:
        out, _ = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        out, _ = process.communicate()
    return out.decode()


def wallet(*args: str) -> int:
    return cli.main(["wallet", *args])


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """How often the wallet really logged in (a DPoP session opened) and renewed by the code flow."""
    seen = {"sessions": 0, "renewals": 0}
    session, renew = login_module.ResidentLogin.session, renewal_module.Renewer.renew

    def counted_session(self: Any, *args: Any, **kwargs: Any) -> Any:
        found = session(self, *args, **kwargs)
        seen["sessions"] += found is not None
        return found

    def counted_renew(self: Any, *args: Any, **kwargs: Any) -> HeldCredential:
        renewed = renew(self, *args, **kwargs)
        seen["renewals"] += 1
        return renewed

    monkeypatch.setattr(login_module.ResidentLogin, "session", counted_session)
    monkeypatch.setattr(renewal_module.Renewer, "renew", counted_renew)
    monkeypatch.setenv("EPERMIT_WALLET_PASSPHRASE", WALLET_PASSPHRASE)
    return seen


def register_due_permit(officer_url: str, tokens: dict[str, str], tls: ssl.SSLContext) -> tuple[str, str]:
    """A registered resident's permit whose endorsement is due (approved at once); its offer and PIN."""
    today = beijing_day(int(time.time()))
    end = today + datetime.timedelta(days=30)
    for permit in (sample_permit(CredentialType.RESIDENCE_REGISTRATION, valid_from=today - datetime.timedelta(days=300),
                                 valid_until=today + datetime.timedelta(days=60)),
                   sample_permit(valid_from=end - datetime.timedelta(days=360), valid_until=end)):
        record = request(f"{officer_url}/api/v1/records", method="POST", json_body=permit.to_dict(), tls=tls,
                         headers={"Authorization": f"Bearer {tokens['clerk']}"}).json()
    offer = request(f"{officer_url}/api/v1/records/{record['id']}/offers", method="POST", json_body={}, tls=tls,
                    headers={"Authorization": f"Bearer {tokens['issuer']}"}).json()
    return str(offer["offer_uri"]), str(offer["tx_code"])


def verdict(public_url: str, site: Site, held: HeldCredential, cache_dir: Path) -> Result:
    cache = VerifierCache(cache_dir)
    if not cache.has_root():
        cache.pin_root(site.root_file.read_bytes())
    sync(public_url, cache, now=int(time.time()), tls=site.client_tls)
    assert held.sd_jwt_vc is not None
    return verify(held.sd_jwt_vc, cache, policy=Policy(), now=int(time.time())).result


def log_in_and_renew(site: Site, public_url: str, officer_url: str, tokens: dict[str, str], tmp: Path,
                     counted: dict[str, int], capsys: pytest.CaptureFixture[str]) -> None:
    """The resident's story against a running server (module docstring)."""
    offer, pin = register_due_permit(officer_url, tokens, site.client_tls)
    home = tmp / "phone"
    network = ["--ca", str(site.ca_file)]  # for TLS: the login's certificate is not from this CA
    assert wallet("--home", str(home), "pickup", offer, "--pin", pin, *network, "--root", str(site.root_file)) == 0
    old = WalletHome(home).find(None)
    capsys.readouterr()
    assert wallet("--home", str(home), "request", "endorse", *network) == 0
    assert "approved" in capsys.readouterr().out
    assert counted["sessions"] == 1  # by the OpenID4VP login, not a presentation per request
    assert wallet("--home", str(home), "refresh", *network) == 0
    assert "renewed" in capsys.readouterr().out
    assert counted["renewals"] == 1  # the authorization code flow, its login by the same pinned root
    new = WalletHome(home).find(None)
    assert new.document_number == old.document_number and new.valid_until > old.valid_until
    assert verdict(public_url, site, new, tmp / "landlord") is Result.VALID
    assert verdict(public_url, site, old, tmp / "landlord") is Result.REVOKED  # retired after the notification
    ready = request(f"{public_url}/readyz", tls=site.client_tls).json()
    assert ready["checks"]["login"] == "ok"
    anchors = request(f"{public_url}/wallet/verifiers.json", tls=site.client_tls).json()
    assert anchors["issuer_login"]["client_id"] == "x509_san_dns:localhost"
    assert [base64.b64decode(c) for c in anchors["issuer_login"]["certificates"]] == [
        site.ring.root_certificate.public_bytes(Encoding.DER)]
    assert anchors["certificates"] == []  # the root vouches for this issuer's login, not for other verifiers


@pytest.mark.slow
def test_serve_on_sqlite_logs_the_resident_in_and_renews(tmp_path: Path, counted: dict[str, int],
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    site = make_site(tmp_path, login_host="localhost")
    store = OfficeData(site.data).open_store(create=True)
    tokens = seed_officers(store, KeyedHash(site.ring.store_secret))
    store.close()
    wallet_port, officer_port = free_port(), free_port()
    # stderr to a file: the JSON request log would fill an unread pipe
    process = serve(site, wallet_port=wallet_port, officer_port=officer_port, log=tmp_path / "serve.log")
    printed = ""
    try:
        public_url = f"https://localhost:{wallet_port}"
        assert wait_ready(public_url, process, site.client_tls)["checks"]["login"] == "ok"
        log_in_and_renew(site, public_url, f"https://localhost:{officer_port}", tokens, tmp_path, counted, capsys)
    finally:
        printed = stop(process)
    assert "resident login   OpenID4VP, x509_san_dns:localhost" in printed


@pytest.mark.slow
@pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server is not installed")
def test_serve_on_redis_logs_the_resident_in_and_renews(tmp_path: Path, counted: dict[str, int],
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    from issuer.store.redis import RedisStore

    redis = RedisServer(tmp_path / "redis").start()
    try:
        wrong = make_site(tmp_path / "wrong", login_host="permits.elsewhere.example")
        refused = serve(wrong, wallet_port=free_port(), officer_port=free_port(), redis=redis.url)
        _, err = refused.communicate(timeout=60)  # the parent refuses once, before any worker starts
        assert refused.returncode == 2 and "登录证书上的主机名与公网地址不符" in err.decode()
        assert "permits.elsewhere.example" in err.decode() and "epermit keys login" in err.decode()

        site = make_site(tmp_path, login_host="localhost")
        store = RedisStore.from_url(redis.url)
        tokens = seed_officers(store, KeyedHash(site.ring.store_secret))
        wallet_port, officer_port = free_port(), free_port()
        process = serve(site, wallet_port=wallet_port, officer_port=officer_port, redis=redis.url,
                        log=tmp_path / "serve.log")
        try:
            public_url = f"https://localhost:{wallet_port}"
            assert wait_ready(public_url, process, site.client_tls)["checks"]["login"] == "ok"
            wait_ready(f"https://localhost:{officer_port}", process, site.client_tls)
            log_in_and_renew(site, public_url, f"https://localhost:{officer_port}", tokens, tmp_path, counted,
                             capsys)
        finally:
            stop(process)
            store.close()
    finally:
        redis.stop()


def refused_at_start(site: Site) -> str:
    process = serve(site, wallet_port=free_port(), officer_port=free_port())
    _, err = process.communicate(timeout=60)
    assert process.returncode == 2, err
    return err.decode()


def test_serve_refuses_a_login_certificate_for_another_host(tmp_path: Path) -> None:
    err = refused_at_start(make_site(tmp_path, login_host="permits.elsewhere.example"))
    assert "登录证书上的主机名与公网地址不符" in err and "names permits.elsewhere.example, not localhost" in err
    assert "epermit keys login --dir" in err and "or start with --public-url https://permits.elsewhere.example" in err


def test_serve_refuses_a_login_certificate_from_another_root(tmp_path: Path) -> None:
    site = make_site(tmp_path, login_host="localhost")
    other = init_keys(tmp_path / "other" / "keys", PASSPHRASE.encode(), "110105", "北京市公安局朝阳分局",
                      int(time.time()) - 3600, scrypt_n=2**14, login_host="localhost")
    assert other.root.kid != site.ring.root.kid
    for name in (LOGIN_KEY_FILE, LOGIN_CERT_FILE):  # another office's login key, put in this folder
        shutil.copyfile(tmp_path / "other" / "keys" / name, site.data / "keys" / name)
    err = refused_at_start(site)
    assert "登录证书不是本单位根证书签发的" in err and "not issued by this office's root" in err


def test_the_wallet_refuses_a_login_request_from_another_root(tmp_path: Path, counted: dict[str, int],
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    """A service (in this process, real https) whose login is signed under another office's root: the wallet
    that pinned its own office's root at pickup refuses it, names the pinned root, and presents nothing."""
    site = make_site(tmp_path, login_host=None)
    other = init_keys(tmp_path / "other" / "keys", PASSPHRASE.encode(), "110105", "北京市公安局朝阳分局",
                      int(time.time()) - 3600, scrypt_n=2**14, login_host="localhost")
    foreign = load_login_key(tmp_path / "other" / "keys", PASSPHRASE.encode())
    tls = site.ca.issue_server(("localhost",)).ssl_context()
    wallet_server = BackgroundServer(ssl_context=tls, url_host="localhost")
    officer_server = BackgroundServer(ssl_context=tls, url_host="localhost")
    url = wallet_server.url
    identity = login_verifier(foreign, other, public_url=url, keys_dir=tmp_path, now=int(time.time()))
    assert identity is not None  # a login identity of its own root: another office's
    service = IssuerService(SQLiteStore(tmp_path / "store.sqlite3"), site.ring, IssuerSettings(public_url=url))
    wallet_server.start(create_wallet_app(WalletApiSettings(public_url=url), service, login_verifier=identity))
    officer_server.start(officer_api.create_app(officer_api.OfficerApiSettings(), service))
    try:
        tokens = seed_officers(service.store, service.keyed)
        offer, pin = register_due_permit(officer_server.url, tokens, site.client_tls)
        home = tmp_path / "phone"
        network = ["--ca", str(site.ca_file)]
        assert wallet("--home", str(home), "pickup", offer, "--pin", pin, *network, "--root", str(site.root_file)) == 0
        capsys.readouterr()
        assert wallet("--home", str(home), "request", "endorse", *network) == 1
        err = capsys.readouterr().err
        assert "登录请求未经本钱包固定的公安局根证书证明" in err
        assert "not proved by the bureau's root this wallet pinned" in err and "epermit root" in err
        assert counted["sessions"] == 0
    finally:
        officer_server.stop()
        wallet_server.stop()


def test_serve_on_plain_http_runs_without_the_login(tmp_path: Path) -> None:
    """Local development (`--insecure-http`): OpenID4VP needs https, so the login is off — whatever host the
    login key names — and the server says so instead of refusing."""
    site = make_site(tmp_path, login_host="permits.elsewhere.example")
    env = {**os.environ, "EPERMIT_KEY_PASSPHRASE": PASSPHRASE, "PYTHONPATH": str(ROOT)}
    env.pop("EPERMIT_REDIS_URL", None)
    process = subprocess.Popen([sys.executable, "-m", "epermit.cli", "serve", "--insecure-http", "--data",
                                str(site.data), "--officer-port", "0", "--wallet-port", "0"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(5)]
        assert "resident login   off: the public URL is not https (residents present per request)\n" in lines, lines
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)
