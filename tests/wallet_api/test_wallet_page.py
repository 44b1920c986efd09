"""/wallet/: the built wallet's files with their security headers, the root to pin, and 404s that say why."""

from __future__ import annotations

import base64
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from flask import Flask
from flask.testing import FlaskClient

from credential.jwk import key_id, load_public_jwk
from epermit.tls import LoopbackCA
from issuer.service import IssuerService
from wallet_api import wallet_page
from wallet_api.verifier_cas import MAX_BUNDLE


def built(tmp_path: Path) -> Path:
    for name, text in (("index.html", "<!doctype html><title>wallet</title>"), ("app.js", "export {};"),
                       ("sw.js", "// sw"), ("styles.css", "body{}"), ("manifest.webmanifest", "{}"),
                       ("icon.svg", "<svg/>")):
        (tmp_path / name).write_text(text, "utf-8")
    return tmp_path


def page_client(service: IssuerService, build_dir: Path, verifier_ca_file: Path | None = None) -> FlaskClient:
    app = Flask(__name__)
    wallet_page.register(app, lambda: service.keyring.root.public_key, build_dir=build_dir,
                         verifier_ca_file=verifier_ca_file)
    return app.test_client()


def test_the_built_files_are_served_with_a_strict_policy(service: IssuerService, tmp_path: Path) -> None:
    client = page_client(service, built(tmp_path))
    for path, media in (("/wallet/", "text/html"), ("/wallet/app.js", "text/javascript"),
                        ("/wallet/sw.js", "text/javascript"), ("/wallet/manifest.webmanifest", "application/manifest+json")):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.mimetype == media, path
        csp = response.headers["Content-Security-Policy"]
        # Its own origin and https verifiers (which ones: the x5c chain decides, in the page); never plain http.
        assert "connect-src 'self' https:;" in csp and "frame-ancestors 'none'" in csp
        assert "script-src 'self' 'wasm-unsafe-eval';" in csp  # the QR reader, nothing inline, no eval
        assert "unsafe-inline" not in csp and "http:" not in csp.replace("https:", "")
        assert response.headers["Referrer-Policy"] == "no-referrer"  # the URL may carry an offer URI
        assert response.headers["Cache-Control"] == "no-cache"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get("/wallet").status_code == 308


def test_the_root_is_the_key_rings(service: IssuerService, tmp_path: Path) -> None:
    document = page_client(service, built(tmp_path)).get("/wallet/root.json").get_json()
    assert document["kid"] == key_id(service.keyring.root.public_key)
    assert key_id(load_public_jwk(document["jwk"])) == document["kid"]


def test_unknown_files_and_an_unbuilt_page_are_404(service: IssuerService, tmp_path: Path) -> None:
    client = page_client(service, built(tmp_path))
    for path in ("/wallet/../pyproject.toml", "/wallet/secret.txt", "/wallet/%2e%2e%2fapp.js"):
        assert client.get(path).status_code == 404, path
    unbuilt = page_client(service, tmp_path / "nothing-here")
    response = unbuilt.get("/wallet/")
    assert response.status_code == 404
    assert "make web" in response.get_json()["error_description"]


def test_the_wallet_api_serves_the_wallet_beside_the_verifier(app: Flask) -> None:
    rules = {rule.rule for rule in app.url_map.iter_rules()}
    assert {"/wallet/", "/wallet/<name>", "/wallet/root.json", "/verify/", "/verify/root.json"} <= rules


def test_the_camera_is_allowed_to_the_page_only(service: IssuerService, tmp_path: Path) -> None:
    client = page_client(service, built(tmp_path))
    assert client.get("/wallet/").headers["Permissions-Policy"] == "camera=(self), microphone=(), geolocation=()"
    assert "Permissions-Policy" not in client.get("/wallet/app.js").headers


def test_the_verifier_cas_are_the_operators_bundle_read_fresh(service: IssuerService, tmp_path: Path) -> None:
    first, second = LoopbackCA(now=service.clock()), LoopbackCA(now=service.clock())
    bundle = tmp_path / "verifier-cas.pem"
    bundle.write_bytes(first.pem)
    client = page_client(service, built(tmp_path), verifier_ca_file=bundle)
    response = client.get("/wallet/verifiers.json")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    [der] = response.get_json()["certificates"]
    assert x509.load_der_x509_certificate(base64.b64decode(der)) == first.certificate
    bundle.write_bytes(first.pem + second.pem)  # an operator adds a CA: no restart
    assert len(client.get("/wallet/verifiers.json").get_json()["certificates"]) == 2


def test_no_bundle_a_bad_one_or_a_leaf_in_it_trusts_no_verifier(service: IssuerService, tmp_path: Path) -> None:
    response = page_client(service, built(tmp_path)).get("/wallet/verifiers.json")
    assert response.status_code == 404 and "EPERMIT_VERIFIER_CA_FILE" in response.get_json()["error_description"]
    ca = LoopbackCA(now=service.clock())
    leaf = ca.issue_server(("employer.example",)).certificate.public_bytes(Encoding.PEM)
    for name, content in (("missing.pem", None), ("junk.pem", b"not a certificate"), ("leaf.pem", ca.pem + leaf),
                          ("huge.pem", ca.pem + b"\n" * MAX_BUNDLE)):
        path = tmp_path / name
        if content is not None:
            path.write_bytes(content)
        response = page_client(service, built(tmp_path), verifier_ca_file=path).get("/wallet/verifiers.json")
        assert response.status_code == 503, name
        assert "certificates" not in response.get_json()


def test_the_districts_are_the_citys_list_an_address_change_chooses_from(service: IssuerService, tmp_path: Path) -> None:
    from credential.codes import DISTRICT_LABELS, validate_district

    response = page_client(service, built(tmp_path)).get("/wallet/districts.json")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-cache"
    districts = response.get_json()["districts"]
    assert [d["code"] for d in districts] == list(DISTRICT_LABELS)
    assert all(validate_district(d["code"]) == d["code"] and d["zh"] and d["en"] for d in districts)
    assert {"code": "110101", "zh": "北京市东城区", "en": "Dongcheng District, Beijing"} in districts
