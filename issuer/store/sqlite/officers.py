"""SQLite: officers, their bearer tokens (stored hashed; revoked one by one or all of an officer's) and their
console sessions (stored hashed; each lives only as long as the token it was opened with)."""

from __future__ import annotations

import json
import sqlite3

from issuer.model import Officer, Role
from issuer.store.sqlite.db import SQLiteFile


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

    def add_officer_session(self, session_hash: str, officer_id: str, token_hash: str, *, expires_at: int,
                            now: int) -> None:
        with self._db.write() as c:
            c.execute("DELETE FROM officer_sessions WHERE expires_at <= ?", (now,))  # sign-ins are rare: sweep
            c.execute("INSERT INTO officer_sessions VALUES (?, ?, ?, ?, ?)",
                      (session_hash, officer_id, token_hash, expires_at, now))

    def officer_for_session(self, session_hash: str, now: int) -> str | None:
        row = self._db.row(
            "SELECT s.officer_id FROM officer_sessions s JOIN officer_tokens t ON t.token_hash = s.token_hash "
            "WHERE s.session_hash = ? AND s.expires_at > ? AND t.officer_id = s.officer_id AND t.revoked = 0 "
            "AND t.expires_at > ?",
            (session_hash, now, now),
        )
        return None if row is None else str(row[0])

    def end_officer_session(self, session_hash: str) -> bool:
        with self._db.write() as c:
            return c.execute("DELETE FROM officer_sessions WHERE session_hash = ?", (session_hash,)).rowcount == 1
