"""The Redis serve settings read from the environment (epermit.gunicorn_app.RedisServeConfig): the replicas
every write waits for, given as EPERMIT_REDIS_WAIT_REPLICAS or ``epermit serve --redis-wait-replicas``."""

from __future__ import annotations

import pytest

from epermit.cli import build_parser
from epermit.gunicorn_app import RedisServeConfig, ServeConfigError
from epermit.redis_serve import redis_serve_env

BASE = {"EPERMIT_REDIS_URL": "redis://127.0.0.1:6379/0", "EPERMIT_PUBLIC_URL": "https://permits.example",
        "EPERMIT_KEYS_DIR": "/srv/keys", "EPERMIT_KEY_PASSPHRASE": "x"}


def test_writes_wait_for_the_replicas_the_environment_names() -> None:
    assert RedisServeConfig.from_env(BASE).wait_replicas == 0
    assert RedisServeConfig.from_env({**BASE, "EPERMIT_REDIS_WAIT_REPLICAS": "1"}).wait_replicas == 1
    for bad in ("-1", "6", "one"):
        with pytest.raises(ServeConfigError):
            RedisServeConfig.from_env({**BASE, "EPERMIT_REDIS_WAIT_REPLICAS": bad})


def test_the_command_line_sets_it_for_the_servers() -> None:
    serve = ["serve", "--redis", "redis://127.0.0.1:6379/0", "--data", "/srv"]
    args = build_parser().parse_args([*serve, "--redis-wait-replicas", "1"])
    assert redis_serve_env(args, {})["EPERMIT_REDIS_WAIT_REPLICAS"] == "1"
    assert "EPERMIT_REDIS_WAIT_REPLICAS" not in redis_serve_env(build_parser().parse_args(serve), {})
    with pytest.raises(SystemExit):
        build_parser().parse_args([*serve, "--redis-wait-replicas", "7"])
