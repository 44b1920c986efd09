"""The verifier's own errors: one VerifierError root under EpermitError, no verifier result code on any."""

from __future__ import annotations

from pathlib import Path

import pytest

from credential.errors import CredentialError, EpermitError
from verifier import errors
from verifier.cache import VerifierCache
from verifier.policy import Policy


@pytest.mark.parametrize("name", errors.__all__)
def test_every_verifier_error_is_an_epermit_error_without_a_verdict(name: str) -> None:
    cls = getattr(errors, name)
    assert issubclass(cls, errors.VerifierError) and issubclass(cls, EpermitError)
    assert not issubclass(cls, CredentialError)  # a cache or a sync failure is no verdict on a credential
    assert not hasattr(cls, "code")


def test_no_root_pinned_says_so(tmp_path: Path) -> None:
    with pytest.raises(errors.NoRootError, match="no root pinned") as caught:
        VerifierCache(tmp_path).root_key()
    assert caught.value.directory == tmp_path


@pytest.mark.parametrize(("options", "field"), [
    ({"live_window": -1}, "live_window"),
    ({"kb_max_age": 1.5}, "kb_max_age"),
    ({"status_warn_age": 10, "status_max_age": 5}, "status_warn_age"),
])
def test_policy_out_of_range_is_a_verifier_error(options: dict[str, object], field: str) -> None:
    with pytest.raises(errors.InvalidPolicyError) as caught:
        Policy(**options)  # type: ignore[arg-type]
    assert caught.value.field == field and not isinstance(caught.value, ValueError)
