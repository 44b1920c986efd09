"""What the wallet API needs to know that the issuer service does not: its URL, its request limits, and
where it keeps the last published documents."""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from issuer.errors import SettingsError

PROOF_ALGORITHMS = ("ES256", "EdDSA")
# The QR pass carries the holder key as a P-256 COSE_Key and the issuer service binds both encodings to the
# same key, so only ES256 device keys can be delivered; EdDSA stays a configuration choice (DESIGN §2.1).
DEFAULT_PROOF_ALGORITHMS = ("ES256",)
# DPoP proofs (wallet_api.dpop): pinned, HAIP names ES256; a proof's own `alg` never chooses the algorithm.
DPOP_ALGORITHMS = ("ES256",)


@dataclass(frozen=True)
class WalletApiSettings:
    # The Credential Issuer Identifier: compared by exact string by wallets, so it must equal the SD-JWT `iss`
    # (IssuerSettings.public_url). Scheme and host only, or with a path; never a trailing slash.
    public_url: str
    max_body_bytes: int = 64 * 1024       # every request body, checked before it is read
    max_proof_bytes: int = 8 * 1024       # one key proof JWT (a P-256 jwk header and three claims are ~400 B)
    proof_max_age: int = 300              # seconds a proof's iat may lie in the past
    proof_future_skew: int = 60           # seconds a proof's iat may lie in the future (wallet clock ahead)
    batch_size: int = 5                   # most proofs (so credentials) in one credential request
    proof_algorithms: tuple[str, ...] = DEFAULT_PROOF_ALGORITHMS
    issuer_name_zh: str | None = None     # issuer display name; None: the key ring's authority name
    issuer_name_en: str = "Public Security Bureau"
    public_document_max_age: int = 300    # Cache-Control for the trust list and the metadata
    # Rate limits, counted in the store (so shared by every instance) per fixed window of rate_window seconds;
    # past a limit the endpoint answers 429 with Retry-After. The PIN itself is also limited per code by the
    # issuer service (IssuerSettings.max_pin_attempts, then the code is burned).
    rate_window: int = 60
    token_requests_per_client: int = 60   # POST /token per remote address
    token_requests_per_code: int = 10     # POST /token per pre-authorized code, from anywhere
    nonce_requests_per_client: int = 300  # POST /nonce per remote address (each one writes to the store)
    deferred_interval: int = 300          # seconds a deferred wallet waits between polls (OpenID4VCI `interval`)
    # Where the last copy of each public document served is kept on disk (wallet_api.lastcopies), served
    # while the store is unavailable; None: in memory only (lost when the process restarts).
    published_dir: Path | None = None
    # DPoP (RFC 9449, wallet_api.dpop): a wallet that sends a DPoP proof to /token gets an access token bound to
    # its key, and every later request must prove that key again. Plain bearer wallets keep working unless
    # dpop_required (HAIP asks it of an issuer; a deployment turns it on once its wallets speak DPoP).
    dpop_required: bool = False
    dpop_nonce_required: bool = False     # every proof must carry our DPoP-Nonce (else 400/401 use_dpop_nonce)
    dpop_iat_window: int = 60             # seconds a proof's iat may differ from our clock, either way
    dpop_nonce_ttl: int = 300             # seconds a server nonce is accepted; a fresh one every half of that
    # The PEM bundle of CAs whose online verifiers (OpenID4VP x509_san_dns) the wallet PWA may answer, served
    # to it at /wallet/verifiers.json (wallet_api.verifier_cas; EPERMIT_VERIFIER_CA_FILE). None: it answers none.
    verifier_ca_file: Path | None = None

    def __post_init__(self) -> None:
        parts = urllib.parse.urlsplit(self.public_url)
        if parts.scheme not in ("https", "http") or not parts.netloc:
            raise SettingsError("public_url", "must be an absolute http(s) URL")
        if parts.query or parts.fragment or self.public_url.endswith("/"):
            raise SettingsError("public_url", "must have no query, fragment or trailing slash")
        if self.batch_size < 1:
            raise SettingsError("batch_size", "must be at least 1")
        if not set(self.proof_algorithms) <= set(PROOF_ALGORITHMS) or not self.proof_algorithms:
            raise SettingsError("proof_algorithms", f"must be a non-empty subset of {PROOF_ALGORITHMS}")
        for name in ("max_body_bytes", "max_proof_bytes", "proof_max_age", "public_document_max_age", "rate_window",
                     "token_requests_per_client", "token_requests_per_code", "nonce_requests_per_client",
                     "deferred_interval", "dpop_iat_window", "dpop_nonce_ttl"):
            if getattr(self, name) <= 0:
                raise SettingsError(name, "must be positive")
        if self.dpop_nonce_ttl < 2:  # rotated every ttl // 2 seconds
            raise SettingsError("dpop_nonce_ttl", "must be at least 2")
        if self.proof_future_skew < 0:
            raise SettingsError("proof_future_skew", "must not be negative")
