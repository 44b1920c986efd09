"""The wallet's login anchor: the bureau's root it pinned, trusted for its own issuer's login and nothing else.

A real deployment signs its residents' login requests under a certificate from the office's root
(keys/login.py), the same root whose trust list the wallet checks its credentials against and which it
pinned at pickup (`--root`, kept in the wallet's verifier cache). So the wallet needs no other CA to log
in to the service its credentials came from. The root is trusted only for a request whose client_id names
the host of an issuer this wallet holds a credential of — and, once the wallet has synced a trust list under
that root, only for the issuer that trust list names — never for an employer or any other verifier:
``issuer_login_anchors`` is what epermit.wallet.presenting.Presenter takes as ``issuer_anchors``.
"""

from __future__ import annotations

import urllib.parse

from cryptography import x509

from epermit.wallet.home import WalletHome
from verifier.openid4vp import UntrustedVerifierError


class UntrustedLoginError(UntrustedVerifierError):
    """A login request of the wallet's own issuer that the pinned root does not prove (signed under a
    certificate from another root, or not naming the host): refused, nothing is presented."""

    def __init__(self, client_id: str, host: str, root: x509.Certificate, reason: str) -> None:
        super().__init__(client_id, f"登录请求未经本钱包固定的公安局根证书证明，已拒绝（{host}）。the login request "
                                    f"of {host} is not proved by the bureau's root this wallet pinned "
                                    f"({root.subject.rfc4514_string()}): {reason}")
        self.host = host
        self.reason = reason


def issuer_login_anchors(home: WalletHome) -> dict[str, list[x509.Certificate]]:
    """host -> [pinned root], for the issuers of the credentials held (module docstring); empty when no root
    is pinned."""
    cache = home.verifier_cache()
    if not cache.has_root():
        return {}
    root = cache.root_certificate()
    issuers = {held.issuer for held in home.credentials()}
    trust = cache.trust_list()
    if trust is not None:  # the root is known to be this issuer's: it signs the trust list that names it
        issuers &= {trust.issuer}
    hosts = {urllib.parse.urlsplit(issuer).hostname for issuer in issuers}
    return {host: [root] for host in hosts if host}


__all__ = ["UntrustedLoginError", "issuer_login_anchors"]
