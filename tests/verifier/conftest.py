"""A small issuing world built from the real key ring and formats: no servers, real signatures."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from credential.model import Permit
from credential.qrpass import encode_pass, live_qr_text, pass_to_qr_text
from credential.samples import sample_permit
from credential.sdjwt import issue_sd_jwt_vc, present
from credential.statuslist import StatusList, sign_status_list_cwt, sign_status_list_token
from credential.trustlist import TrustedKey, sign_trust_list
from keys import KeyRing, KeySigner, Purpose, PurposeSigner
from tests.conftest import T0
from verifier.cache import VerifierCache

ISSUER = "https://permits.example.gov.cn"
STATUS_URI = f"{ISSUER}/statuslists/1"
LIST_SIZE = 1 << 12
HOUR = 3600


@dataclass
class World:
    ring: KeyRing
    holder: KeySigner
    permit: Permit
    statuses: StatusList = field(default_factory=lambda: StatusList(LIST_SIZE, 2))
    trust_version: int = 1

    @property
    def credential_signer(self) -> PurposeSigner:
        """The ring's credential signer at T0, the time this world lives at."""
        return self.ring.signer_for(Purpose.CREDENTIAL, now=T0)

    @property
    def status_signer(self) -> PurposeSigner:
        return self.ring.signer_for(Purpose.STATUS, now=T0)

    @property
    def root_pem(self) -> bytes:
        return self.ring.root_certificate.public_bytes(Encoding.PEM)

    def trust_token(self, *, now: int = T0 - HOUR, version: int | None = None,
                    status_lists: tuple[str, ...] = (STATUS_URI,)) -> str:
        return self.ring.trust_list_token(issuer=ISSUER, now=now, version=version or self.trust_version,
                                          status_lists=status_lists, aggregation_uri=f"{ISSUER}/statuslists")

    def edited_trust_token(self, edit: Callable[[TrustedKey], TrustedKey], *, version: int,
                           now: int = T0 - 60) -> str:
        """A root-signed trust list whose key entries were changed (revoked, restricted) by ``edit``."""
        trust = self.ring.trust_list(issuer=ISSUER, now=now, version=version, status_lists=[STATUS_URI],
                                     aggregation_uri=None)
        return sign_trust_list(dataclasses.replace(trust, keys=tuple(edit(k) for k in trust.keys)),
                               root_signer=self.ring.root)

    def status_token(self, *, now: int = T0 - HOUR, uri: str = STATUS_URI, signer: KeySigner | None = None,
                     validity: int = 7 * 86400) -> str:
        return sign_status_list_token(self.statuses, uri=uri, signer=signer or self.status_signer, now=now,
                                      ttl=300, exp=now + validity)

    def status_cwt(self, *, now: int = T0 - HOUR, uri: str = STATUS_URI, signer: KeySigner | None = None,
                   validity: int = 7 * 86400) -> bytes:
        """The same list as status_token, in its CWT form (what `verify sync` asks for)."""
        return sign_status_list_cwt(self.statuses, uri=uri, signer=signer or self.status_signer, now=now, ttl=300,
                                    exp=now + validity)

    def cose_pass(self, *, idx: int = 7, signer: KeySigner | None = None, permit: Permit | None = None,
                  issued: int = T0 - 10 * 86400) -> bytes:
        return encode_pass(permit or self.permit, signer=signer or self.credential_signer,
                           holder_key=self.holder.public_key, status_uri=STATUS_URI, status_idx=idx, now=issued)

    def static_qr(self, **kwargs: object) -> str:
        return pass_to_qr_text(self.cose_pass(**kwargs))  # type: ignore[arg-type]

    def live_qr(self, *, at: int = T0 - 5, nonce: bytes | None = None, **kwargs: object) -> str:
        return live_qr_text(self.cose_pass(**kwargs), holder_signer=self.holder, now=at,  # type: ignore[arg-type]
                            nonce=nonce)

    def sd_jwt(self, *, idx: int = 7, issued: int = T0 - 10 * 86400, exp: int = T0 + 180 * 86400) -> str:
        signer = self.credential_signer
        return issue_sd_jwt_vc(self.permit, issuer=ISSUER, signer=signer,
                               holder_key=self.holder.public_key, status_uri=STATUS_URI, status_idx=idx,
                               now=issued, exp=exp, certificates=(self.ring.certificates[signer.kid],))

    def presentation(self, *, at: int = T0 - 5, aud: str = "landlord", nonce: str = "n-1", **kwargs: object) -> str:
        return present(self.sd_jwt(**kwargs), disclose=None, holder_signer=self.holder,  # type: ignore[arg-type]
                       aud=aud, nonce=nonce, now=at)

    def fill(self, cache: VerifierCache, *, status_at: int = T0 - HOUR, validity: int = 7 * 86400) -> VerifierCache:
        cache.pin_root(self.root_pem)
        cache.accept_trust_list(self.trust_token(), T0)
        cache.accept_status_list(STATUS_URI, self.status_token(now=status_at, validity=validity), T0)
        return cache


@pytest.fixture
def world(keyring: KeyRing) -> Iterator[World]:
    yield World(ring=keyring, holder=KeySigner.generate(), permit=sample_permit())


@pytest.fixture
def cache(tmp_path: Path) -> VerifierCache:
    return VerifierCache(tmp_path / "cache")


@pytest.fixture
def filled(world: World, cache: VerifierCache) -> VerifierCache:
    return world.fill(cache)
