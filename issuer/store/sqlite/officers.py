"""SQLite: officers, their bearer tokens (stored hashed; revoked one by one or all of an officer's), their
console credentials (officer_secrets: password hash, sealed TOTP secret, last TOTP step, generation) and
console sessions (console_sessions, stored hashed; each lives while the officer's generation is the one it
was opened at). The table officer_sessions of older files (sessions tied to a token) is no longer read."""

from __future__ import annotations

import json
import sqlite3

from issuer.model import Officer, Role
from issuer.store import OfficerSecrets
from issuer.store.sqlite.db import SQLiteFile

_BUMP = ("INSERT INTO officer_secrets (officer_id, generation) VALUES (?, 1) ON CONFLICT (officer_id) DO UPDATE "
         "SET generation = generation + 1 RETURNING generation")


def officer_from_row(row: sqlite3.Row) -> Officer:
    districts = tuple(json.loads(row["districts"]))
    return Officer(row["id"], row["name"], Role(row["role"]), districts, bool(row["disabled"]))


def officer_row(officer: Officer) -> tuple[object, ...]:
    return (officer.id, officer.name, officer.role.value, json.dumps(list(officer.districts)), int(officer.disabled))


class SQLiteOfficers:
    _db: SQLiteFile

    def put_officer(self, officer: Officer) -> None:
        with self._db.write() as c:
            c.execute(
                "INSERT INTO officers VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
                "name = excluded.name, role = excluded.role, districts = excluded.districts, "
                "disabled = excluded.disabled",
                officer_row(officer),
            )

    def insert_officer(self, officer: Officer) -> bool:
        with self._db.write() as c:
            return c.execute("INSERT INTO officers VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
                             officer_row(officer)).rowcount == 1

    def change_officer(self, officer: Officer) -> int | None:
        with self._db.write() as c:  # the officer and its tokens in one BEGIN IMMEDIATE
            _, name, role, districts, disabled = officer_row(officer)
            if c.execute("UPDATE officers SET name = ?, role = ?, districts = ?, disabled = ? WHERE id = ?",
                         (name, role, districts, disabled, officer.id)).rowcount != 1:
                return None
            c.execute(_BUMP, (officer.id,)).fetchone()
            return c.execute("UPDATE officer_tokens SET revoked = 1 WHERE officer_id = ? AND revoked = 0",
                             (officer.id,)).rowcount

    def get_officer(self, officer_id: str) -> Officer | None:
        row = self._db.row("SELECT * FROM officers WHERE id = ?", (officer_id,))
        return None if row is None else officer_from_row(row)

    def list_officers(self) -> list[Officer]:
        return [officer_from_row(row) for row in self._db.rows("SELECT * FROM officers ORDER BY id")]

    def add_officer_token(self, token_hash: str, officer_id: str, *, expires_at: int, now: int) -> None:
        with self._db.write() as c:
            c.execute(
                "INSERT INTO officer_tokens (token_hash, officer_id, expires_at, created_at) VALUES (?, ?, ?, ?)",
                (token_hash, officer_id, expires_at, now),
            )

    def officer_for_token(self, token_hash: str, now: int) -> str | None:
        row = self._db.row(
            "SELECT officer_id FROM officer_tokens WHERE token_hash = ? AND revoked = 0 AND expires_at > ?",
            (token_hash, now),
        )
        return None if row is None else str(row[0])

    def revoke_officer_token(self, token_hash: str) -> str | None:
        with self._db.write() as c:
            row = c.execute(
                "UPDATE officer_tokens SET revoked = 1 WHERE token_hash = ? AND revoked = 0 RETURNING officer_id",
                (token_hash,),
            ).fetchone()
        return None if row is None else str(row[0])

    def revoke_officer_tokens(self, officer_id: str) -> int:
        with self._db.write() as c:
            return c.execute(
                "UPDATE officer_tokens SET revoked = 1 WHERE officer_id = ? AND revoked = 0", (officer_id,)
            ).rowcount

    def get_officer_secrets(self, officer_id: str) -> OfficerSecrets | None:
        row = self._db.row("SELECT s.password_hash, s.totp_sealed, s.totp_last_step, s.generation FROM officers o "
                           "LEFT JOIN officer_secrets s ON s.officer_id = o.id WHERE o.id = ?", (officer_id,))
        if row is None:
            return None
        return OfficerSecrets(row[0], row[1], int(row[2] or 0), int(row[3] or 0))

    def set_officer_password(self, officer_id: str, password_hash: str) -> int | None:
        with self._db.write() as c:
            if c.execute("SELECT 1 FROM officers WHERE id = ?", (officer_id,)).fetchone() is None:
                return None
            generation = int(c.execute(_BUMP, (officer_id,)).fetchone()[0])
            c.execute("UPDATE officer_secrets SET password_hash = ? WHERE officer_id = ?", (password_hash, officer_id))
            return generation

    def set_officer_totp(self, officer_id: str, totp_sealed: str | None, *, generation: int | None = None) -> int | None:
        with self._db.write() as c:
            if c.execute("SELECT 1 FROM officers WHERE id = ?", (officer_id,)).fetchone() is None:
                return None
            if generation is not None:
                row = c.execute("SELECT generation FROM officer_secrets WHERE officer_id = ?", (officer_id,)).fetchone()
                if (0 if row is None else int(row[0])) != generation:
                    return None
            new = int(c.execute(_BUMP, (officer_id,)).fetchone()[0])
            c.execute("UPDATE officer_secrets SET totp_sealed = ?, totp_last_step = 0 WHERE officer_id = ?",
                      (totp_sealed, officer_id))
            return new

    def use_totp_step(self, officer_id: str, step: int, *, generation: int) -> bool:
        with self._db.write() as c:
            return c.execute("UPDATE officer_secrets SET totp_last_step = ? WHERE officer_id = ? AND generation = ? "
                             "AND totp_last_step < ?", (step, officer_id, generation, step)).rowcount == 1

    def end_officer_sessions(self, officer_id: str) -> int | None:
        with self._db.write() as c:
            if c.execute("SELECT 1 FROM officers WHERE id = ?", (officer_id,)).fetchone() is None:
                return None
            return int(c.execute(_BUMP, (officer_id,)).fetchone()[0])

    def add_officer_session(self, session_hash: str, officer_id: str, *, generation: int, expires_at: int,
                            now: int) -> None:
        with self._db.write() as c:
            c.execute("DELETE FROM console_sessions WHERE expires_at <= ?", (now,))  # sign-ins are rare: sweep
            c.execute("INSERT INTO console_sessions VALUES (?, ?, ?, ?, ?)",
                      (session_hash, officer_id, generation, expires_at, now))

    def officer_for_session(self, session_hash: str, now: int) -> str | None:
        row = self._db.row(
            "SELECT s.officer_id FROM console_sessions s LEFT JOIN officer_secrets o ON o.officer_id = s.officer_id "
            "WHERE s.session_hash = ? AND s.expires_at > ? AND s.generation = COALESCE(o.generation, 0)",
            (session_hash, now),
        )
        return None if row is None else str(row[0])

    def end_officer_session(self, session_hash: str) -> bool:
        with self._db.write() as c:
            return c.execute("DELETE FROM console_sessions WHERE session_hash = ?", (session_hash,)).rowcount == 1
