"""Throwaway ``redis-server`` processes for integration tests: standalone, Cluster, Sentinel.

Why not the shared local Redis: outage tests stop and restart the server, and the Cluster test
needs three masters in cluster mode. Every process here runs from the machine's own
``redis-server`` binary on a spare local port (never 6379), in its own temporary directory,
without persistence (``--save "" --appendonly no``), so a restart always comes back empty, like
a Redis that lost its data. Processes are terminated, waited for, and killed if they linger.

Waiting for a process to accept connections (or for the cluster to converge) is a bounded
polling loop: that is readiness, not a way of controlling time in a test.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.cluster import RedisCluster
from redis.retry import Retry

REDIS_SERVER = (
    os.environ.get("DRA_REDIS_SERVER") or shutil.which("redis-server") or ("/usr/bin/redis-server")
)
REDIS_CLI = os.environ.get("DRA_REDIS_CLI") or shutil.which("redis-cli") or "/usr/bin/redis-cli"
HOST = "127.0.0.1"
READY_TIMEOUT = 10.0  # seconds a process or the cluster gets to become ready
POLL_INTERVAL = 0.02
# Cluster nodes also listen on port + 10000 (the cluster bus), which must exist and be free.
_BUS_OFFSET = 10000
_RESERVED = frozenset({6379, 16379, 26379, 5432})


def no_retry() -> Retry:
    """redis-py's default client retries 10 times with backoff (seconds per failed call);
    tests that talk to a stopped server want the failure at once."""
    return Retry(NoBackoff(), 0)


def free_ports(count: int, *, cluster_bus: bool = False) -> list[int]:
    """``count`` distinct ports the OS reports free (by binding port 0); with ``cluster_bus``
    also ``port + 10000`` is checked. The sockets stay bound until all ports are chosen so the
    OS cannot hand out the same port twice."""
    held: list[socket.socket] = []
    ports: list[int] = []
    candidates = _port_range()
    try:
        for _attempt in range(200):
            if len(ports) == count:
                return ports
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                sock.bind((HOST, next(candidates, 0)))
            except OSError:
                sock.close()
                continue
            held.append(sock)
            port = sock.getsockname()[1]
            if port in _RESERVED:
                continue
            if cluster_bus:
                if port + _BUS_OFFSET > 65535:
                    continue
                bus = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                try:
                    bus.bind((HOST, port + _BUS_OFFSET))
                except OSError:
                    bus.close()
                    continue
                held.append(bus)
            ports.append(port)
        raise RuntimeError(f"could not find {count} free local ports")
    finally:
        for sock in held:
            sock.close()


def _port_range() -> Iterator[int]:
    """Ports to try first: ``DRA_TEST_PORTS=16400-16499`` keeps the servers of one person's
    test run in a range of their own on a shared machine; unset, the OS picks."""
    spec = os.environ.get("DRA_TEST_PORTS", "")
    if "-" not in spec:
        return iter(())
    low, high = (int(part) for part in spec.split("-", 1))
    ports = list(range(low, high + 1))
    random.shuffle(ports)
    return iter(ports)


def wait_until(predicate: Callable[[], bool], what: str, timeout: float = READY_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(POLL_INTERVAL)


def terminate(process: subprocess.Popen[bytes], timeout: float = 5) -> None:
    """Stop a child process: SIGTERM, then SIGKILL if it does not exit in ``timeout``."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)


class RedisServer:
    """One ``redis-server`` process on a fixed local port; ``restart()`` brings it back on the
    same port with no data. Use as a context manager (or call ``start``/``stop``)."""

    def __init__(
        self,
        port: int | None = None,
        *,
        args: tuple[str, ...] = (),
        directory: Path | None = None,
        sentinel: bool = False,
    ) -> None:
        self.port = port if port is not None else free_ports(1)[0]
        self.extra_args = args
        self.sentinel = sentinel
        self._own_dir = directory is None
        self.dir = Path(directory or tempfile.mkdtemp(prefix=f"dra-redis-{self.port}-"))
        self.process: subprocess.Popen[bytes] | None = None

    # -- lifecycle ---------------------------------------------------------------------

    def command(self) -> list[str]:
        if self.sentinel:
            # Sentinel rewrites its config file, so it must be a real file it can write.
            conf = self.dir / "sentinel.conf"
            if not conf.exists():
                conf.write_text("")
            head = [REDIS_SERVER, str(conf), "--sentinel"]
        else:
            head = [REDIS_SERVER, "--save", "", "--appendonly", "no"]
        return [
            *head,
            "--port", str(self.port),
            "--bind", HOST,
            "--dir", str(self.dir),
            "--daemonize", "no",
            "--logfile", str(self.logfile),
            *self.extra_args,
        ]  # fmt: skip

    @property
    def logfile(self) -> Path:
        return self.dir / "redis.log"

    def start(self) -> RedisServer:
        if self.running:
            return self
        # No persistence is configured; removing any dump makes "restarted empty" certain.
        for leftover in ("dump.rdb", "appendonly.aof"):
            with contextlib.suppress(FileNotFoundError):
                (self.dir / leftover).unlink()
        self.process = subprocess.Popen(
            self.command(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_until(self._ready, f"redis-server on port {self.port}")
        except Exception:
            self.stop()
            raise
        return self

    def _ready(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            log = self.logfile.read_text() if self.logfile.exists() else ""
            raise RuntimeError(
                f"redis-server on port {self.port} exited with {self.process.returncode}:\n"
                f"{log[-2000:]}"
            )
        try:
            return bool(self.client(socket_connect_timeout=0.2).ping())
        except redis.RedisError:
            return False

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            terminate(process)

    def restart(self) -> RedisServer:
        """Stop and start again on the same port: the server comes back empty."""
        self.stop()
        return self.start()

    def cleanup(self) -> None:
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.cleanup()

    # -- clients ---------------------------------------------------------------------

    def url(self, db: int = 0) -> str:
        return f"redis://{HOST}:{self.port}/{db}"

    def client(self, **kwargs: Any) -> redis.Redis:
        kwargs.setdefault("retry", no_retry())
        return redis.Redis(host=HOST, port=self.port, **kwargs)


class RedisClusterServers:
    """A real Redis Cluster of ``masters`` master processes (no replicas), created with
    ``redis-cli --cluster create`` and ready (``cluster_state:ok`` on every node)."""

    def __init__(self, masters: int = 3) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="dra-redis-cluster-"))
        self.nodes: list[RedisServer] = []
        for port in free_ports(masters, cluster_bus=True):
            node_dir = self.dir / str(port)
            node_dir.mkdir()
            self.nodes.append(
                RedisServer(
                    port,
                    directory=node_dir,
                    args=(
                        "--cluster-enabled",
                        "yes",
                        "--cluster-config-file",
                        str(node_dir / "nodes.conf"),
                        "--cluster-node-timeout",
                        "5000",
                    ),
                )
            )

    @property
    def ports(self) -> list[int]:
        return [node.port for node in self.nodes]

    def start(self) -> RedisClusterServers:
        try:
            for node in self.nodes:
                node.start()
            subprocess.run(
                [
                    REDIS_CLI,
                    "--cluster",
                    "create",
                    *(f"{HOST}:{port}" for port in self.ports),
                    "--cluster-replicas",
                    "0",
                    "--cluster-yes",
                ],
                check=True,
                capture_output=True,
                timeout=60,
            )
            self.wait_until_ok()
        except BaseException:
            self.cleanup()
            raise
        return self

    def wait_until_ok(self) -> None:
        """Block (bounded) until every node reports ``cluster_state:ok`` with all slots."""
        wait_until(self._converged, "cluster_state:ok on every node")

    def _converged(self) -> bool:
        for node in self.nodes:
            info = node.client().cluster("info")
            if isinstance(info, bytes | str):
                text = info.decode() if isinstance(info, bytes) else info
                ok = "cluster_state:ok" in text and "cluster_slots_ok:16384" in text
            else:
                ok = (
                    info.get("cluster_state") == "ok"
                    and str(info.get("cluster_slots_ok")) == "16384"
                )
            if not ok:
                return False
        return True

    def client(self, **kwargs: Any) -> RedisCluster:
        return RedisCluster(host=HOST, port=self.nodes[0].port, **kwargs)

    def flushall(self) -> None:
        for node in self.nodes:
            node.client().flushall()

    def cleanup(self) -> None:
        for node in self.nodes:
            node.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> RedisClusterServers:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.cleanup()


class RedisSentinelServers:
    """One master, ``replicas`` replicas of it, and one Sentinel process monitoring the
    master as ``service_name`` (quorum 1, so ``SENTINEL FAILOVER`` needs no other vote)."""

    def __init__(self, service_name: str = "mymaster", *, replicas: int = 0) -> None:
        self.service_name = service_name
        self.dir = Path(tempfile.mkdtemp(prefix="dra-redis-sentinel-"))
        master_port, sentinel_port, *replica_ports = free_ports(2 + replicas)
        for name in ("master", "sentinel", *(f"replica-{p}" for p in replica_ports)):
            (self.dir / name).mkdir()
        # No 5 s wait before the initial (diskless) sync to a replica.
        self.master = RedisServer(
            master_port, directory=self.dir / "master", args=("--repl-diskless-sync-delay", "0")
        )
        self.replicas = [
            RedisServer(
                port,
                directory=self.dir / f"replica-{port}",
                args=("--replicaof", HOST, str(master_port)),
            )
            for port in replica_ports
        ]
        self.sentinel = RedisServer(sentinel_port, directory=self.dir / "sentinel", sentinel=True)

    @property
    def data_servers(self) -> list[RedisServer]:
        return [self.master, *self.replicas]

    def start(self) -> RedisSentinelServers:
        try:
            for server in self.data_servers:
                server.start()
            wait_until(self._replicas_in_sync, "replicas to finish their initial sync")
            (self.sentinel.dir / "sentinel.conf").write_text(
                f"sentinel monitor {self.service_name} {HOST} {self.master.port} 1\n"
                f"sentinel down-after-milliseconds {self.service_name} 5000\n"
                f"sentinel failover-timeout {self.service_name} 10000\n"
            )
            self.sentinel.start()
            wait_until(self._discovered, f"sentinel to report master {self.service_name}")
        except BaseException:
            self.cleanup()
            raise
        return self

    def _replicas_in_sync(self) -> bool:
        return all(
            replica.client().info("replication").get("master_link_status") == "up"
            for replica in self.replicas
        )

    def _discovered(self) -> bool:
        if self.master_port() != self.master.port:
            return False
        if not self.replicas:
            return True
        # Ready to promote only once Sentinel is connected to each replica and has seen it
        # in sync (else SENTINEL FAILOVER answers NOGOODSLAVE).
        known = self.sentinel.client().sentinel_slaves(self.service_name)
        usable = [r for r in known if r["flags"] == "slave" and r.get("master-link-status") == "ok"]
        return len(usable) == len(self.replicas)

    def master_port(self) -> int | None:
        """The master's port as Sentinel's master table reports it now (what redis-py's
        ``Sentinel.discover_master`` reads; ``get-master-addr-by-name`` already names the
        promoted replica while the failover is still in progress)."""
        try:
            state = self.sentinel.client().sentinel_master(self.service_name)
        except redis.ResponseError:
            return None
        if not state["is_master"] or "failover_in_progress" in state["flags"]:
            return None
        return int(state["port"])

    def failover(self) -> RedisServer:
        """Force a failover (``SENTINEL FAILOVER``), wait until Sentinel names a promoted
        replica, then stop the old master, as in a crash. Returns the new master.

        Stopping the old master (rather than waiting for Sentinel to demote it, which it
        only notices on its 10-second INFO cycle) also means no client can keep writing to
        it in between."""
        old = next(s for s in self.data_servers if s.port == self.master_port())
        self.sentinel.client().execute_command("SENTINEL FAILOVER", self.service_name)

        def promoted() -> bool:
            port = self.master_port()
            if port in (None, old.port):
                return False
            new = next(s for s in self.data_servers if s.port == port)
            return new.client().info("replication").get("role") == "master"

        wait_until(promoted, "a replica to be promoted", timeout=20)
        old.stop()
        return next(s for s in self.data_servers if s.port == self.master_port())

    def cleanup(self) -> None:
        self.sentinel.stop()
        for server in self.data_servers:
            server.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> RedisSentinelServers:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.cleanup()


@contextlib.contextmanager
def redis_server(**kwargs: Any) -> Iterator[RedisServer]:
    with RedisServer(**kwargs) as server:
        yield server


@contextlib.contextmanager
def redis_cluster(masters: int = 3) -> Iterator[RedisClusterServers]:
    with RedisClusterServers(masters) as cluster:
        yield cluster


@contextlib.contextmanager
def redis_sentinel(
    service_name: str = "mymaster", *, replicas: int = 0
) -> Iterator[RedisSentinelServers]:
    with RedisSentinelServers(service_name, replicas=replicas) as servers:
        yield servers
