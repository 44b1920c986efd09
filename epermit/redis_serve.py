"""`epermit serve --redis URL`: the officer and wallet APIs as two gunicorn servers on the Redis store.

The parent checks the configuration once (keys unlock, Redis reachable and durable) so a mistake is one line
on stderr and exit 2, then runs ``python -m gunicorn`` twice (officer and wallet), each with several workers
that build their app from the environment (epermit.gunicorn_app). SIGINT/SIGTERM stop both; if one exits,
the other is stopped too and its exit code returned. With EPERMIT_METRICS_TOKEN set and no
PROMETHEUS_MULTIPROC_DIR given, both servers share a fresh private folder for prometheus-client's
multiprocess mode (every worker writes its counters there; the officer API's /metrics adds them up), removed
when they stop.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from types import FrameType

from credential.errors import EpermitError
from epermit.office import PUBLISHED_DIR

OFFICER_APP = "epermit.gunicorn_app:create_officer_app()"
WALLET_APP = "epermit.gunicorn_app:create_wallet_app()"
DEFAULT_WORKERS = 3
DEFAULT_THREADS = 4


def add_redis_serve_options(serve: argparse.ArgumentParser) -> None:
    """The options `epermit serve` gains for the Redis deployment (see docs/redis.md)."""
    serve.add_argument("--redis", metavar="URL",
                       help="run under gunicorn on this Redis (default EPERMIT_REDIS_URL; unset: SQLite)")
    serve.add_argument("--redis-cluster", action="store_true", help="the Redis URL names a Redis Cluster node")
    serve.add_argument("--redis-wait-replicas", type=int, choices=range(6), metavar="N",
                       help="acknowledge a write once N replicas have it (EPERMIT_REDIS_WAIT_REPLICAS; default 0): "
                            "a master failover then loses no acknowledged write")
    serve.add_argument("--ephemeral-redis", metavar="URL",
                       help="keep nonces, access tokens, DPoP proof ids and rate counters on this second Redis, "
                            "which persists nothing (default EPERMIT_EPHEMERAL_REDIS_URL; unset: on --redis; "
                            "docs/redis.md)")
    serve.add_argument("--workers", type=int, help=f"gunicorn workers per API (default EPERMIT_WORKERS or "
                                                   f"{DEFAULT_WORKERS})")
    serve.add_argument("--host", help="address to bind (default EPERMIT_HOST or 127.0.0.1)")


def gunicorn_command(app: str, *, host: str, port: int, workers: int, threads: int,
                     tls: tuple[str, str] | None = None) -> list[str]:
    certificate = ["--certfile", tls[0], "--keyfile", tls[1]] if tls is not None else []
    return [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--threads", str(threads),
            "--worker-class", "gthread", "--bind", f"{host}:{port}", "--timeout", "30",
            "--graceful-timeout", "10", "--log-level", "warning", *certificate, app]


def redis_serve_env(args: argparse.Namespace, env: Mapping[str, str]) -> dict[str, str]:
    """The environment of the gunicorn processes: the caller's, completed from the command line."""
    child = dict(env)
    if args.redis:
        child["EPERMIT_REDIS_URL"] = args.redis
    if args.redis_cluster:
        child["EPERMIT_REDIS_CLUSTER"] = "1"
    if getattr(args, "redis_wait_replicas", None) is not None:
        child["EPERMIT_REDIS_WAIT_REPLICAS"] = str(args.redis_wait_replicas)
    if getattr(args, "ephemeral_redis", None):
        child["EPERMIT_EPHEMERAL_REDIS_URL"] = args.ephemeral_redis
    wallet_port = int(child.get("EPERMIT_WALLET_PORT") or args.wallet_port)
    host = args.host or child.get("EPERMIT_HOST") or "127.0.0.1"
    child.setdefault("EPERMIT_OFFICER_PORT", str(args.officer_port))
    child.setdefault("EPERMIT_WALLET_PORT", str(wallet_port))
    child["EPERMIT_HOST"] = host
    if args.public_url:
        child["EPERMIT_PUBLIC_URL"] = args.public_url
    if args.tls_cert is not None and args.tls_key is not None:
        child["EPERMIT_TLS_CERT"], child["EPERMIT_TLS_KEY"] = str(args.tls_cert), str(args.tls_key)
    scheme = "https" if child.get("EPERMIT_TLS_CERT") else "http"
    child.setdefault("EPERMIT_PUBLIC_URL", f"{scheme}://{host}:{wallet_port}")
    if args.proxy_hops is not None:
        child["EPERMIT_PROXY_HOPS"] = str(args.proxy_hops)
    elif child["EPERMIT_PUBLIC_URL"].startswith("https:") and scheme == "http":
        child.setdefault("EPERMIT_PROXY_HOPS", "1")  # TLS ends at a proxy in front
    child.setdefault("EPERMIT_KEYS_DIR", str(Path(args.data) / "keys"))
    child.setdefault("EPERMIT_PUBLISHED_DIR", str(Path(args.data) / PUBLISHED_DIR))
    if args.passphrase_file is not None:
        child["EPERMIT_KEY_PASSPHRASE_FILE"] = str(args.passphrase_file)
    if args.workers is not None:
        child["EPERMIT_WORKERS"] = str(args.workers)
    return child


def serve_redis(env: Mapping[str, str]) -> int:
    from epermit.gunicorn_app import ServeConfigError, build_wallet_service  # flask and redis only when serving
    from epermit.login_identity import login_line
    from issuer.http.console import CONSOLE_OFF, console_settings_from_env
    from keys.login import has_login_key

    try:
        workers = int(env.get("EPERMIT_WORKERS") or DEFAULT_WORKERS)
        ports = int(env["EPERMIT_OFFICER_PORT"]), int(env["EPERMIT_WALLET_PORT"])
        if not 1 <= workers <= 64 or not all(0 < p < 65536 for p in ports):
            raise ValueError("EPERMIT_WORKERS must be 1..64 and the ports 1..65535")
        # Fail here, once, not in every worker: keys, Redis, and a login key that serves this public URL.
        service, login = build_wallet_service(env)
        service.store.close()  # type: ignore[attr-defined]
        console = console_settings_from_env(env)
    except (EpermitError, ValueError, KeyError, OSError) as exc:
        variable = f" ({exc.variable})" if isinstance(exc, ServeConfigError) else ""
        print(f"epermit serve: {exc}{variable}", file=sys.stderr)
        return 2
    host = env["EPERMIT_HOST"]
    tls = (env["EPERMIT_TLS_CERT"], env["EPERMIT_TLS_KEY"]) if env.get("EPERMIT_TLS_CERT") else None
    scheme = "https" if tls else "http"
    commands = [gunicorn_command(app, host=host, port=port, workers=workers, threads=DEFAULT_THREADS, tls=tls)
                for app, port in ((OFFICER_APP, ports[0]), (WALLET_APP, ports[1]))]
    # Our own command lines: constants and checked integers, no shell.
    child_env = dict(env)
    own_metrics_dir = None
    if child_env.get("EPERMIT_METRICS_TOKEN") and not child_env.get("PROMETHEUS_MULTIPROC_DIR"):
        own_metrics_dir = child_env["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="epermit-metrics-")
    processes = [subprocess.Popen(command, env=child_env) for command in commands]  # noqa: S603
    print(f"officer API  {scheme}://{host}:{ports[0]}\nwallet API   {scheme}://{host}:{ports[1]}  "
          f"(public URL {env['EPERMIT_PUBLIC_URL']}; {workers} gunicorn workers each, Redis store)\n"
          f"officer console  {f'{scheme}://{host}:{ports[0]}/officer/' if console is not None else CONSOLE_OFF}\n"
          f"{login_line(login, has_key=has_login_key(Path(env['EPERMIT_KEYS_DIR'])))}", flush=True)
    stopping: list[int] = []

    def stop(signum: int, frame: FrameType | None) -> None:
        stopping.append(signum)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not stopping and all(p.poll() is None for p in processes):
            time.sleep(0.2)
    finally:
        for p in processes:
            if p.poll() is None:
                p.terminate()
        for p in processes:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if own_metrics_dir is not None:
            shutil.rmtree(own_metrics_dir, ignore_errors=True)
    return 0 if stopping else max(p.returncode or 0 for p in processes) or 1
