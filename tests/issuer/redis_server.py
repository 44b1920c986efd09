"""Real redis-server processes for the tests: a single durable server and a three-master cluster.

Each server runs on a free loopback port with ``--appendonly yes --appendfsync always --dir <tmp>`` and is
killed (not left behind) by ``stop``. ``kill9`` and ``restart`` let the crash test pull the plug.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

REDIS_SERVER = shutil.which("redis-server")
REDIS_CLI = shutil.which("redis-cli")
START_TIMEOUT = 15.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_cluster_port() -> int:
    """A free port P with P + 10000 (the cluster bus) free as well and below 65536."""
    for _ in range(1000):
        port = secrets.choice(range(20000, 55000))
        if _bindable(port) and _bindable(port + 10000):
            return port
    raise RuntimeError("no free port pair for a cluster node")


def _ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """One redis-server; ``extra`` adds command-line options (e.g. the cluster ones)."""

    def __init__(self, directory: Path, *, port: int | None = None, durable: bool = True,
                 extra: tuple[str, ...] = ()) -> None:
        if REDIS_SERVER is None:
            raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.durable = durable
        self.extra = extra
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def command(self) -> list[str]:
        assert REDIS_SERVER is not None
        durability = ["--appendonly", "yes", "--appendfsync", "always"] if self.durable else ["--appendonly", "no"]
        return [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir),
                "--save", "", "--daemonize", "no", "--protected-mode", "no", "--logfile", "redis.log",
                *durability, *self.extra]

    def start(self) -> RedisServer:
        self.process = subprocess.Popen(self.command(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + START_TIMEOUT
        while not _ping(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                log = (self.dir / "redis.log").read_text(errors="replace")[-2000:] if (
                    self.dir / "redis.log").exists() else ""
                self.stop()
                raise RuntimeError(f"redis-server on port {self.port} did not start:\n{log}")
            time.sleep(0.02)
        return self

    def kill9(self) -> None:
        """Pull the plug: SIGKILL, no shutdown, no final fsync."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None

    def restart(self) -> RedisServer:
        """Start again on the same port and directory (the AOF is replayed)."""
        self.kill9()
        return self.start()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill9()
        self.process = None


class RedisClusterProcesses:
    """Three masters on loopback ports joined with ``redis-cli --cluster create``."""

    def __init__(self, directory: Path, masters: int = 3) -> None:
        self.servers = []
        for n in range(masters):
            port = free_cluster_port()
            node_dir = directory / f"node{n}"
            extra = ("--cluster-enabled", "yes", "--cluster-config-file", str(node_dir / "nodes.conf"),
                     "--cluster-node-timeout", "5000")
            self.servers.append(RedisServer(node_dir, port=port, extra=extra))

    @property
    def url(self) -> str:
        return self.servers[0].url

    def start(self) -> RedisClusterProcesses:
        if REDIS_CLI is None:
            raise RuntimeError("redis-cli is not installed")
        for server in self.servers:
            server.start()
        addresses = [f"127.0.0.1:{s.port}" for s in self.servers]
        subprocess.run([REDIS_CLI, "--cluster", "create", *addresses, "--cluster-replicas", "0", "--cluster-yes"],
                       check=True, capture_output=True, timeout=60)
        deadline = time.monotonic() + START_TIMEOUT
        while not self._cluster_ok():
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the Redis cluster did not reach cluster_state:ok")
            time.sleep(0.1)
        return self

    def _cluster_ok(self) -> bool:
        assert REDIS_CLI is not None
        for server in self.servers:
            out = subprocess.run([REDIS_CLI, "-p", str(server.port), "cluster", "info"],
                                 capture_output=True, text=True, timeout=10).stdout
            if "cluster_state:ok" not in out:
                return False
        return True

    def stop(self) -> None:
        for server in self.servers:
            server.stop()
