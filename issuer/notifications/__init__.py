"""The notifications outbox and its delivery (SMS gateway file sink, webhook sink, retries with backoff)."""

from __future__ import annotations

from issuer.notifications.delivery import (
    DeliveryFailedError,
    DeliveryReport,
    FileSink,
    Sink,
    WebhookSink,
    deliver_due,
)
from issuer.notifications.outbox import Message, NoticeKind, Outbox

__all__ = ["DeliveryFailedError", "DeliveryReport", "FileSink", "Message", "NoticeKind", "Outbox", "Sink",
           "WebhookSink", "deliver_due"]
