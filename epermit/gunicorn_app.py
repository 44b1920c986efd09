"""gunicorn application factories for the officer and wallet APIs on the Redis store.

gunicorn loads ``epermit.gunicorn_app:create_officer_app()`` / ``:create_wallet_app()`` in every worker; each
factory reads the environment when it is called (never at import), unlocks the keys, connects to Redis and
refuses to start unless Redis is durable (issuer.redis_durability). The variables (docs/redis.md):

    EPERMIT_REDIS_URL                      redis://host:6379/0 (rediss:// for TLS); required
    EPERMIT_REDIS_CLUSTER                  1: the URL names one node of a Redis Cluster
    EPERMIT_REDIS_PREFIX                   key prefix with one hash tag, default {ep}
    EPERMIT_REDIS_WAIT_REPLICAS            0..5: every scripted write waits (WAIT) until this many replicas
                                           have it before it is acknowledged; default 0
    EPERMIT_EPHEMERAL_REDIS_URL            a second Redis for the short-lived values (nonces, access tokens,
                                           DPoP proof ids, rate counters), kept off the fsync'd path:
                                           persisting nothing (appendonly no, save ""); unset: the same Redis
    EPERMIT_REDIS_ALLOW_UNSAFE_DURABILITY  1: start on a Redis without appendfsync always (development only)
    EPERMIT_PUBLIC_URL                     the wallet API's public URL (credential `iss`); required
    EPERMIT_KEYS_DIR                       the key directory (`epermit keys init`); required. Its login key
                                           (keys/login.py), when it has one, signs the residents' OpenID4VP
                                           login: its certificate must name EPERMIT_PUBLIC_URL's host
    EPERMIT_PUBLISHED_DIR                  where the wallet API keeps the last public documents it served
                                           (served while Redis is down); unset: in memory only
    EPERMIT_VERIFIER_CA_FILE               PEM bundle of the CAs whose online verifiers the wallet PWA answers
                                           (OpenID4VP, docs/wallet.md); unset: it answers none
    EPERMIT_KEY_PASSPHRASE or EPERMIT_KEY_PASSPHRASE_FILE
    EPERMIT_METRICS_TOKEN                  the bearer token of the officer API's /metrics; unset: no /metrics
    PROMETHEUS_MULTIPROC_DIR               prometheus-client's multiprocess folder (epermit.redis_serve sets it)
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from epermit.errors import UsageError
from epermit.login_identity import load_login_verifier
from issuer.http import app as officer_api
from issuer.http.console import console_settings_from_env
from issuer.http.logs import configure_json_logging
from issuer.service import IssuerService
from issuer.settings import IssuerSettings
from issuer.store.redis import RedisStore
from keys import load_keyring, read_passphrase
from verifier.openid4vp import VerifierIdentity
from wallet_api import create_app as create_wallet_api
from wallet_api.settings import WalletApiSettings

TRUE = ("1", "true", "yes")
MAX_WAIT_REPLICAS = 5  # WAIT for more replicas than a shard has would time every write out


class ServeConfigError(UsageError):
    """A missing or malformed EPERMIT_* variable; ``variable`` names it."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable} {problem}")
        self.variable = variable


@dataclass(frozen=True)
class RedisServeConfig:
    redis_url: str
    public_url: str
    keys_dir: Path
    cluster: bool = False
    prefix: str = "{ep}"
    allow_unsafe_durability: bool = False
    passphrase_file: Path | None = None
    wait_replicas: int = 0
    ephemeral_redis_url: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> RedisServeConfig:
        def required(name: str) -> str:
            value = env.get(name, "").strip()
            if not value:
                raise ServeConfigError(name, "is required")
            return value

        wait = env.get("EPERMIT_REDIS_WAIT_REPLICAS", "").strip() or "0"
        if not wait.isdigit() or int(wait) > MAX_WAIT_REPLICAS:
            raise ServeConfigError("EPERMIT_REDIS_WAIT_REPLICAS", f"must be 0..{MAX_WAIT_REPLICAS}")
        passphrase_file = env.get("EPERMIT_KEY_PASSPHRASE_FILE", "").strip()
        if not passphrase_file and not env.get("EPERMIT_KEY_PASSPHRASE"):
            raise ServeConfigError("EPERMIT_KEY_PASSPHRASE", "or EPERMIT_KEY_PASSPHRASE_FILE is required")
        return cls(
            redis_url=required("EPERMIT_REDIS_URL"),
            public_url=required("EPERMIT_PUBLIC_URL"),
            keys_dir=Path(required("EPERMIT_KEYS_DIR")),
            cluster=env.get("EPERMIT_REDIS_CLUSTER", "").lower() in TRUE,
            prefix=env.get("EPERMIT_REDIS_PREFIX", "").strip() or "{ep}",
            allow_unsafe_durability=env.get("EPERMIT_REDIS_ALLOW_UNSAFE_DURABILITY", "").lower() in TRUE,
            passphrase_file=Path(passphrase_file) if passphrase_file else None,
            wait_replicas=int(wait),
            ephemeral_redis_url=env.get("EPERMIT_EPHEMERAL_REDIS_URL", "").strip() or None,
        )


def build_service(env: Mapping[str, str]) -> IssuerService:
    """The issuer service on Redis, from the environment (keys unlocked, Redis durability checked)."""
    return _build(env)[0]


def build_wallet_service(env: Mapping[str, str]) -> tuple[IssuerService, VerifierIdentity | None]:
    """``build_service`` and the residents' login identity (epermit.login_identity: the key directory's
    login key, checked against the root and EPERMIT_PUBLIC_URL's host; LoginSetupError when it cannot serve)."""
    service, config, passphrase = _build(env)
    return service, load_login_verifier(config.keys_dir, passphrase, service.keyring,
                                        public_url=service.settings.public_url, now=int(time.time()))


def _build(env: Mapping[str, str]) -> tuple[IssuerService, RedisServeConfig, bytes]:
    config = RedisServeConfig.from_env(env)
    passphrase = read_passphrase(env=env, passphrase_file=config.passphrase_file)
    keyring = load_keyring(config.keys_dir, passphrase)
    store = RedisStore.from_url(config.redis_url, cluster=config.cluster, prefix=config.prefix,
                                allow_unsafe_durability=config.allow_unsafe_durability,
                                wait_replicas=config.wait_replicas, ephemeral_url=config.ephemeral_redis_url)
    return IssuerService(store, keyring, IssuerSettings(public_url=config.public_url)), config, passphrase


def _behind_proxies(app: Flask, env: Mapping[str, str]) -> Flask:
    """EPERMIT_PROXY_HOPS: how many proxies in front set X-Forwarded-* (epermit.transport)."""
    hops = env.get("EPERMIT_PROXY_HOPS", "0")
    if not hops.isdigit() or int(hops) > 5:
        raise ServeConfigError("EPERMIT_PROXY_HOPS", "must be 0..5")
    if int(hops):
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=int(hops), x_proto=int(hops), x_host=int(hops))  # type: ignore[method-assign]
    return app


def create_officer_app(env: Mapping[str, str] | None = None) -> Flask:
    environment = os.environ if env is None else env
    configure_json_logging()
    service = build_service(environment)
    console = console_settings_from_env(environment)
    settings = officer_api.OfficerApiSettings(metrics_token=environment.get("EPERMIT_METRICS_TOKEN") or None)
    return _behind_proxies(officer_api.create_app(settings, service, console=console), environment)


def create_wallet_app(env: Mapping[str, str] | None = None) -> Flask:
    environment = os.environ if env is None else env
    configure_json_logging()
    service, login = build_wallet_service(environment)
    published = environment.get("EPERMIT_PUBLISHED_DIR", "").strip()
    verifier_cas = environment.get("EPERMIT_VERIFIER_CA_FILE", "").strip()
    return _behind_proxies(create_wallet_api(WalletApiSettings(public_url=service.settings.public_url,
                                                               published_dir=Path(published) if published else None,
                                                               verifier_ca_file=Path(verifier_cas) if verifier_cas else None),
                                             service, login_verifier=login), environment)
