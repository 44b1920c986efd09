"""The extendedKeyUsage arc: the default minted as X.667 says, a deployment's own accepted, the placeholder never."""

from __future__ import annotations

import uuid

import pytest
from cryptography import x509

from credential.eku import DEFAULT_EKU_ARC, PURPOSE_ARCS, check_eku_arc, purpose_oid, purposes_named
from credential.errors import InvalidClaimError

MINTED = "c8b52541-5f8b-410d-8b33-cc4b0e50579a"  # the UUID credential/eku.py says it was made from


def test_default_arc_is_the_minted_uuid_as_one_integer_under_2_25() -> None:
    minted = uuid.UUID(MINTED)
    assert minted.version == 4 and minted.variant == uuid.RFC_4122  # random, as the comment says
    assert DEFAULT_EKU_ARC == f"2.25.{minted.int}"
    assert not DEFAULT_EKU_ARC.startswith("1.3.6.1.4.1.99999")


def test_purpose_oids_under_an_arc() -> None:
    assert purpose_oid(DEFAULT_EKU_ARC, "credential").dotted_string == DEFAULT_EKU_ARC + ".1"
    assert purpose_oid(DEFAULT_EKU_ARC, "status").dotted_string == DEFAULT_EKU_ARC + ".2"
    assert purpose_oid("1.2.156.112233", "status").dotted_string == "1.2.156.112233.2"
    usages = x509.ExtendedKeyUsage([purpose_oid("1.2.156.112233", "credential")])
    assert purposes_named(usages, "1.2.156.112233") == ["credential"]
    assert purposes_named(usages, DEFAULT_EKU_ARC) == []  # the same suffix under another arc means nothing
    assert set(PURPOSE_ARCS) == {"credential", "status", "trust_list"}


@pytest.mark.parametrize("arc", ["2.25.1", "1.2.156.112233", "1.3.6.1.4.1.32473", "0.39.7", DEFAULT_EKU_ARC])
def test_an_arc_a_deployment_owns_is_accepted(arc: str) -> None:
    assert check_eku_arc(arc) == arc


@pytest.mark.parametrize("arc", [
    "1.3.6.1.4.1.99999", "1.3.6.1.4.1.99999.1",  # the placeholder earlier key directories used
    "", "2", "2.25", "1.2", "3.1.1", "2.25.", "2..25", "2.025.1", "1.40.1", "0.40", "2.25.x", " 2.25.1", "2.25.1\n",
    "2." + "1" * 200, None, 2.25,
])
def test_anything_else_is_refused(arc: object) -> None:
    with pytest.raises(InvalidClaimError) as caught:
        check_eku_arc(arc)
    assert caught.value.claim == "eku_arc"
