"""More processes serving the HTTP API, so that credit checks use every core.

With ``[http] workers = N`` (N > 1) the daemon serves the API itself and starts N − 1 worker processes
(``python -m creditguard.api_workers CONFIG``) that listen on the same address: every process binds its
own socket with ``SO_REUSEPORT`` and the kernel spreads connections between them.  A worker only answers
HTTP: it opens the same store, loads the same policy (again on SIGHUP, which the daemon forwards), keeps
the ERP's rate tables for at most a minute, and stops on SIGTERM or when the daemon is gone.  Decisions
stay one at a time per credit group across processes (the store's lock, see ``Store.decision_lock``).
A worker has no ERP connection of its own: its ``/readyz`` judges by the syncs recorded in the store, and
its ``/metrics`` lack the daemon's in-memory error counters.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from types import SimpleNamespace
from typing import Any

from connector.logs import get_logger

log = get_logger("creditguard.http")

RATE_TABLE_SECONDS = 60.0  # how long a worker, which does not sync, keeps the rate tables


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to host:port that other processes may bind too (the kernel shares the connections)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(1024)
    return sock


class Workers:
    """The daemon's worker processes: started, restarted when one dies, told to reload, stopped."""

    def __init__(self, config_path: str, count: int) -> None:
        self.config_path = config_path
        self.count = count
        self.processes: list[subprocess.Popen] = []

    def start(self) -> None:
        self.processes = [self._spawn() for _ in range(self.count)]

    def _spawn(self) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "creditguard.api_workers", self.config_path, str(os.getpid())],
                                stdin=subprocess.DEVNULL)

    def keep_alive(self) -> None:
        for n, process in enumerate(self.processes):
            if process.poll() is not None:
                log.warning("http.worker_restarted", exit_code=process.returncode)
                self.processes[n] = self._spawn()

    def reload(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGHUP)

    def stop(self, timeout: float = 10.0) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + timeout
        for process in self.processes:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _load(config_path: str) -> tuple[Any, Any]:
    from connector.config import load_config
    from policy.loader import load_policy

    config = load_config(config_path)
    return config, load_policy(config.policy.path) if config.policy is not None else None


def run_worker(config_path: str, parent: int) -> int:
    """One worker: serve the API until SIGTERM, or until the daemon that started it is gone."""
    from connector.errors import CreditGuardError
    from connector.exposure import rate_tables
    from connector.logs import configure_logging
    from connector.store import Store

    from .http_api import Api, serve

    config, policy = _load(config_path)
    configure_logging(config.logging.level, config.logging.format)
    store = Store.open(config.store.url_with_password(), apply_migrations=False)
    store.checkpoint_in_background()  # SQLite: not in the commit of a credit check
    daemon = SimpleNamespace(store=store, config=config, policy=policy, breakers={}, error_counts={},
                             rate_tables=rate_tables(store, RATE_TABLE_SECONDS))
    http = config.http
    server = serve(Api(daemon, http.token), http.host, http.port, workers=http.workers, threads=http.threads)
    stop, reload = threading.Event(), threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGHUP, lambda *_: reload.set())
    while not stop.wait(1.0):
        if os.getppid() != parent:
            break
        if reload.is_set():
            reload.clear()
            try:
                daemon.config, daemon.policy = _load(config_path)
            except CreditGuardError as exc:
                log.error("http.worker_reload_rejected", error=str(exc).splitlines()[0])
    server.close()
    store.close()
    return 0


if __name__ == "__main__":
    sys.exit(run_worker(sys.argv[1], int(sys.argv[2])))
