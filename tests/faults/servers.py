"""Private, real Redis and PostgreSQL servers that a fault test may stop, restart, pause or flush.

The machine's shared servers (PostgreSQL on 5432, Redis on 6379) serve every other test run and
must never be disturbed; these run on free loopback ports in temporary directories and die with the
test session. PostgreSQL refuses to run as root, so as root it runs as the `postgres` OS user.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Literal

READY_TIMEOUT_S = 30.0
PG_USER = "postgres"


class ServerUnavailable(RuntimeError):
    """The server binaries (or the OS user to run them as) are missing: the reason says which."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(ready: Callable[[], bool], what: str, timeout_s: float = READY_TIMEOUT_S) -> None:
    """Poll an external process until `ready()` (there is nothing to await on another process)."""
    deadline = time.monotonic() + timeout_s
    while not ready():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout_s:g} s waiting for {what}")
        time.sleep(0.05)


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class PrivateRedis:
    """`redis-server` on a fixed free port with no persistence: stop() loses everything, like a flush."""

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise ServerUnavailable("redis-server is not on PATH (apt-get install redis-server)")
        self.binary, self.workdir = binary, workdir
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        """Whether the server process is alive (it may be paused)."""
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> None:
        """Start on the same port as before and wait until it answers PING."""
        if self.running:
            return
        self.workdir.mkdir(parents=True, exist_ok=True)
        args = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly"]
        args += ["no", "--dir", str(self.workdir), "--logfile", str(self.workdir / "redis.log")]
        self._proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        wait_until(self._pings, f"redis-server on port {self.port} (see {self.workdir / 'redis.log'})")

    def _pings(self) -> bool:
        if not self.running:
            raise RuntimeError(f"redis-server exited; see {self.workdir / 'redis.log'}")
        import redis

        client = redis.Redis(port=self.port, socket_timeout=0.5, socket_connect_timeout=0.5)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def stop(self) -> None:
        """SIGTERM and wait: clients see connection refused from now on."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGCONT)  # a paused server cannot act on SIGTERM
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def pause(self) -> None:
        """SIGSTOP: the kernel still accepts connections but nothing answers (a hung server)."""
        assert self._proc is not None
        self._proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT after `pause`."""
        assert self._proc is not None
        self._proc.send_signal(signal.SIGCONT)

    def flush(self) -> None:
        """FLUSHALL: every key gone (locks, de-dup marks, pacing slots)."""
        import redis

        client = redis.Redis(port=self.port, socket_timeout=5)
        try:
            client.flushall()
        finally:
            client.close()

    def keys(self, pattern: str = "*") -> list[str]:
        """The keys matching `pattern` (to tell that the bot writes to Redis again)."""
        import redis

        client = redis.Redis(port=self.port, socket_timeout=5, decode_responses=True)
        try:
            return sorted(client.scan_iter(pattern))
        finally:
            client.close()


def postgres_bin_dir() -> Path:
    """The newest /usr/lib/postgresql/<version>/bin holding initdb and pg_ctl."""
    found = [
        d
        for d in Path("/usr/lib/postgresql").glob("*/bin")
        if (d / "initdb").is_file() and (d / "pg_ctl").is_file()
    ]
    if not found:
        raise ServerUnavailable(
            "no /usr/lib/postgresql/*/bin with initdb and pg_ctl (apt-get install postgresql)"
        )
    return max(found, key=lambda d: int(d.parent.name) if d.parent.name.isdigit() else 0)


class PrivatePostgres:
    """A PostgreSQL cluster of its own (initdb in a temporary directory, trust auth, a free port)."""

    def __init__(self, port: int | None = None, database: str = "gridbot") -> None:
        self.bin = postgres_bin_dir()
        self.as_postgres: list[str] = []
        if os.geteuid() == 0:  # PostgreSQL will not run as root
            runuser = shutil.which("runuser")
            if runuser is None:
                raise ServerUnavailable(
                    "running as root, and runuser is missing to run PostgreSQL as postgres"
                )
            try:
                pwd.getpwnam(PG_USER)
            except KeyError:
                raise ServerUnavailable(f"running as root, and there is no {PG_USER!r} OS user") from None
            self.as_postgres = [runuser, "-u", PG_USER, "--"]
        # not under pytest's root-only tmp tree: the postgres user must be able to reach it
        self.root = Path(tempfile.mkdtemp(prefix="gridbot-faults-pg-"))
        if self.as_postgres:
            shutil.chown(self.root, PG_USER, PG_USER)
        self.data, self.socket_dir, self.log = (
            self.root / "data",
            self.root / "run",
            self.root / "postgres.log",
        )
        self.port = port or free_port()
        self.database = database
        self.url = f"postgresql+psycopg://{PG_USER}@127.0.0.1:{self.port}/{database}"
        self.admin_url = f"postgresql+psycopg://{PG_USER}@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, timeout: float = 120.0) -> None:
        cmd = [*self.as_postgres, *args]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        if done.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{' '.join(args[:2])} failed ({done.returncode}): {done.stderr}{log}")

    def init(self) -> None:
        """initdb (trust auth, UTF-8, no fsync: a process crash still loses nothing), start, create the db."""
        self.socket_dir.mkdir()
        if self.as_postgres:
            shutil.chown(self.socket_dir, PG_USER, PG_USER)
        self._run(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-U",
            PG_USER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        )
        conf = "\n".join(
            (
                f"port = {self.port}",
                "listen_addresses = '127.0.0.1'",
                f"unix_socket_directories = '{self.socket_dir}'",
                "fsync = off",
                "full_page_writes = off",
                "max_connections = 50",
                "",
            )
        )
        with (self.data / "postgresql.auto.conf").open("a") as fh:  # root may write; postgres keeps owning it
            fh.write(conf)
        self.start()
        from sqlalchemy import create_engine, text

        admin = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{self.database}"'))
        finally:
            admin.dispose()

    @property
    def running(self) -> bool:
        """Whether the postmaster is up (its pid file is there)."""
        return (self.data / "postmaster.pid").exists()

    def start(self) -> None:
        """pg_ctl start on the same port; returns once it accepts connections."""
        if self.running:
            return
        self._run(
            str(self.bin / "pg_ctl"), "start", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60"
        )
        wait_until(lambda: _accepts(self.port), f"PostgreSQL on port {self.port}")

    def stop(self, mode: Literal["smart", "fast", "immediate"] = "fast") -> None:
        """pg_ctl stop: `fast` ends sessions cleanly, `immediate` is a crash (recovery on next start)."""
        if not self.running:
            return
        self._run(str(self.bin / "pg_ctl"), "stop", "-D", str(self.data), "-m", mode, "-w", "-t", "60")

    def restart(self, mode: Literal["smart", "fast", "immediate"] = "fast") -> None:
        """Stop in `mode`, then start."""
        self.stop(mode)
        self.start()

    def destroy(self) -> None:
        """Stop (immediately) and remove the cluster's directory."""
        try:
            self.stop("immediate")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
