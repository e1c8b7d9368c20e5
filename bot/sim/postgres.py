"""A real, throwaway PostgreSQL server in a temporary directory, for the tests and `bench/webhooks.py`.

It runs Debian's ``postgresql`` package binaries (``/usr/lib/postgresql/<major>/bin``, or those
on ``PATH``, or ``$EVALBOT_PG_BIN``): ``initdb`` with trust authentication on 127.0.0.1 only, then
``pg_ctl start`` on a free port, durability off (``fsync``, ``synchronous_commit``: the data is
thrown away). PostgreSQL refuses to run as root, so as root the server runs as the ``postgres``
user (the package creates it) in a directory it owns.

>>> with PostgresServer() as server:  # doctest: +SKIP
...     url = server.create_database("t1")  # postgresql://evalbot@127.0.0.1:PORT/t1
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

USER = "evalbot"


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries here (install Debian's ``postgresql`` package)."""


def find_bindir(explicit: str | None = None) -> Path:
    """The directory with ``initdb``, ``pg_ctl`` and ``postgres``.

    Args:
        explicit: Look here first (default: ``$EVALBOT_PG_BIN``).

    Raises:
        PostgresUnavailable: None found.
    """
    candidates: list[Path] = []
    explicit = explicit or os.environ.get("EVALBOT_PG_BIN")
    if explicit:
        candidates.append(Path(explicit))
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: _major(p.parent.name), reverse=True)
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).parent)
    for bindir in candidates:
        if all((bindir / tool).is_file() for tool in ("initdb", "pg_ctl", "postgres")):
            return bindir
    raise PostgresUnavailable(
        "no PostgreSQL server binaries (initdb, pg_ctl): apt-get install postgresql, or set EVALBOT_PG_BIN"
    )


class PostgresServer:
    """One PostgreSQL server, started on construction and stopped (its directory removed) by `stop`."""

    def __init__(self, *, port: int | None = None, bindir: str | None = None) -> None:
        self.bindir = find_bindir(bindir)
        self.port = port or _free_port()
        self._tmp = Path(tempfile.mkdtemp(prefix="evalbot-pg-"))
        self.data = self._tmp / "data"
        self._run_as: str | None = "postgres" if os.geteuid() == 0 else None
        if self._run_as is not None:
            entry = pwd.getpwnam(self._run_as)
            os.chown(self._tmp, entry.pw_uid, entry.pw_gid)
        try:
            self._run(["initdb", "-D", str(self.data), "-U", USER, "-A", "trust", "-E", "UTF8", "--no-sync"])
            self.start()
        except BaseException:
            shutil.rmtree(self._tmp, ignore_errors=True)
            raise

    def start(self) -> None:
        """Start (or restart) the server and wait until it accepts connections."""
        options = (
            f"-p {self.port} -k {self._tmp} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._run(["pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self._tmp / "log"), "-w", "start"])

    def url(self, dbname: str = "postgres") -> str:
        """The URL of database ``dbname`` on this server (no password: trust authentication)."""
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{dbname}"

    def create_database(self, name: str) -> str:
        """Create an empty database; returns its URL."""
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def reset_database(self, name: str) -> str:
        """Drop every table of database ``name`` (created if missing): an empty store. Returns its URL."""
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists is None:
            return self.create_database(name)
        with psycopg.connect(self.url(name), autocommit=True) as conn:
            conn.execute("DROP SCHEMA public CASCADE")
            conn.execute("CREATE SCHEMA public")
        return self.url(name)

    def shutdown(self) -> None:
        """Stop the server (fast: open connections are cut), keeping its data; `start` brings it back."""
        self._run(["pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop"])

    def stop(self) -> None:
        """Stop the server at once and remove its directory."""
        if self.data.is_dir():
            self._run(["pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop"], check=False)
        shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _run(self, argv: Sequence[str], *, check: bool = True) -> None:
        command = [str(self.bindir / argv[0]), *argv[1:]]
        if self._run_as is not None:
            command = ["runuser", "-u", self._run_as, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, cwd=self._tmp, check=False)
        if check and done.returncode != 0:
            log = self._tmp / "log"
            tail = log.read_text(errors="replace")[-2000:] if log.is_file() else ""
            raise RuntimeError(f"{argv[0]} failed ({done.returncode}): {done.stderr.strip()[-2000:]}\n{tail}")


def _major(name: str) -> int:
    return int(name) if name.isdigit() else -1


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
