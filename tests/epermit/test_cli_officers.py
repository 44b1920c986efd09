"""`epermit officers`: an existing id is not added again (exit 1, pointing to `change`); a change is audited
and revokes the officer's tokens."""

from __future__ import annotations

import base64
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from credential.samples import AUTHORITY_CODE, AUTHORITY_NAME
from epermit.cli import main
from epermit.office import KEYS_DIR, OfficeData
from issuer.errors import UnauthorizedError
from issuer.keyed import KeyedHash
from issuer.logins import ConsoleLogins
from issuer.model import Role
from issuer.officers import OfficerRegistry
from issuer.store import Store
from issuer.totp import code_at
from keys import PASSPHRASE_ENV, init_keys
from tests.conftest import T0


def test_add_refuses_an_existing_id_and_change_revokes_its_tokens(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = ["--data", str(tmp_path)]
    ring = init_keys(tmp_path / KEYS_DIR, b"office passphrase", AUTHORITY_CODE, AUTHORITY_NAME, T0, scrypt_n=2**14)
    monkeypatch.setenv(PASSPHRASE_ENV, "office passphrase")  # a token is hashed with the keys' store secret
    assert main(["officers", "add", *data, "--id", "li", "--name", "李娜", "--role", "clerk",
                 "--district", "110105"]) == 0
    assert main(["officers", "token", *data, "--id", "li"]) == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    assert main(["officers", "add", *data, "--id", "li", "--name", "李娜", "--role", "admin",
                 "--district", "110105"]) == 1
    assert "epermit officers change" in capsys.readouterr().err
    store = OfficeData(tmp_path).open_store()
    registry = OfficerRegistry(store, keyed=KeyedHash(ring.store_secret))
    assert registry.authenticate(token).role is Role.CLERK
    assert main(["officers", "change", *data, "--id", "li"]) == 2  # nothing to change given: usage
    assert main(["officers", "change", *data, "--id", "li", "--role", "supervisor"]) == 0
    assert "1 token(s) revoked" in capsys.readouterr().out
    with pytest.raises(UnauthorizedError):
        registry.authenticate(token)
    assert store.get_officer("li").role is Role.SUPERVISOR  # type: ignore[union-attr]
    assert main(["officers", "change", *data, "--id", "li", "--role", "supervisor"]) == 1  # no change
    assert main(["officers", "add", *data, "--id", "audit", "--name", "督察", "--role", "bureau_auditor"]) == 0
    entries = [(e.officer, e.action, e.outcome) for e in store.list_audit(limit=100)]
    assert entries == [("console", "officer_add", "ok"), ("console", "token_issue", "ok"),
                       ("console", "officer_add", "refused"), ("console", "officer_change", "ok"),
                       ("console", "officer_add", "ok")]


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from tests.issuer.redis_server import REDIS_SERVER, RedisServer

    if REDIS_SERVER is None:
        pytest.skip("redis-server is not installed")
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server.url
    server.stop()


@pytest.fixture(params=["sqlite", "redis"])
def office(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[list[str], Store]:
    """The command line's location options and the registry they name: a SQLite folder, or a Redis
    deployment (a real redis-server; the folder holds the keys only)."""
    init_keys(tmp_path / KEYS_DIR, b"office passphrase", AUTHORITY_CODE, AUTHORITY_NAME, T0, scrypt_n=2**14)
    monkeypatch.setenv(PASSPHRASE_ENV, "office passphrase")
    if request.param == "sqlite":
        return ["--data", str(tmp_path)], OfficeData(tmp_path).open_store(create=True)
    url = request.getfixturevalue("redis_url")
    prefix = "{t" + uuid.uuid4().hex + "}"  # the tests share one server without seeing each other's keys
    monkeypatch.setenv("EPERMIT_REDIS_PREFIX", prefix)
    from issuer.store.redis import RedisStore

    return ["--data", str(tmp_path), "--redis", url], RedisStore.from_url(url, prefix=prefix)


def decoded_qr(path: Path) -> str:
    import zxingcpp
    from PIL import Image

    [found] = zxingcpp.read_barcodes(Image.open(path))
    return str(found.text)


def test_password_and_totp_from_the_office_machine_on_either_store(
    office: tuple[list[str], Store], tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch
) -> None:
    location, store = office
    assert main(["officers", "add", *location, "--id", "li", "--name", "李娜", "--role", "clerk",
                 "--district", "110105"]) == 0
    assert store.get_officer("li") is not None  # on the store the options name (Redis: not a file in --data)
    monkeypatch.setenv("EPERMIT_OFFICER_PASSWORD", "short")
    assert main(["officers", "set-password", *location, "--id", "li"]) == 1
    assert "at least 12 characters" in capsys.readouterr().err
    monkeypatch.setenv("EPERMIT_OFFICER_PASSWORD", "a long office password")
    assert main(["officers", "set-password", *location, "--id", "li"]) == 0
    assert main(["officers", "set-password", *location, "--id", "nobody"]) == 2
    capsys.readouterr()
    assert main(["officers", "enrol-totp", *location, "--id", "li", "--qr", str(tmp_path / "li.png")]) == 0
    out = capsys.readouterr().out
    uri = decoded_qr(tmp_path / "li.png")
    assert (tmp_path / "li.png").stat().st_mode & 0o777 == 0o600
    secret_text = urllib.parse.parse_qs(urllib.parse.urlsplit(uri).query)["secret"][0]
    assert uri.startswith("otpauth://totp/epermit:li?") and uri in out and secret_text in out
    secret = base64.b32decode(secret_text + "=" * (-len(secret_text) % 8))
    stored = store.get_officer_secrets("li")
    assert stored is not None and stored.totp_sealed is not None and secret_text not in stored.totp_sealed
    keyed = OfficeData(tmp_path).keyed_hash()
    logins = ConsoleLogins(store, keyed=keyed)
    signed = logins.check("li", "a long office password", code_at(secret, int(time.time())))
    assert not signed.must_enrol
    session = logins.open_session(signed, ttl=60)
    assert main(["officers", "enrol-totp", *location, "--id", "li", "--qr", str(tmp_path / "li.svg")]) == 0
    assert (tmp_path / "li.svg").read_bytes().startswith(b"<?xml")
    with pytest.raises(UnauthorizedError):  # a new secret ends the sessions
        logins.session_officer(session)
    assert main(["officers", "reset-totp", *location, "--id", "li"]) == 0
    assert logins.check("li", "a long office password", "").must_enrol
    assert main(["officers", "list", *location]) == 0
    assert "password (enrols totp at sign-in)" in capsys.readouterr().out
    assert main(["audit", "verify", *location]) == 0
    actions = [e.action for e in store.list_audit(limit=100)]
    assert actions == ["officer_add", "officer_password", "totp_enrol", "totp_enrol", "totp_reset"]
    assert main(["keys", "affected", "nokid", *location]) == 0


@pytest.mark.parametrize("district, problem", [("110000", "county-level"), ("abc", "six-digit"),
                                               ("310101", "not a district of the city")])
def test_add_takes_the_districts_of_the_city_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], district: str, problem: str
) -> None:
    data = ["--data", str(tmp_path)]
    assert main(["officers", "add", *data, "--id", "li", "--name", "李娜", "--role", "clerk",
                 "--district", "110105", "--district", district]) == 1  # refused (the data), not usage
    assert problem in capsys.readouterr().err
    assert main(["officers", "add", *data, "--id", "li", "--name", "李娜", "--role", "clerk"]) == 2
    assert not (tmp_path / "epermit.sqlite3").exists()  # refused before the store is made
