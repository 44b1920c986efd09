"""The SQLite Store: the embedded default, one file shared by threads and processes.

Each read-modify-write is one ``BEGIN IMMEDIATE`` transaction (see issuer.sqlite_db), so two writers
serialise on the file lock instead of both acting on the old state. The methods live in one-concept
parts under issuer/sqlite/ (records, status lists and deliveries, offers, ephemeral values, officers,
publication, audit), all sharing this store's one SQLiteFile (``self._db``).
"""

from __future__ import annotations

from pathlib import Path

from issuer.model import holder_hash
from issuer.store.memory_ephemeral import MemoryEphemeral
from issuer.store.sqlite.audit import SQLiteAudit
from issuer.store.sqlite.db import SQLiteFile
from issuer.store.sqlite.ephemeral import SQLiteEphemeral
from issuer.store.sqlite.offers import SQLiteOffers
from issuer.store.sqlite.officers import SQLiteOfficers
from issuer.store.sqlite.pickup import SQLitePickup
from issuer.store.sqlite.portraits import SQLitePortraits
from issuer.store.sqlite.publication import SQLitePublication
from issuer.store.sqlite.records import SQLiteRecords
from issuer.store.sqlite.requests import SCHEMA as REQUESTS_SCHEMA
from issuer.store.sqlite.requests import SQLiteRequests
from issuer.store.sqlite.schema import SCHEMA, migrate_secrets, needs_secret_migration
from issuer.store.sqlite.status import SQLiteDeliveries, SQLiteStatusLists

__all__ = ["SQLiteStore", "holder_hash"]


class SQLiteStore(SQLiteRecords, SQLiteStatusLists, SQLiteDeliveries, SQLiteOffers, SQLiteEphemeral, SQLiteOfficers,
                  SQLitePublication, SQLiteAudit, SQLiteRequests, SQLitePortraits, SQLitePickup):
    def __init__(self, path: str | Path, *, busy_timeout_ms: int = 10_000, read_only: bool = False,
                 short_lived_in_memory: bool = False) -> None:
        """``read_only``: an existing file, opened so that nothing is ever written (every write raises
        StoreUnavailableError); the schema is then taken as it is. ``short_lived_in_memory``: the short-lived
        kinds (issuer.store.short_lived) in this process's memory, not in the file: only for a store that one
        process alone serves (issuer.store.memory_ephemeral)."""
        self._db = SQLiteFile(path, busy_timeout_ms=busy_timeout_ms, read_only=read_only)
        self._memory = MemoryEphemeral() if short_lived_in_memory else None
        if not read_only:
            self.initialize()

    def initialize(self) -> None:
        """Create the schema if absent (idempotent; safe when several processes start at once), and migrate a
        file of an older schema that kept pickup codes in clear (issuer.store.sqlite.schema)."""
        self._db.initialize(SCHEMA + REQUESTS_SCHEMA)
        if not self._db.snapshot(needs_secret_migration):  # the usual case: one read, no write
            return
        with self._db.write() as c:  # re-checked inside: several processes may start on an old file at once
            migrated = migrate_secrets(c)
        if migrated:
            self._db.rebuild()  # the dropped clear codes must not linger in free pages or in the WAL

    def backup_to(self, target: Path) -> None:
        """A consistent copy of the store taken while it runs (issuer.store.sqlite.db.SQLiteFile.backup_to)."""
        self._db.backup_to(target)

    def close(self) -> None:
        self._db.close()
