"""The public documents while the store is unavailable: served from the copies kept on disk, even by a
process that never served them before (a restart during an outage, a full disk)."""

from __future__ import annotations

import logging
import sqlite3
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from credential.samples import sample_permit_valid_at
from issuer.service import IssuerService
from issuer.settings import IssuerSettings
from issuer.store.sqlite import SQLiteStore
from keys import KeyRing
from tests.conftest import FakeClock
from tests.wallet_api.conftest import OFFICER, PUBLIC_URL
from wallet_api import WalletApiSettings, create_app

DOCUMENTS = ("/statuslists", "/statuslists/1", "/trustlist.jwt")


def wallet(path: Path, keyring: KeyRing, clock: FakeClock, published: Path | None) -> tuple[IssuerService, FlaskClient]:
    # A short busy timeout: a locked file answers 503 at once.
    service = IssuerService(SQLiteStore(path, busy_timeout_ms=100), keyring,
                            IssuerSettings(public_url=PUBLIC_URL, status_list_size=1024), clock)
    app = create_app(WalletApiSettings(public_url=PUBLIC_URL, published_dir=published), service, clock=clock)
    return service, app.test_client()


@contextmanager
def unavailable(path: Path) -> Iterator[None]:
    """Every read of the file fails (SQLITE_BUSY past the busy timeout: StoreUnavailableError) while another
    connection holds it in exclusive locking mode, as a store that is down from the first request."""
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("PRAGMA locking_mode = EXCLUSIVE")
    blocker.execute("BEGIN EXCLUSIVE")
    blocker.execute("INSERT OR REPLACE INTO meta VALUES ('blocked', '1')")
    blocker.execute("COMMIT")
    try:
        yield
    finally:
        blocker.close()


@pytest.fixture
def published_before(tmp_path: Path, keyring: KeyRing, clock: FakeClock) -> dict[str, bytes]:
    """An office that served its documents (one record revoked), then stopped: the bodies it served."""
    service, client = wallet(tmp_path / "epermit.sqlite3", keyring, clock, tmp_path / "published")
    record = service.register(sample_permit_valid_at(clock()), officer=OFFICER)
    service.create_offer(record.id, officer=OFFICER)
    served = {}
    for path in DOCUMENTS:
        response = client.get(path)
        assert response.status_code == 200
        served[path] = response.data
    service.store.close()  # type: ignore[attr-defined]
    return served


def test_a_store_down_from_the_first_request_still_serves_what_was_published(
    tmp_path: Path, keyring: KeyRing, clock: FakeClock, published_before: dict[str, bytes]
) -> None:
    service, client = wallet(tmp_path / "epermit.sqlite3", keyring, clock, tmp_path / "published")
    other, memory_only = wallet(tmp_path / "epermit.sqlite3", keyring, clock, None)
    for started in (service, other):  # fresh processes: no connection open, no copy in memory
        started.store.close()  # type: ignore[attr-defined]
    with unavailable(tmp_path / "epermit.sqlite3"):
        assert client.get("/.well-known/openid-credential-issuer").status_code == 200  # needs no store
        for path, body in published_before.items():
            response = client.get(path)
            assert (response.status_code, response.data) == (200, body), path
            if "ETag" in response.headers:  # the signed documents
                assert client.get(path, headers={"If-None-Match": response.headers["ETag"]}).status_code == 304
        assert client.get("/statuslists/2").status_code == 503  # never published: nothing to fall back on
        assert memory_only.get("/statuslists/1").status_code == 503  # what a restart did before
    for name in ("statuslists.json", "statuslist-1.jwt", "trustlist.jwt"):
        assert stat.S_IMODE((tmp_path / "published" / name).stat().st_mode) == 0o644  # public documents


def test_a_copy_that_is_not_a_document_is_not_served(
    tmp_path: Path, keyring: KeyRing, clock: FakeClock, published_before: dict[str, bytes]
) -> None:
    (tmp_path / "published" / "statuslist-1.jwt").write_text("<html>not a token</html>")
    (tmp_path / "published" / "statuslists.json").write_text('{"not": "a list"}')
    service, client = wallet(tmp_path / "epermit.sqlite3", keyring, clock, tmp_path / "published")
    service.store.close()  # type: ignore[attr-defined]
    with unavailable(tmp_path / "epermit.sqlite3"):
        assert client.get("/statuslists/1").status_code == 503
        assert client.get("/statuslists").status_code == 503
        assert client.get("/trustlist.jwt").data == published_before["/trustlist.jwt"]


def test_a_copy_that_cannot_be_written_does_not_stop_the_documents(
    tmp_path: Path, keyring: KeyRing, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "not-a-folder").write_text("")  # as a full disk: writing the copy fails
    service, client = wallet(tmp_path / "epermit.sqlite3", keyring, clock, tmp_path / "not-a-folder" / "published")
    with caplog.at_level(logging.WARNING, logger="wallet_api.lastcopies"):
        for path in DOCUMENTS:
            assert client.get(path).status_code == 200
    assert "cannot keep a copy" in caplog.text
    service.store.close()  # type: ignore[attr-defined]
    with unavailable(tmp_path / "epermit.sqlite3"):
        assert client.get("/statuslists/1").status_code == 200  # the copy in memory still serves
