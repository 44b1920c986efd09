"""DCQL (OpenID4VP 1.0 §6): the query an employer or the bureau sends, and the strict reading of one.

What is built: one Credential Query (``format`` ``dc+sd-jwt``, ``meta.vct_values`` the residence permit's
and/or the registration card's ``vct``: the issuer's URL plus credential.model's type path), with a
``claims`` entry per requested top-level claim. With no ``claim_sets`` every listed claim is required
(§6.4.1), so a presentation that leaves one out is refused (verifier.openid4vp.response).
``require_cryptographic_holder_binding`` is left at its default, true: an SD-JWT+KB is required.

What is read (``parse_dcql``, both sides): the same subset, strictly and within bounds; ``credential_sets``,
``claim_sets``, ``trusted_authorities``, ``multiple`` true, ``values`` and paths deeper than one claim name
are refused as not supported (InvalidDcqlQueryError), never silently ignored: a wallet must not answer a
query it read only in part.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from credential.model import CredentialType
from verifier.openid4vp.errors import InvalidDcqlQueryError

SD_JWT_FORMAT = "dc+sd-jwt"
# The basic claims (what an employer asks for): the holder's name, the document and its authority. The
# type (vct) and the validity (nbf, exp) are always visible in the credential and never requested.
BASIC_CLAIMS = ("name", "document_number", "authority_name")
DEFAULT_QUERY_ID = "residence"
MAX_QUERIES = 4
MAX_CLAIMS = 32
MAX_VCT_VALUES = 8
# §6.1: an id is a non-empty string of alphanumerics, underscores and hyphens.
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_KNOWN_QUERY_KEYS = frozenset({"id", "format", "meta", "claims", "multiple", "require_cryptographic_holder_binding",
                               "claim_sets", "trusted_authorities"})


@dataclass(frozen=True)
class CredentialQuery:
    """One Credential Query of the subset above: which credential types, which claims (all required)."""

    id: str
    vct_values: tuple[str, ...]
    claims: tuple[str, ...]  # top-level claim names, in the order asked

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "format": SD_JWT_FORMAT,
            "meta": {"vct_values": list(self.vct_values)},
            "claims": [{"path": [name]} for name in self.claims],
        }


def vct_of(issuer: str, credential_type: CredentialType) -> str:
    """The ``vct`` our issuer at ``issuer`` (its Credential Issuer Identifier) gives ``credential_type``."""
    return issuer.rstrip("/") + credential_type.vct_path


def basic_query(issuer: str, types: Sequence[CredentialType] = tuple(CredentialType),
                claims: Sequence[str] = BASIC_CLAIMS, *, query_id: str = DEFAULT_QUERY_ID) -> dict[str, Any]:
    """The DCQL query for ``claims`` of a residence permit or registration card of ``issuer``."""
    if not types or not claims:
        raise InvalidDcqlQueryError("a query names at least one credential type and one claim")
    query = CredentialQuery(query_id, tuple(vct_of(issuer, t) for t in types), tuple(claims))
    document = {"credentials": [query.to_json()]}
    parse_dcql(document)  # what is built must read back under the same rules
    return document


def _strings(value: object, what: str, limit: int) -> tuple[str, ...]:
    if not isinstance(value, list) or not 1 <= len(value) <= limit:
        raise InvalidDcqlQueryError(f"{what} must be an array of 1..{limit} strings")
    if not all(isinstance(item, str) and item for item in value):
        raise InvalidDcqlQueryError(f"{what} must hold non-empty strings")
    return tuple(value)


def _claim_name(entry: object) -> str:
    if not isinstance(entry, dict) or set(entry) - {"id", "path"} - {"intent_to_retain"}:
        raise InvalidDcqlQueryError("a claims entry holds a path (values and other members are not supported)")
    path = entry.get("path")
    if not isinstance(path, list) or len(path) != 1 or not isinstance(path[0], str) or not path[0]:
        raise InvalidDcqlQueryError("only a path of one claim name is supported")
    return path[0]


def _credential_query(entry: object) -> CredentialQuery:
    if not isinstance(entry, dict):
        raise InvalidDcqlQueryError("a credential query is a JSON object")
    unknown = set(entry) - _KNOWN_QUERY_KEYS
    if unknown:
        raise InvalidDcqlQueryError(f"unknown member {sorted(unknown)[0]!r}")
    query_id = entry.get("id")
    if not isinstance(query_id, str) or not _ID.fullmatch(query_id):
        raise InvalidDcqlQueryError("id must be 1..64 letters, digits, _ or -")
    if entry.get("format") != SD_JWT_FORMAT:
        raise InvalidDcqlQueryError(f"only the {SD_JWT_FORMAT} format is supported")
    for name in ("claim_sets", "trusted_authorities"):
        if name in entry:
            raise InvalidDcqlQueryError(f"{name} is not supported")
    if entry.get("multiple", False) is not False:
        raise InvalidDcqlQueryError("multiple must be false")
    if entry.get("require_cryptographic_holder_binding", True) is not True:
        raise InvalidDcqlQueryError("holder binding is always required")
    meta = entry.get("meta")
    if not isinstance(meta, dict) or set(meta) != {"vct_values"}:
        raise InvalidDcqlQueryError("meta must hold vct_values only")
    vct_values = _strings(meta["vct_values"], "meta.vct_values", MAX_VCT_VALUES)
    raw_claims = entry.get("claims")
    if not isinstance(raw_claims, list) or not 1 <= len(raw_claims) <= MAX_CLAIMS:
        raise InvalidDcqlQueryError(f"claims must list 1..{MAX_CLAIMS} claims")
    claims = tuple(_claim_name(c) for c in raw_claims)
    if len(set(claims)) != len(claims):
        raise InvalidDcqlQueryError("a claim is asked for twice")
    return CredentialQuery(query_id, vct_values, claims)


def parse_dcql(document: object) -> tuple[CredentialQuery, ...]:
    """The Credential Queries of ``document`` (module docstring); InvalidDcqlQueryError for anything else."""
    if not isinstance(document, Mapping) or set(document) - {"credentials", "credential_sets"}:
        raise InvalidDcqlQueryError("a DCQL query is an object with credentials")
    if "credential_sets" in document:
        raise InvalidDcqlQueryError("credential_sets is not supported")
    entries = document.get("credentials")
    if not isinstance(entries, list) or not 1 <= len(entries) <= MAX_QUERIES:
        raise InvalidDcqlQueryError(f"credentials must list 1..{MAX_QUERIES} credential queries")
    queries = tuple(_credential_query(e) for e in entries)
    if len({q.id for q in queries}) != len(queries):
        raise InvalidDcqlQueryError("two credential queries share an id")
    return queries


__all__ = ["BASIC_CLAIMS", "DEFAULT_QUERY_ID", "SD_JWT_FORMAT", "CredentialQuery", "basic_query", "parse_dcql",
           "vct_of"]
