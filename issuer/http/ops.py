"""What an operator's probes and scraper ask both HTTP APIs: /healthz, /readyz and (officer API) /metrics.

``/healthz`` says the process answers (200 ``{"status": "ok"}``), nothing more: a liveness probe must not
restart a worker because Redis is down. ``/readyz`` runs three checks and answers 200 with each result, or
503 naming the failing ones: ``store`` (one cheap read: the stored trust list), ``keys`` (the ring has a
credential and a status signer valid now) and ``lists`` (the trust list and every status list can be
produced now, or, on the wallet API, the last copies it serves during an outage exist); the wallet API adds
``login`` ("ok" with the residents' OpenID4VP login set up and its certificate valid now, "ok: off" without
one). A result is "ok" or the failing error's class, never its message. ``/metrics`` (issuer.http.metrics) exists only when a metrics
token is configured, and answers only a request bearing it (compared in constant time).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING

from flask import Flask, Response, jsonify, request
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.core import GaugeMetricFamily, Metric

from credential.errors import EpermitError
from issuer.errors import StoreUnavailableError
from issuer.http import metrics
from issuer.http.errors import error_response
from issuer.http.logs import log_store_unavailable
from keys import Purpose

if TYPE_CHECKING:  # annotations only: importing wallet_api needs no issuer back end (tests/wallet_api/test_app.py)
    from issuer.service import IssuerService

Check = Callable[[], str]  # "ok" (or "ok: ..."), else raises


def _store_check(service: IssuerService) -> Check:
    def check() -> str:
        service.store.get_trust_list()
        return "ok"
    return check


def _keys_check(service: IssuerService) -> Check:
    def check() -> str:
        now = service.clock()
        for purpose in (Purpose.CREDENTIAL, Purpose.STATUS):
            service.keyring.signer_for(purpose, now=now)  # KeyManagementError when none may sign now
        return "ok"
    return check


def _lists_check(service: IssuerService, last_copies: Callable[[], bool] | None) -> Check:
    def check() -> str:
        try:
            service.trust_list_token()
            for uri in service.status_list_uris():
                service.published_status_list(uri)
        except StoreUnavailableError:
            if last_copies is not None and last_copies():
                return "ok: last copies"
            raise
        return "ok"
    return check


def readiness(checks: dict[str, Check], *, api: str) -> tuple[int, dict[str, object]]:
    """Run every check; 200 when all pass, else 503 with the failing checks named."""
    results: dict[str, str] = {}
    for name, check in checks.items():
        try:
            results[name] = check()
        except StoreUnavailableError as exc:
            log_store_unavailable(exc, api=api, where=f"readyz:{name}")
            results[name] = type(exc).__name__
        except EpermitError as exc:
            results[name] = type(exc).__name__
    failing = [name for name, result in results.items() if not result.startswith("ok")]
    if failing:
        return 503, {"status": "not_ready", "failing": failing, "checks": results}
    return 200, {"status": "ready", "checks": results}


class PublicationAge:
    """Seconds since each status list and the trust list were last signed, read from the store at scrape."""

    def __init__(self, service: IssuerService, api: str) -> None:
        self._service = service
        self._api = api

    def collect(self) -> Iterator[Metric]:
        now = self._service.clock()
        lists = GaugeMetricFamily("epermit_status_list_publication_age_seconds",
                                  "Seconds since the status list was last signed", labels=["list"])
        trust = GaugeMetricFamily("epermit_trust_list_age_seconds", "Seconds since the trust list was last signed")
        store = self._service.store
        try:
            for list_no in store.status_list_numbers():
                stored = store.get_published_status_list(list_no)
                if stored is not None:
                    lists.add_metric([str(list_no)], max(0, now - stored.published.iat))
            trust_list = store.get_trust_list()
        except StoreUnavailableError as exc:  # the scrape still answers; the error counter says why it is short
            log_store_unavailable(exc, api=self._api, where="metrics")
            return
        if trust_list is not None:
            trust.add_metric([], max(0, now - trust_list.iat))
        yield lists
        yield trust


def _bearer_matches(expected: str) -> bool:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), expected.encode())


def install_operations(app: Flask, service: IssuerService, *, api: str, metrics_token: str | None = None,
                       last_copies: Callable[[], bool] | None = None,
                       extra_checks: Mapping[str, Check] | None = None) -> None:
    """/healthz and /readyz on ``app``; /metrics too when ``metrics_token`` is given. ``extra_checks``: the
    API's own (the wallet API's ``login``: wallet_api.login.readiness_check)."""
    checks = {"store": _store_check(service), "keys": _keys_check(service),
              "lists": _lists_check(service, last_copies), **(extra_checks or {})}

    @app.get("/healthz")
    def healthz() -> Response:
        return jsonify({"status": "ok"})

    @app.get("/readyz")
    def readyz() -> tuple[Response, int]:
        status, body = readiness(checks, api=api)
        return jsonify(body), status

    if metrics_token is None:
        return
    age = PublicationAge(service, api)

    @app.get("/metrics")
    def metrics_view() -> Response:
        if not _bearer_matches(metrics_token):
            return error_response("invalid_token", "the metrics token is required", 401, realm="epermit-metrics")
        return Response(metrics.exposition(age), mimetype=CONTENT_TYPE_LATEST.split(";")[0],
                        headers={"Cache-Control": "no-store"})
