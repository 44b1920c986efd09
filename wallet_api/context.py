"""The collaborators a view needs, stored on the app by create_app (no module globals)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import current_app

from wallet_api.settings import WalletApiSettings

if TYPE_CHECKING:  # annotations only: importing the package needs no issuer back end
    from issuer.requests import ResidentRequests
    from issuer.service import IssuerService

EXTENSION = "epermit_wallet_api"
REQUESTS = "epermit_resident_requests"  # the residents' requests service (wallet_api.resident installs it)


@dataclass(frozen=True)
class WalletContext:
    settings: WalletApiSettings
    service: IssuerService
    clock: Callable[[], int]


def wallet_context() -> WalletContext:
    context = current_app.extensions[EXTENSION]
    assert isinstance(context, WalletContext)
    return context


def resident_requests() -> ResidentRequests:
    """The residents' requests service (issuer.requests), shared by the resident routes, the credential
    endpoint (recovery codes) and the notification endpoint (a request finishes on credential_accepted)."""
    return current_app.extensions[REQUESTS]  # type: ignore[no-any-return]
