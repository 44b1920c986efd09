"""What can go wrong in the resident's wallet, as the rest of epermit's errors (one EpermitError root).

``WalletError`` and its kind are refusals (the command line exits 1): the issuer said no, or sent what the
wallet will not keep. What stands in the way of trying at all — no wallet folder, an issuer that cannot be
reached, a link that is not one — is a UsageError (exit 2), as for every `epermit` command. Text that came
from a server is escaped before it is kept in a message: it reaches a terminal.
"""

from __future__ import annotations

from credential.errors import EpermitError
from epermit.errors import UsageError
from verifier.report import escaped

MAX_QUOTED = 300  # characters of a server's error text kept in a message


def _quoted(text: str) -> str:
    shown = escaped(text)
    return shown if len(shown) <= MAX_QUOTED else shown[: MAX_QUOTED - 1] + "…"


class WalletError(EpermitError):
    """A wallet step was refused, or what it received cannot be held."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class IssuerRefusedError(WalletError):
    """The issuer answered a request with an OAuth-style error (a wrong PIN: invalid_grant)."""

    def __init__(self, step: str, status: int, error: str, description: str, description_zh: str = "") -> None:
        detail = _quoted(description) or _quoted(error) or f"HTTP {status}"
        zh = f"{_quoted(description_zh)} / " if description_zh else ""  # the resident reads Chinese first
        super().__init__(f"{step}: 服务拒绝 the issuer refused: {zh}{detail}" + (f" ({_quoted(error)})" if error else ""))
        self.step = step
        self.status = status
        self.error = error
        self.description = description
        self.description_zh = description_zh


class BadCredentialError(WalletError):
    """What the issuer delivered is not a credential this wallet may keep (not signed by the issuer's key,
    not bound to this wallet's device key, or not the encoding asked for)."""


class PickupPendingError(WalletError):
    """The application awaits an officer's approval (a deferred pickup, OpenID4VCI 202)."""


class IssuerUnreachableError(UsageError):
    """The issuer could not be reached, or its TLS certificate is not trusted (--ca): an environment error."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"cannot reach {_quoted(url)}: {_quoted(reason)}")
        self.url = url
