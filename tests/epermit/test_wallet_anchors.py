"""epermit.wallet.anchors: the root a wallet pinned is the anchor of its own issuer's login, for that host
only, and not for an issuer another trust list under that root names."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

from cryptography.hazmat.primitives.serialization import Encoding

from epermit.wallet import WalletHome
from epermit.wallet.anchors import issuer_login_anchors
from keys import KeyRing

from .test_wallet_parts import ISSUER, held


def test_the_pinned_root_anchors_the_login_of_the_issuers_held_only(tmp_path: Path) -> None:
    now = int(time.time())
    ring = KeyRing.generate(authority_code="110105", authority_name="北京市公安局朝阳分局", now=now - 3600)
    home = WalletHome(tmp_path / "phone", create=True, scrypt_n=2**14)
    home.save(held())
    assert issuer_login_anchors(home) == {}  # no root pinned: no anchor
    cache = home.verifier_cache()
    cache.pin_root(ring.root_certificate.public_bytes(Encoding.PEM))
    assert issuer_login_anchors(home) == {"permits.example.gov.cn": [ring.root_certificate]}
    home.save(dataclasses.replace(held("DJK-110105-2026-000002"), issuer="https://other.example.gov.cn"))
    assert set(issuer_login_anchors(home)) == {"permits.example.gov.cn", "other.example.gov.cn"}
    # Once a trust list under the root is held, the root is that list's issuer's only.
    cache.accept_trust_list(ring.trust_list_token(issuer=ISSUER, now=now, version=now, status_lists=[],
                                                  aggregation_uri=None), now)
    assert issuer_login_anchors(home) == {"permits.example.gov.cn": [ring.root_certificate]}
