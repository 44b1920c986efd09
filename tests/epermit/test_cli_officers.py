"""`epermit officers`: an existing id is not added again (exit 1, pointing to `change`); a change is audited
and revokes the officer's tokens."""

from __future__ import annotations

from pathlib import Path

import pytest

from credential.samples import AUTHORITY_CODE, AUTHORITY_NAME
from epermit.cli import main
from epermit.office import KEYS_DIR, OfficeData
from issuer.errors import UnauthorizedError
from issuer.keyed import KeyedHash
from issuer.model import Role
from issuer.officers import OfficerRegistry
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
