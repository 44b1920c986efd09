"""The Python verifier's answer for every shared vector equals web_expectations.json (the browser's too)."""

from __future__ import annotations

import zlib
from pathlib import Path

import pytest

from credential.base45 import b45decode
from credential.qrpass import QR_PREFIX
from tests.conftest import T0
from tests.vectors.generate_web_vectors import AUTHORITY, VectorSet, generate, load_expectations
from verifier.cache import VerifierCache
from verifier.policy import Policy
from verifier.qrimage import decode_qr_symbols, pass_text, portrait_codes
from verifier.verify import verify


@pytest.fixture(scope="module")
def vectors(tmp_path_factory: pytest.TempPathFactory) -> VectorSet:
    return generate(tmp_path_factory.mktemp("vectors"), base_url="http://127.0.0.1:8080")


def test_every_vector_has_an_expectation(vectors: VectorSet) -> None:
    assert set(vectors.vectors) == set(load_expectations())


@pytest.mark.parametrize("form", ["jwt", "cwt"])
@pytest.mark.parametrize("name", sorted(load_expectations()))
def test_python_verifier_agrees(vectors: VectorSet, tmp_path: Path, name: str, form: str) -> None:
    cache = VerifierCache(tmp_path / "cache")
    cache.pin_root(vectors.root_pem)
    cache.accept_trust_list(vectors.trust_token, T0)
    cache.accept_status_list(vectors.status_uri, vectors.status_cwt if form == "cwt" else vectors.status_token, T0)
    codes = [vectors.portraits[name]] if name in vectors.portraits else []
    outcome = verify(vectors.vectors[name], cache, policy=Policy(), now=T0, portrait_codes=codes)
    expected = load_expectations()[name]
    assert outcome.result.value == expected["result"], outcome.reason
    assert outcome.portrait == expected.get("portrait", "absent"), outcome.portrait_reason
    assert (outcome.portrait_image is not None) == (outcome.portrait == "verified")
    if outcome.portrait_image is not None:
        assert outcome.portrait_image == vectors.portraits[name]
    if "live" in expected:
        assert outcome.live is expected["live"]
    if "view" in expected:  # which view the verifier says it shows; a basic one has no personal field
        assert outcome.view == expected["view"]
        assert ("citizen_id" in outcome.claims) == (expected["view"] == "full")
    if outcome.result.value in ("VALID", "REVOKED", "SUSPENDED"):
        assert outcome.claims["holder"]["name"] == "张伟" if "holder" in outcome.claims else True
    if "authority_name" in expected:  # the trust list's name for the signing key: no pass carries one
        assert outcome.claims["authority_name"] == outcome.authority_name == expected["authority_name"]
        assert outcome.claims["authority_code"] == AUTHORITY[0]
    if outcome.result.value == "UNTRUSTED_ISSUER":
        assert outcome.claims == {}  # nothing an untrusted key signed is shown


def test_the_photo_holds_both_codes(vectors: VectorSet) -> None:
    """Each portrait vector's one image gives zxing-cpp both symbols: the pass text and the portrait's bytes."""
    for name, portrait in vectors.portraits.items():
        symbols = decode_qr_symbols(vectors.directory / f"{name}.png")
        assert pass_text(symbols) == vectors.vectors[name]
        assert portrait_codes(symbols) == [portrait], name


def test_no_vector_carries_the_authority_name_but_the_one_made_to(vectors: VectorSet) -> None:
    for name, text in vectors.vectors.items():
        if text.startswith(QR_PREFIX + "NOT"):
            continue
        carried = AUTHORITY[1].encode() in zlib.decompress(b45decode(text[len(QR_PREFIX):]))
        assert carried == (name == "authority_name_carried"), name
