"""/wallet/: the built wallet's files with their security headers, the root to pin, and 404s that say why."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from credential.jwk import key_id, load_public_jwk
from issuer.service import IssuerService
from wallet_api import wallet_page


def built(tmp_path: Path) -> Path:
    for name, text in (("index.html", "<!doctype html><title>wallet</title>"), ("app.js", "export {};"),
                       ("sw.js", "// sw"), ("styles.css", "body{}"), ("manifest.webmanifest", "{}"),
                       ("icon.svg", "<svg/>")):
        (tmp_path / name).write_text(text, "utf-8")
    return tmp_path


def page_client(service: IssuerService, build_dir: Path) -> FlaskClient:
    app = Flask(__name__)
    wallet_page.register(app, lambda: service.keyring.root.public_key, build_dir=build_dir)
    return app.test_client()


def test_the_built_files_are_served_with_a_strict_policy(service: IssuerService, tmp_path: Path) -> None:
    client = page_client(service, built(tmp_path))
    for path, media in (("/wallet/", "text/html"), ("/wallet/app.js", "text/javascript"),
                        ("/wallet/sw.js", "text/javascript"), ("/wallet/manifest.webmanifest", "application/manifest+json")):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.mimetype == media, path
        csp = response.headers["Content-Security-Policy"]
        assert "connect-src 'self'" in csp and "script-src 'self';" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp and "wasm" not in csp
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
