"""The collaborators a view needs, stored on the app by create_app (no module globals)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import current_app

from wallet_api.settings import WalletApiSettings

if TYPE_CHECKING:  # annotations only: importing the package needs no issuer back end
    from issuer.service import IssuerService

EXTENSION = "epermit_wallet_api"


@dataclass(frozen=True)
class WalletContext:
    settings: WalletApiSettings
    service: IssuerService
    clock: Callable[[], int]


def wallet_context() -> WalletContext:
    context = current_app.extensions[EXTENSION]
    assert isinstance(context, WalletContext)
    return context
