"""The Prometheus metrics of both HTTP APIs (prometheus-client), exposed by the officer API's /metrics.

Requests are counted by API, Flask url rule (never the raw path: a record id or an offer id would make one
series per resident, and name them), method and status; latency is a histogram per API and rule. Store
failures (StoreUnavailableError), credentials delivered (pickups) and revocations are counters. The age of
the published status lists and trust list is a gauge computed at scrape time (issuer.http.ops).

The metrics are process-wide: `epermit serve` runs both APIs in one process, so the officer API's /metrics
shows the wallet API's requests too. Under gunicorn (several worker processes, two servers) prometheus-client's
multiprocess mode is used when PROMETHEUS_MULTIPROC_DIR is set (epermit.redis_serve sets one folder for
both servers): each worker writes its values there and a scrape adds up every file in it.
"""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
REGISTRY = CollectorRegistry(auto_describe=True)  # ours alone: no other library's metrics leak into a scrape

REQUESTS = Counter("epermit_http_requests", "HTTP requests answered, by API, url rule, method and status",
                   ["api", "route", "method", "status"], registry=REGISTRY)
LATENCY = Histogram("epermit_http_request_duration_seconds", "Time to answer an HTTP request, by API and url rule",
                    ["api", "route"], registry=REGISTRY,
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))
STORE_ERRORS = Counter("epermit_store_errors", "Store failures (StoreUnavailableError), by API",
                       ["api"], registry=REGISTRY)
PICKUPS = Counter("epermit_credentials_delivered", "Credentials delivered to wallets (pickups)", registry=REGISTRY)
REVOCATIONS = Counter("epermit_revocations", "Records revoked through the officer API or console", registry=REGISTRY)


def observe_request(*, api: str, route: str, method: str, status: int, seconds: float) -> None:
    REQUESTS.labels(api=api, route=route, method=method, status=str(status)).inc()
    LATENCY.labels(api=api, route=route).observe(seconds)


def exposition(*extra: Collector) -> bytes:
    """The text exposition of every epermit metric of this process (or, in multiprocess mode, of every
    worker), followed by ``extra`` collectors computed now."""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        text = generate_latest(registry)
    else:
        text = generate_latest(REGISTRY)
    live = CollectorRegistry(auto_describe=True)
    for collector in extra:
        live.register(collector)
    return text + generate_latest(live)
