"""The verifier's own errors: one VerifierError root under EpermitError, no verifier result code on any."""

from __future__ import annotations

import pytest

from credential.errors import CredentialError, EpermitError
from tests.conftest import T0
from tests.verifier.conftest import World
from verifier import errors
from verifier.cache import VerifierCache
from verifier.policy import Policy
from verifier.result import Result
from verifier.verify import verify


@pytest.mark.parametrize("name", errors.__all__)
def test_every_verifier_error_is_an_epermit_error_without_a_verdict(name: str) -> None:
    cls = getattr(errors, name)
    assert issubclass(cls, errors.VerifierError) and issubclass(cls, EpermitError)
    assert not issubclass(cls, CredentialError)  # a cache or a sync failure is no verdict on a credential
    assert not hasattr(cls, "code")


def test_no_root_pinned_says_so(world: World, cache: VerifierCache) -> None:
    with pytest.raises(errors.NoRootError, match="no root pinned") as caught:
        cache.root_key()
    assert caught.value.directory == cache.directory
    # A scan with nothing pinned is no verdict on the card: the verifier says it is not set up.
    outcome = verify(world.live_qr(), cache, policy=Policy(), now=T0)
    assert outcome.result is Result.NOT_SET_UP
    assert outcome.reason.startswith(f"no root pinned in the verifier cache {cache.directory}")


@pytest.mark.parametrize(("options", "field"), [
    ({"live_window": -1}, "live_window"),
    ({"kb_max_age": 1.5}, "kb_max_age"),
    ({"status_warn_age": 10, "status_max_age": 5}, "status_warn_age"),
])
def test_policy_out_of_range_is_a_verifier_error(options: dict[str, object], field: str) -> None:
    with pytest.raises(errors.InvalidPolicyError) as caught:
        Policy(**options)  # type: ignore[arg-type]
    assert caught.value.field == field and not isinstance(caught.value, ValueError)
