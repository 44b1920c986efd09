"""Trust list versions from a key directory: chosen above everything published, refused when not."""

from __future__ import annotations

from pathlib import Path

import pytest

from keys import KeyRing, TrustListVersionError, publish_trust_list
from keys.publish import next_version
from tests.conftest import T0 as T0  # the one T0 of the suite

ISSUER = "https://permits.example"


@pytest.fixture(scope="module")
def ring() -> KeyRing:
    return KeyRing.generate(authority_code="110105", authority_name="朝阳分局", now=T0 - 86400)


def test_the_default_version_is_the_time_or_above_the_last(ring: KeyRing, tmp_path: Path) -> None:
    out = tmp_path / "trustlist.jwt"
    assert next_version(ring, tmp_path, out, now=T0, requested=None) == T0
    publish_trust_list(ring, tmp_path, out, issuer=ISSUER, now=T0, version=T0 + 50, status_lists=[],
                       aggregation_uri=None)
    assert next_version(ring, tmp_path, out, now=T0, requested=None) == T0 + 51


@pytest.mark.parametrize("requested", [0, -1, 7, 8])
def test_a_version_not_above_the_published_one_is_refused(ring: KeyRing, tmp_path: Path, requested: int) -> None:
    out = tmp_path / "trustlist.jwt"
    publish_trust_list(ring, tmp_path, out, issuer=ISSUER, now=T0, version=8, status_lists=[],
                       aggregation_uri=None)
    before = out.read_bytes()
    with pytest.raises(TrustListVersionError) as caught:
        publish_trust_list(ring, tmp_path, out, issuer=ISSUER, now=T0, version=requested, status_lists=[],
                           aggregation_uri=None)
    assert (caught.value.requested, caught.value.published) == (requested, 8)
    assert ("positive" if requested < 1 else "version 8 was already published") in caught.value.reason
    assert out.read_bytes() == before  # a refusal writes nothing
