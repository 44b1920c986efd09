"""Why a supervisor or an issuing officer changed a record: a code from a fixed table, plus free text.

The code is what statistics and the audit replay read; the text is the officer's one-line note (required
for OTHER). The audit entry stores ``"CODE: text"`` and nothing personal beyond what the officer typed.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from issuer.errors import InvalidRequestError

MAX_REASON_TEXT = 160


class ReasonCode(enum.Enum):
    LOST = "LOST"  # the phone or the card was lost or stolen
    MOVED_AWAY = "MOVED_AWAY"  # the holder left the district
    FRAUD = "FRAUD"  # obtained or used fraudulently
    DECEASED = "DECEASED"
    COURT_ORDER = "COURT_ORDER"
    ADMIN_ERROR = "ADMIN_ERROR"  # issued or changed by mistake
    RESOLVED = "RESOLVED"  # what caused a suspension is cleared (lift)
    NEW_DEVICE = "NEW_DEVICE"  # re-delivery to a new phone
    OTHER = "OTHER"  # the text says why (required)


REASON_CODES = tuple(code.value for code in ReasonCode)


@dataclass(frozen=True)
class Reason:
    code: ReasonCode
    text: str

    def __str__(self) -> str:
        return f"{self.code.value}: {self.text}" if self.text else self.code.value


def parse_reason(code: object, text: object = "") -> Reason:
    """A checked reason; InvalidRequestError for an unknown code or bad text (one printable line)."""
    if not isinstance(code, str) or code not in REASON_CODES:
        raise InvalidRequestError(f"reason_code must be one of {', '.join(REASON_CODES)}")
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise InvalidRequestError("reason must be text")
    clean = text.strip()
    if len(clean) > MAX_REASON_TEXT or not clean.isprintable():
        raise InvalidRequestError(f"reason must be one printable line of at most {MAX_REASON_TEXT} characters")
    if code == ReasonCode.OTHER.value and not clean:
        raise InvalidRequestError("reason_code OTHER needs a reason text")
    return Reason(ReasonCode(code), clean)
