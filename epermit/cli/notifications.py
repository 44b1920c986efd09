"""`epermit notifications deliver|remind`: send the outbox, and write the reminders that are due.

    epermit notifications deliver (--data DIR | --redis URL [--prefix P]) (--sms-file F | --webhook URL)
    epermit notifications remind  (--data DIR | --redis URL [--prefix P])

``deliver`` sends every message that is due, once, to the SMS gateway: a JSON-lines file (0600; the demo's
gateway adapter) or an https webhook (a real gateway; EPERMIT_WEBHOOK_TOKEN, when set, is sent as its
bearer token); a failed message is retried later with backoff (issuer.notifications.delivery). ``remind``
writes "endorsement due" and "credential expiring" messages (each once per record and validity end). Run
both from cron or a systemd timer, one deliverer at a time (docs/resident-requests.md). Exit 1 when some
message failed for good.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from epermit.cli.harness import EXIT_OK, EXIT_REFUSED, Subparsers, guarded
from epermit.errors import UsageError
from epermit.office import OfficeData
from issuer.notifications import FileSink, Outbox, Sink, WebhookSink, deliver_due
from issuer.store import Store

WEBHOOK_TOKEN_ENV = "EPERMIT_WEBHOOK_TOKEN"  # noqa: S105 - the variable's name, not a secret


def add_notification_commands(subparsers: Subparsers[argparse.ArgumentParser]) -> None:
    notifications = subparsers.add_parser("notifications", help="deliver the residents' notifications outbox")
    commands = notifications.add_subparsers(dest="notifications_command", required=True)
    deliver = commands.add_parser("deliver", help="send the messages that are due (with retries)")
    _store_options(deliver)
    sink = deliver.add_mutually_exclusive_group(required=True)
    sink.add_argument("--sms-file", type=Path, metavar="FILE", help="append JSON lines for an SMS gateway (0600)")
    sink.add_argument("--webhook", metavar="URL", help="POST each message to a gateway's https URL")
    deliver.add_argument("--limit", type=int, default=100, help="messages per run (default 100)")
    deliver.set_defaults(handler=guarded("notifications deliver", _deliver))
    remind = commands.add_parser("remind", help="write the endorsement-due and expiring reminders")
    _store_options(remind)
    remind.add_argument("--window-days", type=int, default=60,
                        help="the endorsement window the office serves with (IssuerSettings, default 60)")
    remind.set_defaults(handler=guarded("notifications remind", _remind))


def _store_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, help="the office's data folder (SQLite)")
    parser.add_argument("--redis", metavar="URL", help="the Redis store instead (docs/redis.md)")
    parser.add_argument("--prefix", default="{ep}", help="the Redis key prefix (default {ep})")


def _store(args: argparse.Namespace) -> Store:
    if (args.data is None) == (args.redis is None):
        raise UsageError("give --data DIR or --redis URL")
    if args.redis is not None:
        from issuer.store.redis import RedisStore  # only when asked: the SQLite office needs no redis client

        store: Store = RedisStore.from_url(args.redis, prefix=args.prefix)
        return store
    return OfficeData(args.data).open_store()


def _clock() -> int:
    return int(time.time())


def _deliver(args: argparse.Namespace) -> int:
    sink: Sink = FileSink(args.sms_file) if args.sms_file is not None else \
        WebhookSink(args.webhook, bearer=os.environ.get(WEBHOOK_TOKEN_ENV))
    report = deliver_due(_store(args), sink, _clock, limit=args.limit)
    print(f"sent {report.sent}, to retry {report.retried}, failed {report.failed}")
    return EXIT_REFUSED if report.failed else EXIT_OK


def _remind(args: argparse.Namespace) -> int:
    store = _store(args)
    records = (r for r in (store.get_record(record_id) for record_id, _ in store.record_states()) if r is not None)
    written = Outbox(store, _clock).remind(records, endorsement_window_days=args.window_days)
    print(f"wrote {len(written)} reminder(s)")
    return EXIT_OK
