"""The embedded default's background capacity.

``cqpi run`` without ``REDIS_URL`` still needs nothing installed, but its background work
does not share the web process's interpreter (and its one core) with the requests: it starts
a queue server (fakeredis speaking the Redis protocol on a loopback port, in a process of its
own) and ``cqpi worker`` processes against it, the same code path as production. A thread
of the web process supervises them: a child that dies is started again (a queue server that
restarted empty is noticed by the workers' tick, which enqueues again what the database says
is waiting). Every child watches its parent and stops when it is gone, so a killed
``cqpi run`` leaves nothing behind.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

log = logging.getLogger(__name__)

PARENT_ENV = "CQPI_PARENT_PID"
"""Set in a child's environment: the pid whose end the child follows."""

STOP_SECONDS = 10.0
"""How long a child may take to stop warm (a worker finishes its job) before it is killed."""


def watch_parent() -> None:
    """In a child started by ``Background``: stop (SIGTERM to itself) once the parent is
    gone. Does nothing in a process that no one started this way."""
    parent = os.environ.get(PARENT_ENV)
    if not parent:
        return

    def watch() -> None:
        while os.getppid() == int(parent):
            time.sleep(1.0)
        log.warning("cqpi run (pid %s) is gone; stopping", parent)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="cqpi-parent-watch", daemon=True).start()


def serve_queue(port: int) -> None:
    """Serve an in-memory Redis on 127.0.0.1:``port`` until SIGTERM (``cqpi queue-server``)."""
    from fakeredis import TcpFakeServer

    server = TcpFakeServer(("127.0.0.1", port), server_type="redis")
    server.daemon_threads = True

    def stop(*_: object) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    watch_parent()
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Background:
    """The queue server and the worker processes of one ``cqpi run``."""

    def __init__(self, workers: int) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.workers = workers
        self.children: dict[str, subprocess.Popen[bytes]] = {}
        self.stopping = threading.Event()
        self.lock = threading.Lock()

    def _command(self, name: str) -> list[str]:
        cqpi = [sys.executable, "-m", "web.cli"]
        if name == "queue":
            return [*cqpi, "queue-server", "--port", str(self.port)]
        return [*cqpi, "worker"]

    def _spawn(self, name: str) -> None:
        env = {**os.environ, PARENT_ENV: str(os.getpid()), "REDIS_URL": self.url}
        self.children[name] = subprocess.Popen(
            self._command(name), env=env, cwd=Path.cwd(),
            start_new_session=True)  # a Ctrl-C in the terminal reaches cqpi run only

    def start_queue(self) -> str:
        """Start the queue server; its URL once it accepts connections."""
        self._spawn("queue")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self.url
            except OSError:
                if self.children["queue"].poll() is not None:
                    break
                time.sleep(0.05)
        raise RuntimeError(f"嵌入模式的队列服务未能启动（端口 {self.port}）")

    def start_workers(self) -> None:
        for n in range(1, self.workers + 1):
            self._spawn(f"worker-{n}")
        threading.Thread(target=self._supervise, name="cqpi-supervisor", daemon=True).start()

    def _supervise(self) -> None:
        while not self.stopping.wait(1.0):
            with self.lock:
                for name, child in list(self.children.items()):
                    if child.poll() is not None and not self.stopping.is_set():
                        log.warning("background process %s (pid %d) exited with %s; "
                                    "starting it again", name, child.pid, child.returncode)
                        self._spawn(name)

    def stop(self) -> None:
        """Stop the workers warm, then the queue server; kill what does not stop in time."""
        self.stopping.set()
        with self.lock:
            workers = [c for n, c in self.children.items() if n != "queue"]
            _end(workers)
            _end([self.children["queue"]])


def _end(children: list[subprocess.Popen[bytes]]) -> None:
    for child in children:
        if child.poll() is None:
            child.terminate()
    deadline = time.monotonic() + STOP_SECONDS
    for child in children:
        try:
            child.wait(max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
