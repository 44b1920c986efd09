"""Console sign-in: an officer id, a password and a TOTP code open a server-side session.

The console is for people; bearer tokens (issuer.officers) are for machines on the JSON API and are not
accepted here: a token is one long-lived factor that scripts keep in files, and a console that took it as a
password would let a leaked script token into the browser without the second factor.

An officer's credentials (issuer.store.OfficerSecrets): a password hash (issuer.passwords: scrypt, salted,
with its parameters), a TOTP secret sealed under the store secret (issuer.totp), the last TOTP step used
(a code signs in once) and a *generation*. A session is opened at the officer's generation and lives only
while it is unchanged: a password change, a TOTP enrolment or reset, a change of role, districts or name,
and disabling the officer each bump it, ending every session of the officer at once — also for a copy of
the cookie saved earlier. The cookie holds a random session id; the store only its keyed hash.

An officer with a password and no TOTP secret (new, or after ``reset_totp``) enrols at the next sign-in:
the password opens an enrolment (a new secret, sealed, kept 10 minutes under the keyed hash of a random id
the cookie holds) and its QR code; the first right code from the app completes it and opens the session.
`epermit officers enrol-totp` enrols from the office machine instead (the QR printed for the officer).
Throttling and the audit of failures are the desk's (issuer.desk, issuer.signin).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass

from issuer.errors import InvalidRequestError, UnauthorizedError
from issuer.keyed import OFFICER_SESSION, TOTP_ENROLMENT, KeyedHash
from issuer.model import MAX_TOKEN_LENGTH, Officer, is_officer_id
from issuer.passwords import DEFAULT_COST, ScryptCost, check_new_password, hash_password, verify_password
from issuer.settings import Clock, system_clock
from issuer.store import Store
from issuer.totp import TotpSeal, matching_step, new_secret, otpauth_uri, secret_text

ENROLMENT_TTL = 600  # seconds to scan the QR code and type the first code
_ENROLMENTS = "totp_enrolment"  # the ephemeral kind


class SecondFactorError(UnauthorizedError):
    """The password was right, the TOTP code was not (wrong, stale, or already used): audited as such."""


@dataclass(frozen=True)
class SignIn:
    """A right password (and code): the officer, the generation it was checked at, and whether the officer
    must enrol a TOTP secret before the session opens."""

    officer: Officer
    generation: int
    must_enrol: bool


@dataclass(frozen=True)
class Enrolment:
    """A TOTP secret for an officer's app: shown once (as a QR code of the URI, and as text to type)."""

    officer_id: str
    secret: bytes
    generation: int  # the officer's generation when the secret was made (a console enrolment lands only at it)

    @property
    def uri(self) -> str:
        return otpauth_uri(self.secret, self.officer_id)

    @property
    def text(self) -> str:
        return secret_text(self.secret)


def set_password(store: Store, officer_id: str, password: str, cost: ScryptCost = DEFAULT_COST) -> None:
    """A new password (WeakPasswordError if it breaks a rule); every session of the officer ends. Needs no
    store secret (`epermit officers set-password` asks for no key passphrase)."""
    check_new_password(officer_id, password)
    if store.set_officer_password(officer_id, hash_password(password, cost)) is None:
        raise InvalidRequestError(f"no officer {officer_id!r}")


def reset_totp(store: Store, officer_id: str) -> None:
    """Forget the TOTP secret (a lost phone): the officer enrols again at the next sign-in; sessions end."""
    if store.set_officer_totp(officer_id, None) is None:
        raise InvalidRequestError(f"no officer {officer_id!r}")


class ConsoleLogins:
    def __init__(self, store: Store, *, keyed: KeyedHash, clock: Clock = system_clock,
                 cost: ScryptCost = DEFAULT_COST) -> None:
        self._store = store
        self._keyed = keyed
        self._seal = TotpSeal(keyed)
        self._clock = clock
        self._cost = cost

    # --- set by the office (`epermit officers ...`) ---------------------------------------------------
    def set_password(self, officer_id: str, password: str) -> None:
        set_password(self._store, officer_id, password, self._cost)

    def enrol_totp(self, officer_id: str) -> Enrolment:
        """A new TOTP secret, in force at once (replacing any): every session of the officer ends."""
        secret = new_secret()
        generation = self._store.set_officer_totp(officer_id, self._seal.seal(officer_id, secret))
        if generation is None:
            raise InvalidRequestError(f"no officer {officer_id!r}")
        return Enrolment(officer_id, secret, generation)

    def reset_totp(self, officer_id: str) -> None:
        reset_totp(self._store, officer_id)

    # --- signing in -----------------------------------------------------------------------------------
    def check(self, officer_id: str, password: str, code: str) -> SignIn:
        """UnauthorizedError (one message) unless the password is the officer's and the officer is active;
        then SecondFactorError unless the officer must enrol, or ``code`` is the code of a step not used yet."""
        stored = self._store.get_officer_secrets(officer_id) if is_officer_id(officer_id) else None
        right = verify_password(stored.password_hash if stored is not None else None, password)  # always the work
        officer = self._store.get_officer(officer_id) if stored is not None else None
        if not right or stored is None or officer is None or officer.disabled:
            raise UnauthorizedError("wrong officer id or password")
        if stored.totp_sealed is None:
            return SignIn(officer, stored.generation, must_enrol=True)
        secret = self._seal.open(officer_id, stored.totp_sealed)
        step = matching_step(secret, code, self._clock()) if secret is not None else None
        if step is None or not self._store.use_totp_step(officer_id, step, generation=stored.generation):
            raise SecondFactorError("wrong or used code")
        return SignIn(officer, stored.generation, must_enrol=False)

    def open_session(self, signed: SignIn, *, ttl: int) -> str:
        """A session for a checked sign-in (not one that must enrol); the id for the cookie."""
        if signed.must_enrol:
            raise UnauthorizedError("enrol a second factor first")
        return self._open(signed.officer.id, signed.generation, ttl)

    def _open(self, officer_id: str, generation: int, ttl: int) -> str:
        session_id = secrets.token_urlsafe(32)
        now = self._clock()
        self._store.add_officer_session(self._keyed.digest(OFFICER_SESSION, session_id), officer_id,
                                        generation=generation, expires_at=now + ttl, now=now)
        return session_id

    # --- enrolling at sign-in ---------------------------------------------------------------------------
    def begin_enrolment(self, signed: SignIn) -> tuple[str, Enrolment]:
        """A new secret for an officer who must enrol, kept sealed for ENROLMENT_TTL; (its id, the secret)."""
        enrolment = Enrolment(signed.officer.id, new_secret(), signed.generation)
        enrolment_id = secrets.token_urlsafe(32)
        value = json.dumps({"officer": enrolment.officer_id, "generation": enrolment.generation,
                            "sealed": self._seal.seal(enrolment.officer_id, enrolment.secret)})
        self._store.put_ephemeral(_ENROLMENTS, self._keyed.digest(TOTP_ENROLMENT, enrolment_id), value,
                                  ENROLMENT_TTL, self._clock())
        return enrolment_id, enrolment

    def pending_enrolment(self, enrolment_id: str) -> Enrolment | None:
        if not enrolment_id or len(enrolment_id) > MAX_TOKEN_LENGTH:
            return None
        value = self._store.get_ephemeral(_ENROLMENTS, self._keyed.digest(TOTP_ENROLMENT, enrolment_id),
                                          self._clock())
        if value is None:
            return None
        pending = json.loads(value)
        secret = self._seal.open(pending["officer"], pending["sealed"])
        return None if secret is None else Enrolment(pending["officer"], secret, int(pending["generation"]))

    def finish_enrolment(self, enrolment_id: str, code: str, *, ttl: int) -> tuple[Officer, str]:
        """The officer and a new session id once ``code`` is the app's code of the pending secret: the secret
        is then the officer's (unless the officer changed meanwhile: UnauthorizedError, start over)."""
        enrolment = self.pending_enrolment(enrolment_id)
        if enrolment is None:
            raise UnauthorizedError("no enrolment in progress: sign in again")
        step = matching_step(enrolment.secret, code, self._clock())
        if step is None:
            raise SecondFactorError("wrong code")
        self._store.take_ephemeral(_ENROLMENTS, self._keyed.digest(TOTP_ENROLMENT, enrolment_id), self._clock())
        officer = self._store.get_officer(enrolment.officer_id)
        generation = self._store.set_officer_totp(enrolment.officer_id,
                                                  self._seal.seal(enrolment.officer_id, enrolment.secret),
                                                  generation=enrolment.generation)
        if officer is None or officer.disabled or generation is None \
                or not self._store.use_totp_step(officer.id, step, generation=generation):
            raise UnauthorizedError("the officer changed during the enrolment: sign in again")
        return officer, self._open(officer.id, generation, ttl)

    # --- sessions ---------------------------------------------------------------------------------------
    def session_officer(self, session_id: str) -> Officer:
        """The officer of a live session; UnauthorizedError for anything else."""
        if not session_id or len(session_id) > MAX_TOKEN_LENGTH:
            raise UnauthorizedError("no live session")
        officer_id = self._store.officer_for_session(self._keyed.digest(OFFICER_SESSION, session_id), self._clock())
        officer = self._store.get_officer(officer_id) if officer_id is not None else None
        if officer is None or officer.disabled:
            raise UnauthorizedError("no live session")
        return officer

    def end_session(self, session_id: str) -> bool:
        if not session_id or len(session_id) > MAX_TOKEN_LENGTH:
            return False
        return self._store.end_officer_session(self._keyed.digest(OFFICER_SESSION, session_id))

