"""The extendedKeyUsage OIDs that say what a signing certificate's key may sign, under an arc the deployment owns.

A purpose OID is ``<arc>.1`` (credential signing), ``<arc>.2`` (status list signing) or ``<arc>.3`` (trust list
signing, reserved: the root signs trust lists today). The arc is a setting of the key directory (``epermit keys
init --eku-arc``, kept in keyring.json) and is named in every trust list, so that verifiers check certificates
against the arc of the deployment that signed them. A deployment with an arc of its own (an IANA private
enterprise number, a national arc) sets it; the others use DEFAULT_EKU_ARC.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from credential.errors import InvalidClaimError

if TYPE_CHECKING:  # loaded by purpose_oid's callers (certificate makers): a verifier compares dotted text
    from cryptography import x509

# A UUID arc: ITU-T X.667 | ISO/IEC 9834-8 (GB/T 17969.8) clause 7 lets anyone use a UUID, as the single integer
# of its §6.3, as an arc under {joint-iso-itu-t uuid(25)} without registering it. Minted once for epermit with
# Python's uuid.uuid4() (random, version 4): c8b52541-5f8b-410d-8b33-cc4b0e50579a, whose uuid.UUID(...).int is
# the number below; the arcs under it (.1 .2 .3) are ours to assign. Never change it: every certificate made
# with the default carries it.
DEFAULT_EKU_ARC = "2.25.266786160516933300746126921407432513434"
PURPOSE_ARCS = {"credential": 1, "status": 2, "trust_list": 3}
MAX_ARC = 128  # characters: a 2.25 arc is 44; registered arcs are shorter still
# The private enterprise number that earlier key directories used as a placeholder: assigned to nobody here.
_PLACEHOLDER = "1.3.6.1.4.1.99999"
_DOTTED = re.compile(r"(0|1|2)(\.(0|[1-9][0-9]*))+")


def check_eku_arc(arc: object) -> str:
    """``arc`` if it is an OID in dotted decimal (ITU-T X.660: first arc 0..2, second < 40 under 0 and 1, no
    leading zeros) of at least three arcs that is not the retired placeholder; InvalidClaimError("eku_arc")
    otherwise."""
    if not isinstance(arc, str) or len(arc) > MAX_ARC or not _DOTTED.fullmatch(arc):
        raise InvalidClaimError("eku_arc", "must be an OID in dotted decimal, e.g. 2.25.<uuid as an integer>")
    parts = arc.split(".")
    if len(parts) < 3:  # a two-arc OID (2.25, 1.2) is a registration tree's, never one deployment's
        raise InvalidClaimError("eku_arc", "must have at least three arcs")
    first, second = parts[:2]
    if first in ("0", "1") and int(second) >= 40:
        raise InvalidClaimError("eku_arc", "under arcs 0 and 1 the second arc must be below 40")
    if arc == _PLACEHOLDER or arc.startswith(_PLACEHOLDER + "."):
        raise InvalidClaimError("eku_arc", f"{_PLACEHOLDER} is a placeholder, not an arc this deployment owns")
    return arc


def purpose_dotted(arc: str, purpose: str) -> str:
    """The extendedKeyUsage OID of ``purpose`` (credential, status, trust_list) under ``arc``, dotted."""
    return f"{check_eku_arc(arc)}.{PURPOSE_ARCS[purpose]}"


def purpose_oid(arc: str, purpose: str) -> x509.ObjectIdentifier:
    """The extendedKeyUsage OID of ``purpose`` under ``arc``, as cryptography.x509 builds certificates with."""
    from cryptography import x509

    return x509.ObjectIdentifier(purpose_dotted(arc, purpose))


def purposes_named(usages: x509.ExtendedKeyUsage, arc: str) -> list[str]:
    """The epermit purposes whose OID under ``arc`` appears in ``usages``."""
    return [purpose for purpose in PURPOSE_ARCS if purpose_oid(arc, purpose) in usages]
