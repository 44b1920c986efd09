"""The SQLite Store in one-concept parts, composed into issuer.sqlite_store.SQLiteStore (one file, one helper)."""
