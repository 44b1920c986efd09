"""The notifications outbox and its delivery: the file sink (0600 JSON lines, no personal data), a real
HTTP webhook, retries with backoff until the gateway answers, giving up after MAX_ATTEMPTS, reminders once."""

from __future__ import annotations

import datetime
import http.server
import json
import stat
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from credential.model import CredentialType
from credential.samples import sample_permit
from issuer.notifications import FileSink, NoticeKind, Outbox, WebhookSink, deliver_due
from issuer.notifications.delivery import MAX_ATTEMPTS, backoff
from issuer.rules import beijing_day
from issuer.service import IssuerService
from tests.conftest import FakeClock


class Gateway(http.server.BaseHTTPRequestHandler):
    answers: ClassVar[list[int]] = []
    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        status = self.answers.pop(0) if self.answers else 204
        if status < 300:
            self.received.append(json.loads(body))
        self.send_response(status)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def gateway() -> Iterator[str]:
    Gateway.answers, Gateway.received = [], []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Gateway)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/sms"
    server.shutdown()


def test_the_file_sink_writes_0600_json_lines_with_ids_and_words_only(service: IssuerService, clock: FakeClock,
                                                                       tmp_path: Path) -> None:
    record = service.register(sample_permit(), officer="o")
    outbox = Outbox(service.store, clock)
    outbox.write(record, NoticeKind.SUSPENDED, zh="您的证件已暂停。", en="Your credential is suspended.")
    sink = FileSink(tmp_path / "sms.jsonl")
    assert deliver_due(service.store, sink, clock).sent == 1
    assert deliver_due(service.store, sink, clock).sent == 0  # sent once
    assert stat.S_IMODE((tmp_path / "sms.jsonl").stat().st_mode) == 0o600
    (line,) = (tmp_path / "sms.jsonl").read_text(encoding="utf-8").splitlines()
    sent = json.loads(line)
    assert sent["record_id"] == record.id and sent["text_zh"] == "您的证件已暂停。"
    assert record.permit.holder.citizen_id not in line and record.permit.holder.name not in line
    assert record.permit.document_number not in line
    assert outbox.of_holder(record.permit.holder.citizen_id)[0].state == "sent"


def test_the_webhook_is_retried_with_backoff_and_given_up_after_max_attempts(
    service: IssuerService, clock: FakeClock, gateway: str
) -> None:
    record = service.register(sample_permit(), officer="o")
    outbox = Outbox(service.store, clock)
    outbox.write(record, NoticeKind.REQUEST_DECIDED, zh="已批准", en="approved")
    sink = WebhookSink(gateway)
    Gateway.answers = [503, 500]
    assert deliver_due(service.store, sink, clock).retried == 1
    assert deliver_due(service.store, sink, clock).sent == 0  # not due before the backoff
    clock.advance(backoff(1))
    assert deliver_due(service.store, sink, clock).retried == 1
    clock.advance(backoff(2))
    assert deliver_due(service.store, sink, clock).sent == 1
    assert [m["text_en"] for m in Gateway.received] == ["approved"]
    outbox.write(record, NoticeKind.REQUEST_DECIDED, zh="再", en="again")
    Gateway.answers = [500] * MAX_ATTEMPTS
    failed = 0
    for attempt in range(1, MAX_ATTEMPTS + 1):
        failed += deliver_due(service.store, sink, clock).failed
        clock.advance(backoff(attempt))
    assert failed == 1 and outbox.of_holder(record.permit.holder.citizen_id)[0].state == "failed"


def test_reminders_are_written_once_per_record_and_validity_end(service: IssuerService, clock: FakeClock) -> None:
    today = beijing_day(clock())
    permit = sample_permit(valid_from=today - datetime.timedelta(days=320), valid_until=today + datetime.timedelta(days=80))
    card = sample_permit(CredentialType.RESIDENCE_REGISTRATION, valid_from=today - datetime.timedelta(days=340),
                         valid_until=today + datetime.timedelta(days=20))
    records = [service.register(permit, officer="o"), service.register(card, officer="o")]
    outbox = Outbox(service.store, clock)
    written = outbox.remind(records, endorsement_window_days=60)
    assert sorted(m.kind for m in written) == ["credential_expiring", "endorsement_due"]
    assert outbox.remind(records, endorsement_window_days=60) == []
