"""Delivering the outbox: a Sink takes one message; ``deliver_due`` sends what is due, with retries.

Sinks: FileSink (the demo's SMS gateway adapter: one JSON line per message appended to a 0600 file) and
WebhookSink (POST the JSON to a real gateway's URL; any 2xx is delivered). A failed attempt is retried
after 60 s, 120 s, 240 s, … (doubling, at most an hour apart); after MAX_ATTEMPTS the message is
``failed`` and stays in the store for an operator. One deliverer runs at a time (``epermit notifications
deliver``, from cron or a systemd timer; docs/resident-requests.md): two at once could send a message twice.
What leaves is Message.payload(): ids and words, no name, no citizen ID.
"""

from __future__ import annotations

import json
import os
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from issuer.notifications.outbox import message_of
from issuer.settings import Clock
from issuer.store import Store

MAX_ATTEMPTS = 6
FIRST_RETRY = 60
LONGEST_WAIT = 3600


class DeliveryFailedError(Exception):
    """One attempt failed; the message is retried later."""


class Sink(Protocol):
    def send(self, payload: dict[str, Any]) -> None:
        """Deliver one message or raise DeliveryFailedError."""
        ...


class FileSink:
    def __init__(self, path: Path) -> None:
        self.path = path

    def send(self, payload: dict[str, Any]) -> None:
        line = json.dumps(payload, ensure_ascii=False, separators=(",", ":")) + "\n"
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.fchmod(fd, 0o600)
                os.write(fd, line.encode("utf-8"))
            finally:
                os.close(fd)
        except OSError as exc:
            raise DeliveryFailedError(f"cannot append to {self.path}: {exc.strerror}") from exc


class WebhookSink:
    def __init__(self, url: str, *, timeout: float = 10.0, bearer: str | None = None) -> None:
        if not url.startswith("https://") and not url.startswith("http://127.0.0.1"):
            raise ValueError("a gateway webhook must be https (or http://127.0.0.1 for a local test)")
        self.url = url
        self.timeout = timeout
        self._bearer = bearer

    def send(self, payload: dict[str, Any]) -> None:
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if self._bearer:
            headers["Authorization"] = f"Bearer {self._bearer}"
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        request = urllib.request.Request(self.url, data=data, headers=headers, method="POST")  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                if not 200 <= response.status < 300:
                    raise DeliveryFailedError(f"gateway answered {response.status}")
        except OSError as exc:
            raise DeliveryFailedError(f"gateway unreachable or refused: {exc}") from exc


@dataclass(frozen=True)
class DeliveryReport:
    sent: int
    retried: int
    failed: int


def backoff(attempts: int) -> int:
    """Seconds before the next attempt after ``attempts`` failed ones."""
    return int(min(FIRST_RETRY * 2 ** max(0, attempts - 1), LONGEST_WAIT))


def deliver_due(store: Store, sink: Sink, clock: Clock, *, limit: int = 100) -> DeliveryReport:
    now = clock()
    sent = retried = failed = 0
    for stored in store.due_notifications(now, limit=limit):
        attempts = stored.attempts + 1
        try:
            sink.send(message_of(stored).payload())
        except DeliveryFailedError:
            if attempts >= MAX_ATTEMPTS:
                store.update_notification(stored.id, state="failed", attempts=attempts, next_attempt_at=now)
                failed += 1
            else:
                store.update_notification(stored.id, state="pending", attempts=attempts,
                                          next_attempt_at=now + backoff(attempts))
                retried += 1
            continue
        store.update_notification(stored.id, state="sent", attempts=attempts, next_attempt_at=now)
        sent += 1
    return DeliveryReport(sent, retried, failed)
