"""`epermit notifications deliver|remind --redis URL` on a real redis-server: the outbox the service wrote
into Redis is delivered to the file sink (0600 JSON lines, once), a failed attempt is retried after its
backoff and given up after MAX_ATTEMPTS (exit 1), and the reminders are written once. The command runs
in-process with its clock moved by the test (the backoff is minutes: the test does not wait)."""

from __future__ import annotations

import datetime
import json
import stat
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from credential.model import CredentialType
from credential.samples import sample_permit
from epermit.cli import main
from epermit.cli import notifications as notifications_cli
from issuer.notifications import NoticeKind, Outbox
from issuer.notifications.delivery import MAX_ATTEMPTS, backoff
from issuer.rules import beijing_day
from issuer.service import IssuerService
from issuer.settings import IssuerSettings
from issuer.store.redis import RedisStore
from keys.keyring import KeyRing
from tests.conftest import FakeClock

PUBLIC_URL = "http://127.0.0.1:8081"


@pytest.fixture
def office(redis_url: str, keyring: KeyRing, clock: FakeClock,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[IssuerService, list[str]]]:
    """The service on a Redis store of its own prefix; the command line options that reach the same store."""
    prefix = "{t" + uuid.uuid4().hex + "}"
    store = RedisStore.from_url(redis_url, prefix=prefix)
    monkeypatch.setattr(notifications_cli, "_clock", clock)  # the deliverer's time is the test's
    try:
        yield IssuerService(store, keyring, IssuerSettings(public_url=PUBLIC_URL), clock), \
            ["--redis", redis_url, "--prefix", prefix]
    finally:
        store.close()


def deliver(location: list[str], sms: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["notifications", "deliver", *location, "--sms-file", str(sms)])
    return code, capsys.readouterr().out.strip()


def lines(sms: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in sms.read_text(encoding="utf-8").splitlines()]


def test_the_outbox_in_redis_is_delivered_once_to_the_file_sink(
    office: tuple[IssuerService, list[str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    service, location = office
    record = service.register(sample_permit(), officer="o")
    outbox = Outbox(service.store, service.clock)
    outbox.write(record, NoticeKind.SUSPENDED, zh="您的证件已暂停。", en="Your credential is suspended.")
    outbox.write(record, NoticeKind.REQUEST_DECIDED, zh="签注：已批准。", en="Endorsement: approved.")
    sms = tmp_path / "sms.jsonl"
    assert deliver(location, sms, capsys) == (0, "sent 2, to retry 0, failed 0")
    assert deliver(location, sms, capsys) == (0, "sent 0, to retry 0, failed 0")  # once
    assert stat.S_IMODE(sms.stat().st_mode) == 0o600
    assert sorted(str(m["text_en"]) for m in lines(sms)) == ["Endorsement: approved.", "Your credential is suspended."]
    assert record.permit.holder.citizen_id not in sms.read_text(encoding="utf-8")
    assert {m.state for m in outbox.of_holder(record.permit.holder.citizen_id)} == {"sent"}


def test_a_failed_delivery_is_retried_after_its_backoff_then_given_up(
    office: tuple[IssuerService, list[str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    service, location = office
    clock = service.clock
    assert isinstance(clock, FakeClock)
    record = service.register(sample_permit(), officer="o")
    outbox = Outbox(service.store, clock)
    outbox.write(record, NoticeKind.REQUEST_DECIDED, zh="已批准", en="approved")
    gateway = tmp_path / "gateway"  # the SMS gateway's folder is not there yet: every append fails
    sms = gateway / "sms.jsonl"
    assert deliver(location, sms, capsys) == (0, "sent 0, to retry 1, failed 0")
    (pending,) = outbox.of_holder(record.permit.holder.citizen_id)
    assert (pending.state, pending.attempts) == ("pending", 1)
    clock.advance(backoff(1) - 1)
    assert deliver(location, sms, capsys) == (0, "sent 0, to retry 0, failed 0")  # not due before the backoff
    gateway.mkdir()
    clock.advance(1)
    assert deliver(location, sms, capsys) == (0, "sent 1, to retry 0, failed 0")
    assert [(m["text_en"], m["record_id"]) for m in lines(sms)] == [("approved", record.id)]
    assert outbox.of_holder(record.permit.holder.citizen_id)[0].attempts == 2

    outbox.write(record, NoticeKind.SUSPENDED, zh="已暂停", en="suspended")
    broken = tmp_path / "no-gateway" / "sms.jsonl"
    for attempt in range(1, MAX_ATTEMPTS):
        assert deliver(location, broken, capsys) == (0, "sent 0, to retry 1, failed 0")
        clock.advance(backoff(attempt))
    assert deliver(location, broken, capsys) == (1, "sent 0, to retry 0, failed 1")  # exit 1: failed for good
    failed = [m for m in outbox.of_holder(record.permit.holder.citizen_id) if m.kind == "suspended"]
    assert [(m.state, m.attempts) for m in failed] == [("failed", MAX_ATTEMPTS)]
    clock.advance(86400)
    assert deliver(location, broken, capsys) == (0, "sent 0, to retry 0, failed 0")  # never tried again


def test_reminders_are_written_into_redis_once_then_delivered(
    office: tuple[IssuerService, list[str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    service, location = office
    today = beijing_day(service.clock())
    service.register(sample_permit(CredentialType.RESIDENCE_REGISTRATION, valid_from=today - datetime.timedelta(days=340),
                                   valid_until=today + datetime.timedelta(days=20)), officer="o")
    service.register(sample_permit(valid_from=today - datetime.timedelta(days=320),
                                   valid_until=today + datetime.timedelta(days=80)), officer="o")
    assert main(["notifications", "remind", *location]) == 0
    assert capsys.readouterr().out.strip() == "wrote 2 reminder(s)"
    assert main(["notifications", "remind", *location]) == 0
    assert capsys.readouterr().out.strip() == "wrote 0 reminder(s)"
    sms = tmp_path / "sms.jsonl"
    assert deliver(location, sms, capsys) == (0, "sent 2, to retry 0, failed 0")
    assert sorted(str(m["kind"]) for m in lines(sms)) == ["credential_expiring", "endorsement_due"]
