"""The issuer service's settings (where it is published, how long its secrets and documents live) and its clock.

``Clock`` is what every collaborator that judges time takes: unix seconds now. ``system_clock`` is the one
real clock of the project; tests pass their own.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from issuer.errors import SettingsError

Clock = Callable[[], int]


def system_clock() -> int:
    """Unix seconds now, from the operating system."""
    return int(time.time())


@dataclass(frozen=True)
class IssuerSettings:
    public_url: str  # the wallet API's public base URL: SD-JWT `iss`, prefix of status list URIs and vct
    status_list_size: int = 1 << 20  # entries per list (herd privacy)
    status_list_ttl: int = 300  # `ttl` claim, seconds
    status_list_validity: int = 7 * 86400  # `exp` = iat + this
    offer_ttl: int = 7 * 86400  # pickup code lifetime
    access_token_ttl: int = 600
    nonce_ttl: int = 300
    max_pin_attempts: int = 5
    credential_validity_days: int = 365  # default validity when an application gives none
    # The bureau's rules (issuer.rules): months counted on Beijing civil days.
    min_registration_months: int = 6  # registration a residence permit needs (a supervisor may override)
    permit_validity_months: int = 12  # a permit's validity, renewed by the annual endorsement
    registration_card_validity_months: int = 12  # a registration card's longest validity
    endorsement_window_days: int = 60  # the endorsement is due this long before the validity ends
    # A resident's endorsement filed before the window: refused with the day it opens (False), or queued for
    # an officer (True, a bureau's own rule); either way the new validity runs from the anniversary.
    early_endorsement_requests: bool = False

    def __post_init__(self) -> None:
        parts = urlsplit(self.public_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise SettingsError("public_url", "must be an absolute http(s) URL")
        if self.public_url.endswith("/") or parts.query or parts.fragment:
            raise SettingsError("public_url", "must have no trailing slash, query or fragment")
        # A list of 2-bit entries packs four to a byte; keep whole bytes so every list has a plain size.
        if self.status_list_size < 8 or self.status_list_size % 8:
            raise SettingsError("status_list_size", "must be a positive multiple of 8")
        for name in ("status_list_ttl", "status_list_validity", "offer_ttl", "access_token_ttl", "nonce_ttl",
                     "max_pin_attempts", "credential_validity_days", "permit_validity_months",
                     "registration_card_validity_months"):
            if getattr(self, name) <= 0:
                raise SettingsError(name, "must be positive")

        if not 0 <= self.min_registration_months <= 120 or not 0 <= self.endorsement_window_days <= 366:
            raise SettingsError("min_registration_months", "must be 0..120 and endorsement_window_days 0..366")

    def status_list_uri(self, list_no: int) -> str:
        return f"{self.public_url}/statuslists/{list_no}"
