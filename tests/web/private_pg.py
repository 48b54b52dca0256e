"""A PostgreSQL cluster of a test's own, which the test may stop and start at will (the
machine's shared server is never touched): initdb into a new directory under /tmp, trust
authentication, listening on 127.0.0.1 on a free port, its unix socket in that directory.

The server refuses to run as root: when the suite runs as root, every PostgreSQL program
runs as the ``postgres`` OS user (``runuser``), which owns the directory. The server's
output goes to a log file the caller chooses (opened by this process, so it may be in a
directory only root can enter)."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg
import pytest

from tests.web.test_cli import _free_port

PROGRAMS = ("initdb", "pg_ctl", "postgres")
SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "max_connections": "200",
    "fsync": "off",  # a test's data: speed over durability (a fast stop still checkpoints)
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "log_line_prefix": "'%m [%p] '",
}
"""postgresql.conf lines of the private cluster (port and socket directory come on top)."""


def _version(directory: str) -> tuple[int, ...]:
    """The version in /usr/lib/postgresql/<version>/bin, for choosing the newest."""
    name = Path(directory).parent.name
    return tuple(int(part) for part in name.split(".") if part.isdigit())


def binaries() -> Path | None:
    """The newest installed PostgreSQL's bin directory with every program needed, if any."""
    found = [d for d in glob.glob("/usr/lib/postgresql/*/bin")
             if all((Path(d) / program).exists() for program in PROGRAMS)]
    return Path(max(found, key=_version)) if found else None


def _run_as() -> list[str]:
    """The prefix that runs a PostgreSQL program as a user the server accepts; skips the
    test when the suite runs as root and there is no ``postgres`` user."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        pytest.skip("running as root and there is no postgres OS user to run a private "
                    "PostgreSQL cluster as")
    runuser = shutil.which("runuser")
    if runuser is None:
        pytest.skip("running as root and runuser is not installed")
    return [runuser, "-u", "postgres", "--"]


class PrivatePostgres:
    """A private PostgreSQL cluster, started on creation; ``stop``, ``start``, ``restart``
    it, ``close`` it (stopped and its directory removed). Skips the test when PostgreSQL's
    server programs are not installed."""

    def __init__(self, log: Path) -> None:
        found = binaries()
        if found is None:
            pytest.skip("PostgreSQL server programs (initdb, pg_ctl, postgres) not found "
                        "under /usr/lib/postgresql/*/bin")
        self.bin, self.log, self.port = found, log, _free_port()
        self.prefix = _run_as()
        self.root = Path(tempfile.mkdtemp(prefix="cqpi-pg-"))
        self.data = self.root / "data"
        self.running = False
        try:
            self._init()
            self.start()
        except BaseException:
            self.close()
            raise

    @property
    def admin_url(self) -> str:
        return self.url("postgres")

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _program(self, name: str, *args: str, timeout: float = 60) -> None:
        with self.log.open("ab") as out:
            done = subprocess.run([*self.prefix, str(self.bin / name), *args], stdout=out,
                                  stderr=subprocess.STDOUT, timeout=timeout, check=False)
        assert done.returncode == 0, f"{name} {' '.join(args)} failed:\n{self.tail()}"

    def _init(self) -> None:
        if self.prefix:
            entry = pwd.getpwnam("postgres")
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        self._program("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres",
                      "-E", "UTF8", "--no-locale", "--no-sync")
        settings = {**SETTINGS, "port": str(self.port),
                    "unix_socket_directories": f"'{self.root}'"}
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.writelines(f"{name} = {value}\n" for name, value in settings.items())

    def start(self) -> None:
        """Start the server; return once it accepts connections."""
        self._program("pg_ctl", "start", "-D", str(self.data), "-w", "-t", "60")
        self.running = True

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``fast``: open sessions are ended, as in a restart)."""
        self._program("pg_ctl", "stop", "-D", str(self.data), "-m", mode, "-w", "-t", "60")
        self.running = False

    def restart(self, down: float = 0.0) -> float:
        """Stop the server, wait ``down`` seconds, start it; the seconds it did not answer."""
        started = time.monotonic()
        self.stop()
        time.sleep(down)
        self.start()
        return time.monotonic() - started

    def create_database(self, name: str) -> str:
        """A new empty database: its libpq URL."""
        with psycopg.connect(self.admin_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def tail(self, lines: int = 40) -> str:
        if not self.log.exists():
            return ""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def close(self) -> None:
        try:
            if self.running:
                self.stop("immediate")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
