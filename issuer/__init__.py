"""The registry of permits and officers: issuance decisions, status changes, audit trail, stores, officer API.

The names below are the package's public API (``from issuer import IssuerService, IssuerSettings``), loaded
on first use (PEP 562) so that importing one value type does not load the service, a store or Flask. The
layers inside (tests/test_layering.py keeps them one-way): issuer.model, issuer.errors, issuer.settings,
issuer.rules (values and pure decisions) <- issuer.store (the Store protocol, sqlite/, redis/) <- the
services (service, pickup, deferred, publication, audit, officers, desk, bulk, reissue) <- issuer.http.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from credential.door import lazy_door

_EXPORTS = {
    "IssuerService": "issuer.service", "IssuerSettings": "issuer.settings", "Clock": "issuer.settings",
    "system_clock": "issuer.settings", "Store": "issuer.store", "OfficerDesk": "issuer.desk",
    "OfficerRegistry": "issuer.officers", "AuditLog": "issuer.audit", "verify_chain": "issuer.audit",
    "Anchor": "issuer.audit",
    "Record": "issuer.model", "RecordState": "issuer.model", "Offer": "issuer.model",
    "DeliveredCredential": "issuer.model", "Reason": "issuer.model", "ReasonCode": "issuer.model",
    "AuditEntry": "issuer.model", "Officer": "issuer.model", "Role": "issuer.model", "Action": "issuer.model",
    "offer_uri": "issuer.model",
    "IssuerError": "issuer.errors", "NotFoundError": "issuer.errors", "RecordNotFoundError": "issuer.errors",
    "StateConflictError": "issuer.errors", "ForbiddenError": "issuer.errors",
    "StoreUnavailableError": "issuer.errors", "SettingsError": "issuer.errors",
}
__all__ = sorted(_EXPORTS)


__getattr__ = lazy_door("issuer", _EXPORTS, globals())


if TYPE_CHECKING:
    from issuer.audit import Anchor, AuditLog, verify_chain
    from issuer.desk import OfficerDesk
    from issuer.errors import (
        ForbiddenError,
        IssuerError,
        NotFoundError,
        RecordNotFoundError,
        SettingsError,
        StateConflictError,
        StoreUnavailableError,
    )
    from issuer.model import (
        Action,
        AuditEntry,
        DeliveredCredential,
        Offer,
        Officer,
        Reason,
        ReasonCode,
        Record,
        RecordState,
        Role,
        offer_uri,
    )
    from issuer.officers import OfficerRegistry
    from issuer.service import IssuerService
    from issuer.settings import Clock, IssuerSettings, system_clock
    from issuer.store import Store
