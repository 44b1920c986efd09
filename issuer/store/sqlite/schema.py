"""The SQLite schema of issuer.sqlite_store (one file, shared by threads and processes), and its migration.

Version 2 added tables only (audit_log replaces the unchained audit table, record_holders, retired), so a
version-1 file opens unchanged; its old audit rows are not part of the chain. The console's sessions
(officer_sessions) and the document number sequences (sequences) came later, also new tables only; so did
the console's password and TOTP sign-in (officer_secrets, and console_sessions, which replace
officer_sessions: those were tied to a token), and the indexes of a record's audit entries and offers
(``audit_log_record``, ``offers_record``: CREATE INDEX IF NOT EXISTS builds them over an older file's rows
when it opens); and the records' sealed portraits (portraits), a new table; and the progress of streamed bulk
runs (bulk_runs: batches stored per file, issuer.bulk.run), a new table.

Version 3 keeps no secret in clear: offers lose the ``pre_authorized_code`` column, and every hash of a
code, PIN, token or nonce is keyed (issuer.keyed). ``migrate_secrets`` brings an older file over when the
store opens, since nothing it kept can be converted (the store never had the key, and the clear codes
must go): open offers are cancelled (the office makes new ones), wallet tokens, nonces, deferred
transactions, notifications, counters and console sessions are dropped, officer tokens are revoked
(officers get new ones), and the file is rebuilt (VACUUM, WAL truncated), so the old codes are not left
in free pages.
"""

from __future__ import annotations

import sqlite3

SCHEMA_VERSION = 3  # also written into the meta table below

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (
    id TEXT PRIMARY KEY, state TEXT NOT NULL, district TEXT NOT NULL, permit TEXT NOT NULL,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS status_lists (
    list_no INTEGER PRIMARY KEY, size INTEGER NOT NULL, allocated INTEGER NOT NULL DEFAULT 0,
    generation INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS status_entries (
    list_no INTEGER NOT NULL, idx INTEGER NOT NULL, value INTEGER NOT NULL DEFAULT 0,
    UNIQUE (list_no, idx));
CREATE INDEX IF NOT EXISTS status_entries_set ON status_entries (list_no) WHERE value != 0;
CREATE TABLE IF NOT EXISTS delivered (
    record_id TEXT NOT NULL REFERENCES records (id), list_no INTEGER NOT NULL, idx INTEGER NOT NULL,
    created_at INTEGER NOT NULL, UNIQUE (list_no, idx));
CREATE INDEX IF NOT EXISTS delivered_record ON delivered (record_id);
CREATE TABLE IF NOT EXISTS delivered_keys (
    list_no INTEGER NOT NULL, idx INTEGER NOT NULL, kid TEXT NOT NULL, record_id TEXT NOT NULL,
    UNIQUE (list_no, idx));
CREATE INDEX IF NOT EXISTS delivered_keys_kid ON delivered_keys (kid);
CREATE TABLE IF NOT EXISTS offers (
    offer_id TEXT PRIMARY KEY, record_id TEXT NOT NULL REFERENCES records (id),
    code_hash TEXT NOT NULL UNIQUE, tx_code_hash TEXT NOT NULL,
    expires_at INTEGER NOT NULL, configuration_ids TEXT NOT NULL, state TEXT NOT NULL,
    created_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS offers_record ON offers (record_id);
CREATE TABLE IF NOT EXISTS ephemeral (
    kind TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, expires_at INTEGER NOT NULL,
    PRIMARY KEY (kind, key));
CREATE TABLE IF NOT EXISTS counters (
    kind TEXT NOT NULL, key TEXT NOT NULL, count INTEGER NOT NULL, expires_at INTEGER NOT NULL,
    PRIMARY KEY (kind, key));
CREATE TABLE IF NOT EXISTS sequences (
    name TEXT PRIMARY KEY, last INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS officers (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, districts TEXT NOT NULL,
    disabled INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS officer_tokens (
    token_hash TEXT PRIMARY KEY, officer_id TEXT NOT NULL REFERENCES officers (id),
    expires_at INTEGER NOT NULL, created_at INTEGER NOT NULL, revoked INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS officer_tokens_officer ON officer_tokens (officer_id);
CREATE TABLE IF NOT EXISTS officer_sessions (
    session_hash TEXT PRIMARY KEY, officer_id TEXT NOT NULL REFERENCES officers (id), token_hash TEXT NOT NULL,
    expires_at INTEGER NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS officer_secrets (
    officer_id TEXT PRIMARY KEY REFERENCES officers (id), password_hash TEXT, totp_sealed TEXT,
    totp_last_step INTEGER NOT NULL DEFAULT 0, generation INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS console_sessions (
    session_hash TEXT PRIMARY KEY, officer_id TEXT NOT NULL REFERENCES officers (id),
    generation INTEGER NOT NULL, expires_at INTEGER NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS published_status_lists (
    list_no INTEGER PRIMARY KEY, uri TEXT NOT NULL, token TEXT NOT NULL, etag TEXT NOT NULL,
    iat INTEGER NOT NULL, generation INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS trust_list (
    id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL, fingerprint TEXT NOT NULL,
    token TEXT NOT NULL, iat INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS audit_log (
    seq INTEGER PRIMARY KEY, time INTEGER NOT NULL, officer TEXT NOT NULL, action TEXT NOT NULL,
    record_id TEXT, reason TEXT NOT NULL, outcome TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS audit_log_record ON audit_log (record_id, seq) WHERE record_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS record_holders (
    holder_hash TEXT NOT NULL, record_id TEXT PRIMARY KEY REFERENCES records (id));
CREATE INDEX IF NOT EXISTS record_holders_holder ON record_holders (holder_hash);
CREATE TABLE IF NOT EXISTS retired (
    list_no INTEGER NOT NULL, idx INTEGER NOT NULL, record_id TEXT NOT NULL, retired_at INTEGER NOT NULL,
    PRIMARY KEY (list_no, idx));
CREATE TABLE IF NOT EXISTS portraits (
    record_id TEXT PRIMARY KEY REFERENCES records (id), sealed BLOB NOT NULL, updated_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS bulk_runs (
    bulk_id TEXT PRIMARY KEY, run TEXT NOT NULL, batches INTEGER NOT NULL, updated_at INTEGER NOT NULL);
INSERT OR REPLACE INTO meta VALUES ('schema_version', '3');
"""

# What a file of schema 1 or 2 kept under unkeyed hashes or in clear, made unusable (see the docstring).
# 'approval' entries are keyed by record id, not by a secret (issuer.deferred.APPROVAL): they stay.
_MIGRATION = (
    "UPDATE offers SET state = 'cancelled' WHERE state = 'open'",
    "UPDATE offers SET tx_code_hash = ''",
    "ALTER TABLE offers DROP COLUMN pre_authorized_code",
    "DELETE FROM ephemeral WHERE kind != 'approval'",
    "DELETE FROM counters",
    "UPDATE officer_tokens SET revoked = 1 WHERE revoked = 0",
    "DELETE FROM officer_sessions",
)


def needs_secret_migration(c: sqlite3.Connection) -> bool:
    """Whether the file still has the clear-code column of schema 1 and 2."""
    return "pre_authorized_code" in {row[1] for row in c.execute("PRAGMA table_info(offers)")}


def migrate_secrets(c: sqlite3.Connection) -> bool:
    """Inside the caller's write transaction: bring a schema-1/2 file to schema 3; False if already there."""
    if not needs_secret_migration(c):
        return False
    for statement in _MIGRATION:
        c.execute(statement)
    return True
