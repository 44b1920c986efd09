"""Document numbers the system allocates: ``<type>-<district>-<year>-<sequence>``, e.g. DJK-110105-2026-000042.

One sequence per document type, district and (Beijing) year, kept by the store (Store.allocate_number:
atomic on both back ends, never handed out twice, never expiring), so two windows registering at the same
second get two numbers and a restart never reuses one. The type prefixes are the ones the paper documents
and the samples use: JZZ 居住证 (residence permit), DJK 居住登记卡 (registration card). GB/T 2260 and
credential.codes define no check character for these numbers, so none is appended.

A number is allocated only after the application passed every check (issuer.service.register_application),
so a refused application spends none; a store failure between allocation and insertion leaves a gap, as a
voided paper form does. Numbers given by the officer API or a bulk CSV (from another system, or the paper
process) are taken as they are: the console is the one that always allocates.
"""

from __future__ import annotations

import datetime

from credential.model import CredentialType
from issuer.store import Store

NUMBER_PREFIX: dict[CredentialType, str] = {CredentialType.RESIDENCE_PERMIT: "JZZ",
                                            CredentialType.RESIDENCE_REGISTRATION: "DJK"}


def sequence_name(kind: CredentialType, district: str, day: datetime.date) -> str:
    return f"{NUMBER_PREFIX[kind]}-{district}-{day.year:04d}"


def document_number(kind: CredentialType, district: str, day: datetime.date, n: int) -> str:
    """The ``n``-th number of the sequence (six digits, more past 999999: the field holds 32 characters)."""
    return f"{sequence_name(kind, district, day)}-{n:06d}"


def allocate_document_number(store: Store, kind: CredentialType, district: str, day: datetime.date) -> str:
    """The next number of the type's and district's sequence of ``day``'s year, taken from the store."""
    return document_number(kind, district, day, store.allocate_number(sequence_name(kind, district, day)))
