"""Officer passwords: the rules a new one must meet, and its memory-hard hash (scrypt).

The store keeps ``scrypt$<log2 n>$<r>$<p>$<salt>$<hash>``: the parameters travel with each hash, so they
can be raised for new passwords without breaking the old ones (``needs_rehash`` says which to renew), and a
check reads them from the hash, within bounds (a planted hash cannot make a sign-in burn gigabytes). The
salt is 16 random bytes per password; the comparison is constant-time. An officer without a password is
checked against a fixed hash all the same, so the time of a refusal does not tell which ids have one.
"""

from __future__ import annotations

import hmac
import os
from dataclasses import dataclass

from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from credential.encoding import b64url_decode, b64url_encode
from credential.errors import MalformedError
from issuer.errors import InvalidRequestError

MIN_LENGTH = 12
MAX_LENGTH = 200  # bytes of UTF-8 hashed at most: the form caps its fields at this too
SCHEME = "scrypt"
SALT_SIZE = 16
HASH_SIZE = 32
_MAX_LOG2_N, _MAX_R, _MAX_P = 20, 16, 4  # a stored hash asking for more is malformed, not obeyed


@dataclass(frozen=True)
class ScryptCost:
    log2_n: int = 15  # n = 2**15, r = 8: 32 MiB and about 0.1 s per check
    r: int = 8
    p: int = 1

    def __post_init__(self) -> None:
        if not (15 <= self.log2_n <= _MAX_LOG2_N and 8 <= self.r <= _MAX_R and 1 <= self.p <= _MAX_P):
            raise ValueError("scrypt cost below n=2**15, r=8, p=1 or above the bounds a check accepts")


DEFAULT_COST = ScryptCost()


class WeakPasswordError(InvalidRequestError):
    """A new password breaks a rule; ``rule`` names which (``length``, ``officer_id``)."""

    def __init__(self, rule: str, description: str) -> None:
        super().__init__(description)
        self.rule = rule


def check_new_password(officer_id: str, password: str) -> None:
    """WeakPasswordError unless ``password`` is 12..200 characters and is not the officer id (nor contains an id
    of 4 or more characters: "clerk0012024!" is the id with a year)."""
    if len(password) < MIN_LENGTH:
        raise WeakPasswordError("length", f"the password must have at least {MIN_LENGTH} characters")
    if len(password.encode("utf-8")) > MAX_LENGTH:
        raise WeakPasswordError("length", f"the password must have at most {MAX_LENGTH} bytes")
    folded, officer = password.casefold(), officer_id.casefold()
    if folded == officer or (len(officer) >= 4 and officer in folded):
        raise WeakPasswordError("officer_id", "the password must not contain the officer id")


def _scrypt(password: str, salt: bytes, cost: ScryptCost) -> bytes:
    kdf = Scrypt(salt=salt, length=HASH_SIZE, n=2**cost.log2_n, r=cost.r, p=cost.p)
    return kdf.derive(password.encode("utf-8")[:MAX_LENGTH])


def hash_password(password: str, cost: ScryptCost = DEFAULT_COST) -> str:
    salt = os.urandom(SALT_SIZE)
    digest = _scrypt(password, salt, cost)
    return f"{SCHEME}${cost.log2_n}${cost.r}${cost.p}${b64url_encode(salt)}${b64url_encode(digest)}"


def _parse(stored: str) -> tuple[ScryptCost, bytes, bytes] | None:
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != SCHEME or not all(p.isascii() and p.isdigit() for p in parts[1:4]):
        return None
    try:
        cost = ScryptCost(int(parts[1]), int(parts[2]), int(parts[3]))
        salt, digest = b64url_decode(parts[4]), b64url_decode(parts[5])
    except (ValueError, MalformedError):
        return None
    return (cost, salt, digest) if len(salt) == SALT_SIZE and len(digest) == HASH_SIZE else None


_ABSENT = (DEFAULT_COST, bytes(SALT_SIZE), bytes(HASH_SIZE))  # checked against when there is no password


def verify_password(stored: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored`` (None, or a malformed hash: never, after the same work)."""
    parsed = _parse(stored) if stored is not None else None
    cost, salt, digest = parsed if parsed is not None else _ABSENT
    matches = hmac.compare_digest(_scrypt(password, salt, cost), digest)
    return matches and parsed is not None


def needs_rehash(stored: str, cost: ScryptCost = DEFAULT_COST) -> bool:
    """Whether a stored hash is weaker than ``cost`` (renew it at the officer's next password change)."""
    parsed = _parse(stored)
    return parsed is None or (parsed[0].log2_n, parsed[0].r, parsed[0].p) < (cost.log2_n, cost.r, cost.p)
