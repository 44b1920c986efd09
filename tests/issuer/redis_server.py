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
    """Three masters on loopback ports joined with ``redis-cli --cluster create``; with ``replicas``, that many
    replicas of each master (``redis-cli`` pairs them), so that a killed master's replica takes over."""

    def __init__(self, directory: Path, masters: int = 3, *, replicas: int = 0, node_timeout_ms: int = 5000) -> None:
        self.servers = []
        self.replicas = replicas
        for n in range(masters * (1 + replicas)):
            port = free_cluster_port()
            node_dir = directory / f"node{n}"
            extra = ("--cluster-enabled", "yes", "--cluster-config-file", str(node_dir / "nodes.conf"),
                     "--cluster-node-timeout", str(node_timeout_ms))
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
        subprocess.run([REDIS_CLI, "--cluster", "create", *addresses, "--cluster-replicas", str(self.replicas),
                        "--cluster-yes"], check=True, capture_output=True, timeout=60)
        deadline = time.monotonic() + START_TIMEOUT
        while not self._cluster_ok():
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the Redis cluster did not reach cluster_state:ok")
            time.sleep(0.1)
        return self

    def _cluster_ok(self, *, replicated: bool = True) -> bool:
        assert REDIS_CLI is not None
        for server in self.servers:
            if server.process is None:  # killed
                continue
            out = subprocess.run([REDIS_CLI, "-p", str(server.port), "cluster", "info"],
                                 capture_output=True, text=True, timeout=10).stdout
            if "cluster_state:ok" not in out:
                return False
        return not replicated or all(self._replicas_of(m) >= self.replicas for m in self.masters())

    def _replicas_of(self, master: RedisServer) -> int:
        assert REDIS_CLI is not None
        out = subprocess.run([REDIS_CLI, "-p", str(master.port), "info", "replication"], capture_output=True,
                             text=True, timeout=10).stdout
        return sum(1 for line in out.splitlines() if line.startswith("slave") and "state=online" in line)

    def role(self, server: RedisServer) -> str:
        assert REDIS_CLI is not None
        out = subprocess.run([REDIS_CLI, "-p", str(server.port), "role"], capture_output=True, text=True,
                             timeout=10).stdout
        return out.split("\n", 1)[0].strip()

    def masters(self) -> list[RedisServer]:
        """The live servers that are masters now."""
        return [s for s in self.servers if s.process is not None and self.role(s) == "master"]

    def wait_ok(self, timeout: float = 60.0) -> None:
        """Until every live node says cluster_state:ok and every master has its replicas online."""
        deadline = time.monotonic() + timeout
        while not self._cluster_ok():
            if time.monotonic() > deadline:
                raise RuntimeError("the Redis cluster did not reach cluster_state:ok with its replicas")
            time.sleep(0.1)

    def wait_failover(self, masters: int, timeout: float = 60.0) -> None:
        """Until ``masters`` live masters serve every slot (cluster_state:ok on every live node): after a
        master's kill, its replica has taken over (the promoted one has no replica of its own yet)."""
        deadline = time.monotonic() + timeout
        while len(self.masters()) < masters or not self._cluster_ok(replicated=False):
            if time.monotonic() > deadline:
                raise RuntimeError("the Redis cluster did not reach cluster_state:ok")
            time.sleep(0.1)

    def stop(self) -> None:
        for server in self.servers:
            server.stop()
