"""verify_pass resolvers for tests: a key and the authority a trust list would bind it to."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from credential.errors import UntrustedIssuerError
from credential.jwk import PublicKey
from credential.samples import AUTHORITY_CODE, AUTHORITY_NAME


class Signer(Protocol):
    @property
    def kid(self) -> str: ...
    @property
    def public_key(self) -> PublicKey: ...


@dataclass(frozen=True)
class IssuingKey:
    """A credential.qrpass.IssuingKey without a trust list (TrustedKey is the real one)."""

    public_key: PublicKey
    authority_code: str = AUTHORITY_CODE
    authority_name: str = AUTHORITY_NAME


def pass_resolver(*signers: Signer, authority_code: str = AUTHORITY_CODE,
                  authority_name: str = AUTHORITY_NAME) -> Callable[[str], IssuingKey]:
    """Trusts exactly ``signers``, all of one authority (by default the sample permits' own)."""
    return keys_resolver(signers, authority_code=authority_code, authority_name=authority_name)


def keys_resolver(signers: Iterable[Signer], *, authority_code: str = AUTHORITY_CODE,
                  authority_name: str = AUTHORITY_NAME) -> Callable[[str], IssuingKey]:
    keys = {s.kid: IssuingKey(s.public_key, authority_code, authority_name) for s in signers}

    def resolve(kid: str) -> IssuingKey:
        if kid not in keys:
            raise UntrustedIssuerError(kid)
        return keys[kid]

    return resolve
