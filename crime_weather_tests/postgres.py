"""A throwaway PostgreSQL server for the topology tests: initdb in a temp folder, a free loopback port.

PostgreSQL refuses to run as root: as root, the cluster belongs to an unprivileged user (`postgres`,
which Debian's package creates, else `nobody`) and every server binary runs as that user. The
superuser `postgres` connects without a password over the Unix socket in the cluster's folder only;
every TCP connection needs a password (scram-sha-256), as in the compose container.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from crime_weather.runtime.run_launcher import EXITED_STATES, stat_fields
from crime_weather_tests.system_deps import which
from harness.processes import free_port, log_tail

SUPERUSER = "postgres"


class PostgresNotFound(RuntimeError):
    pass


def binaries() -> dict[str, str]:
    """initdb, pg_ctl and psql, or PostgresNotFound naming what is missing."""
    found = {name: which(name) for name in ("initdb", "pg_ctl", "psql")}
    absent = sorted(name for name, path in found.items() if path is None)
    if absent:
        raise PostgresNotFound(
            f"PostgreSQL binaries {absent} not found on PATH nor in /usr/lib/postgresql/*/bin "
            "(Debian package `postgresql`; `python -m crime_weather_tests.system_deps` installs it)"
        )
    return {name: path for name, path in found.items() if path}


def _service_user() -> pwd.struct_passwd | None:
    """Who runs the server: None for ourselves, an unprivileged account when we are root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise PostgresNotFound("running as root and neither user `postgres` nor `nobody` exists")


class Postgres:
    """`start()` runs initdb and pg_ctl start; `stop()` stops the server and deletes the folder."""

    def __init__(self, port: int | None = None) -> None:
        self.bins = binaries()
        self.user = _service_user()
        self.port = port or free_port()
        # Not under pytest's tmp_path: that is private to root (0700), and the server's user must
        # reach its folder. A short path also keeps the socket under the 107-byte limit.
        self.folder = Path(tempfile.mkdtemp(prefix="crime-weather-pg-"))
        self.data = self.folder / "data"
        self.socket_dir = self.folder
        self.log = self.folder / "postgres.log"
        if self.user is not None:
            os.chown(self.folder, self.user.pw_uid, self.user.pw_gid)
        self.started = False

    # --- running the binaries as the cluster's owner ---------------------------------------------
    def _run(self, *command: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
        kwargs: dict = {}
        env = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8", "TZ": "UTC"}
        if self.user is not None:
            kwargs = {"user": self.user.pw_uid, "group": self.user.pw_gid, "extra_groups": []}
            env["HOME"] = str(self.folder)
        return subprocess.run(
            list(command),
            cwd=self.folder,
            env=env,
            capture_output=True,
            text=True,
            check=check,
            timeout=timeout,
            **kwargs,
        )

    def start(self) -> Postgres:
        try:
            self._run(
                self.bins["initdb"],
                "-D",
                str(self.data),
                "-U",
                SUPERUSER,
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "-E",
                "UTF8",
                "--no-instructions",
            )
            options = f"-p {self.port} -k {self.socket_dir} -c listen_addresses=127.0.0.1 -c fsync=off"
            self._run(
                self.bins["pg_ctl"], "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start"
            )
        except subprocess.CalledProcessError as error:
            raise RuntimeError(
                f"PostgreSQL did not start: {error.cmd}\n{error.stdout}\n{error.stderr}\n{self.tail()}"
            ) from error
        self.started = True
        return self

    # --- clients ------------------------------------------------------------------------------------
    def superuser_env(self) -> dict[str, str]:
        """libpq settings for the superuser over the socket, e.g. for docker/postgres/init-databases.sh."""
        return {
            "PGHOST": str(self.socket_dir),
            "PGPORT": str(self.port),
            "POSTGRES_USER": SUPERUSER,
            "POSTGRES_DB": "postgres",
            "PATH": f"{Path(self.bins['psql']).parent}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        }

    def run_script(self, script: Path, env: dict[str, str]) -> str:
        """Run a shell script as the entrypoint of the postgres image runs its initdb.d scripts."""
        result = subprocess.run(
            ["sh", str(script)],
            env={**os.environ, **self.superuser_env(), **env},
            capture_output=True,
            text=True,
            timeout=60,
        )
        if result.returncode != 0:
            raise RuntimeError(f"{script} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def psql(self, sql: str, *, database: str = "postgres") -> str:
        """One query as the superuser over the socket; unaligned rows, `|` between columns."""
        result = subprocess.run(
            [self.bins["psql"], "--no-psqlrc", "-v", "ON_ERROR_STOP=1", "-At", "-d", database, "-c", sql],
            env={**os.environ, **self.superuser_env(), "PGUSER": SUPERUSER},
            capture_output=True,
            text=True,
            timeout=30,
        )
        if result.returncode != 0:
            raise RuntimeError(f"psql {sql!r} failed: {result.stderr}")
        return result.stdout.strip()

    def url(self, user: str, password: str, database: str, scheme: str = "postgresql") -> str:
        from urllib.parse import quote

        return (
            f"{scheme}://{quote(user, safe='')}:{quote(password, safe='')}@127.0.0.1:{self.port}/{database}"
        )

    # --- the end ------------------------------------------------------------------------------------
    def _postmaster_pid(self) -> int | None:
        with contextlib.suppress(OSError, ValueError, IndexError):
            return int((self.data / "postmaster.pid").read_text().splitlines()[0])
        return None

    def stop(self) -> None:
        """Fast shutdown; the postmaster is killed if it does not go; the folder is removed."""
        pid = self._postmaster_pid()  # also after a start that failed half-way
        if pid is not None:
            with contextlib.suppress(subprocess.SubprocessError, OSError):
                self._run(self.bins["pg_ctl"], "-D", str(self.data), "-m", "fast", "-w", "-t", "30", "stop")
            if _alive(pid) and _is_postgres(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                deadline = time.monotonic() + 10
                while _alive(pid) and time.monotonic() < deadline:
                    time.sleep(0.1)
            self.started = False
        shutil.rmtree(self.folder, ignore_errors=True)

    def tail(self, lines: int = 40) -> str:
        return log_tail(self.log, lines)


def _is_postgres(pid: int) -> bool:
    """The pid is still a postgres process (not a stale pid file's number, reused by another)."""
    try:
        return b"postgres" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    fields = stat_fields(pid)  # a zombie (not reaped by its parent yet) counts as gone
    return fields is None or fields[0] not in EXITED_STATES
