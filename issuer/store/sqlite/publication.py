"""SQLite: the signed status list tokens and trust list as last published (a later one never overwritten)."""

from __future__ import annotations

from issuer.model import PublishedStatusList
from issuer.store import StoredStatusList, StoredTrustList
from issuer.store.sqlite.db import SQLiteFile


class SQLitePublication:
    _db: SQLiteFile

    def put_published_status_list(self, list_no: int, published: PublishedStatusList, *, generation: int) -> bool:
        with self._db.write() as c:
            return c.execute(
                "INSERT INTO published_status_lists VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (list_no) DO UPDATE SET "
                "uri = excluded.uri, token = excluded.token, etag = excluded.etag, iat = excluded.iat, "
                "generation = excluded.generation WHERE excluded.generation >= published_status_lists.generation",
                (list_no, published.uri, published.token, published.etag, published.iat, generation),
            ).rowcount == 1

    def get_published_status_list(self, list_no: int) -> StoredStatusList | None:
        row = self._db.row(
            "SELECT uri, token, etag, iat, generation FROM published_status_lists WHERE list_no = ?", (list_no,)
        )
        return None if row is None else StoredStatusList(PublishedStatusList(row[0], row[1], row[2], row[3]), row[4])

    def get_trust_list(self) -> StoredTrustList | None:
        row = self._db.row("SELECT version, fingerprint, token, iat FROM trust_list WHERE id = 1")
        return None if row is None else StoredTrustList(row[0], row[1], row[2], row[3])

    def put_trust_list(self, trust_list: StoredTrustList) -> bool:
        with self._db.write() as c:
            return c.execute(
                "INSERT INTO trust_list VALUES (1, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
                "version = excluded.version, fingerprint = excluded.fingerprint, token = excluded.token, "
                "iat = excluded.iat WHERE excluded.version >= trust_list.version",
                (trust_list.version, trust_list.fingerprint, trust_list.token, trust_list.iat),
            ).rowcount == 1
