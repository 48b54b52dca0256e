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

import hmac
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

PARENT_ENV = "CQPI_PARENT_PID"
"""Set in a child's environment: the pid whose end the child follows."""

TICK_SECONDS = 0.25
"""The workers' scheduler tick (unless ``CQPI_TICK_SECONDS`` says otherwise): due timers are
enqueued within a quarter of a second (each tick is two indexed reads of the database)."""

CONCURRENCY = 3
"""Requests the embedded web process serves at once (``CQPI_EMBEDDED_CONCURRENCY``; 0: no
limit), while background work keeps up (see ``Admission``). Measured with ``make bench``
(reliability, 16 clients): 3 kept timer lateness p95 at 1.5 s where 4 let it reach 2.1 s,
for 5% fewer requests served."""

BACKLOG = 8
"""Jobs on the queue from which the web process serves one request at a time."""

WATCH_SECONDS = 0.2

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


def serve_queue(port: int, password: str) -> None:
    """Serve an in-memory Redis on 127.0.0.1:``port`` until SIGTERM (``cqpi queue-server``).
    A connection must first say ``AUTH <password>``: rq runs whatever a job names, so no
    other local user may put a job on this queue."""
    from fakeredis import TcpFakeServer

    class Server(TcpFakeServer):
        def get_request(self) -> tuple[socket.socket, object]:
            connection, address = super().get_request()
            if not _authenticated(connection, password.encode()):
                connection.close()
                raise OSError("a connection without the queue's password")  # dropped
            # replies go out at once: a pipeline's many small replies would otherwise wait
            # for the client's delayed acknowledgements, ~40 ms a pipeline
            connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return connection, address

    server = Server(("127.0.0.1", port), server_type="redis")
    server.daemon_threads = True

    def stop(*_: object) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    watch_parent()
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()


AUTH_SECONDS = 2.0
"""How long a new connection has to authenticate."""


def _authenticated(connection: socket.socket, password: bytes) -> bool:
    """Read the connection's first command; True (and +OK sent) if it is ``AUTH password``
    in the Redis protocol, as redis-py sends it on connecting with a password."""
    expected = b"*2\r\n$4\r\nAUTH\r\n$%d\r\n%s\r\n" % (len(password), password)
    connection.settimeout(AUTH_SECONDS)
    received = b""
    try:
        while len(received) < len(expected):
            chunk = connection.recv(len(expected) - len(received))
            if not chunk:
                return False
            received += chunk
        if not hmac.compare_digest(received, expected):
            return False
        connection.sendall(b"+OK\r\n")
    except OSError:
        return False
    finally:
        connection.settimeout(None)
    return True


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Background:
    """The queue server and the worker processes of one ``cqpi run``."""

    def __init__(self, workers: int) -> None:
        self.port = free_port()
        self.password = secrets.token_urlsafe(24)
        # RESP2, so that a client authenticates with a plain AUTH (see _authenticated)
        self.url = f"redis://:{self.password}@127.0.0.1:{self.port}/0?protocol=2"
        self.workers = workers
        self.children: dict[str, subprocess.Popen[bytes]] = {}
        self.stopping = threading.Event()
        self.lock = threading.Lock()

    def _command(self, name: str) -> list[str]:
        cqpi = [sys.executable, "-m", "web.cli"]
        if name == "queue":
            return [*cqpi, "queue-server", "--port", str(self.port)]  # password: environment
        return [*cqpi, "worker"]

    def _spawn(self, name: str) -> None:
        env = {"CQPI_TICK_SECONDS": str(TICK_SECONDS), **os.environ,
               PARENT_ENV: str(os.getpid()), "REDIS_URL": self.url}
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


class Admission:
    """WSGI middleware of the embedded default: requests wait their turn so that background
    work keeps up. One SQLite file takes one writer at a time and one interpreter runs one
    thread at a time, so sixteen requests at once are no faster than a few, and they crowd
    out the workers' writes: at most ``limit`` requests are served at once, and only one
    while the queue holds ``BACKLOG`` jobs or more (read every ``WATCH_SECONDS``). The health
    check and the built-in simulator are let through (the workers' pushes go there)."""

    def __init__(self, app: Any, limit: int, exempt: tuple[str, ...],
                 backlog: Callable[[], int]) -> None:
        self.app, self.exempt, self.limit = app, exempt, limit
        self.allowed, self.busy = limit, 0
        self.turn = threading.Condition()
        threading.Thread(target=self._watch, args=(backlog,), name="cqpi-admission",
                         daemon=True).start()

    def _watch(self, backlog: Callable[[], int]) -> None:
        while True:
            try:
                waiting = backlog()
            except Exception:  # noqa: BLE001 - a queue that does not answer holds no one back
                waiting = 0
            with self.turn:
                self.allowed = 1 if waiting >= BACKLOG else self.limit
                self.turn.notify_all()
            time.sleep(WATCH_SECONDS)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO", "").startswith(self.exempt):
            return self.app(environ, start_response)
        with self.turn:
            self.turn.wait_for(lambda: self.busy < self.allowed)
            self.busy += 1
        try:
            return list(self.app(environ, start_response))
        finally:
            with self.turn:
                self.busy -= 1
                self.turn.notify()
