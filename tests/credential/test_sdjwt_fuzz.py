"""verify_sd_jwt_vc raises CredentialError subclasses and nothing else, whatever it is given."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from credential.disclosures import digest
from credential.encoding import b64url_encode, json_dumps
from credential.errors import CredentialError
from credential.jose import parse_compact
from credential.sdjwt import MAX_SD_JWT, present, split_sd_jwt, verify_sd_jwt_vc
from tests.conftest import T0
from tests.credential.sdjwt_support import HOLDER, base_payload, forge, issue, resolve

B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
TOKEN = issue()
PRESENTATION = present(TOKEN, disclose={"name", "sex"}, holder_signer=HOLDER, aud="a", nonce="n", now=T0)
PAYLOAD = parse_compact(split_sd_jwt(TOKEN)[0], max_size=MAX_SD_JWT).payload
FAST = settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
DEEP = settings(FAST, max_examples=3000)

_json: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=8,
)


def check(text: str, require_key_binding: bool = False) -> None:
    try:
        verify_sd_jwt_vc(text, resolve_key=resolve, now=T0, require_key_binding=require_key_binding,
                         aud="a", nonce="n")
    except CredentialError:
        pass


def arbitrary_text(text: str) -> None:
    check(text)


def mutated_valid_tokens(token: str, data: st.DataObject, require_key_binding: bool) -> None:
    text = token
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, max(len(text) - 1, 0)))
        operation = data.draw(st.sampled_from(["replace", "delete", "insert", "cut", "duplicate"]))
        char = data.draw(st.sampled_from(B64 + "~."))
        if operation == "replace":
            text = text[:position] + char + text[position + 1:]
        elif operation == "delete":
            text = text[:position] + text[position + 1:]
        elif operation == "insert":
            text = text[:position] + char + text[position:]
        elif operation == "cut":
            text = text[:position]
        else:  # a whole element (disclosure, JWT or KB-JWT) repeated elsewhere
            parts = text.split("~")
            parts.insert(data.draw(st.integers(0, len(parts))), data.draw(st.sampled_from(parts)))
            text = "~".join(parts)
    check(text, require_key_binding)


def signed_payloads_with_arbitrary_claims(changes: dict[str, Any], removed: list[str]) -> None:
    # Signed by a trusted key: the semantic checks, not the signature, must stop these.
    payload = {**PAYLOAD, **changes}
    for name in removed:
        payload.pop(name, None)
    check(forge(payload, split_sd_jwt(TOKEN)[1]))


def signed_arbitrary_disclosures(contents: list[Any], in_array: bool) -> None:
    disclosures = [b64url_encode(json_dumps(c)) for c in contents]
    digests = [digest(d) for d in disclosures]
    payload = base_payload(items=[{"...": h} for h in digests]) if in_array else base_payload(_sd=digests)
    check(forge(payload, disclosures))


FUZZERS: dict[str, tuple[Callable[..., None], tuple[st.SearchStrategy[Any], ...]]] = {
    "arbitrary_text": (
        arbitrary_text,
        (st.text(alphabet=st.sampled_from(B64 + "~.=+/ 张\x00"), max_size=300) | st.text(max_size=100),),
    ),
    "mutated_valid_tokens": (
        mutated_valid_tokens, (st.sampled_from([TOKEN, PRESENTATION]), st.data(), st.booleans()),
    ),
    "signed_payloads_with_arbitrary_claims": (
        signed_payloads_with_arbitrary_claims,
        (st.dictionaries(st.sampled_from([*sorted(PAYLOAD), "name", "x"]), _json, min_size=1, max_size=3),
         st.lists(st.sampled_from(sorted(PAYLOAD)), max_size=2)),
    ),
    "signed_arbitrary_disclosures": (
        signed_arbitrary_disclosures, (st.lists(_json, min_size=1, max_size=3), st.booleans()),
    ),
}


def run(name: str, profile: settings) -> None:
    body, strategies = FUZZERS[name]
    profile(given(*strategies)(body))()


@pytest.mark.parametrize("name", FUZZERS)
def test_only_credential_errors(name: str) -> None:
    run(name, FAST)


@pytest.mark.slow
@pytest.mark.parametrize("name", FUZZERS)
def test_only_credential_errors_deep(name: str) -> None:
    run(name, DEEP)
