"""Vault fixtures: a KEK provider in a temp dir, and databases — SQLite always, PostgreSQL when a server can be
started from the Debian ``postgresql`` package (``/usr/lib/postgresql/*/bin``).

The PostgreSQL server is one per session (``initdb`` + ``pg_ctl`` on a loopback port, run as the ``postgres`` user
when we are root); each test gets its own database. Without the binaries the PostgreSQL cases FAIL under ``CI=true``
(a silent skip would hide that CI no longer tests PostgreSQL) and skip elsewhere.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from hub.vault import make_engine
from hub.vault.kek import FileKEKProvider
from hub.vault.store import Vault

FP_KEY = bytes(range(32))


def _pg_bin() -> Path | None:
    """The newest ``/usr/lib/postgresql/<major>/bin``; ``$MCPGUARD_PG_BINDIR`` overrides (other layouts, or a
    nonexistent path to check the missing-binaries behaviour)."""
    override = os.environ.get("MCPGUARD_PG_BINDIR")
    if override is not None:
        return Path(override) if (Path(override) / "initdb").exists() else None
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """Base URL ``postgresql+psycopg://postgres@127.0.0.1:PORT`` of a throwaway server."""
    bindir = _pg_bin()
    if bindir is None:
        msg = "PostgreSQL binaries not found under /usr/lib/postgresql/*/bin (apt-get install -y postgresql)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(msg)
        pytest.skip(msg)
    as_root = os.geteuid() == 0
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
    base = Path(tempfile.mkdtemp(prefix="mcpguard-pg-"))
    data = base / "data"
    if as_root:
        shutil.chown(base, "postgres", "postgres")
    port = _free_port()
    env = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}

    def run(*argv: str) -> None:
        proc = subprocess.run([*prefix, *argv], capture_output=True, text=True, env=env, timeout=120)
        if proc.returncode != 0:
            pytest.fail(f"{argv[0]} failed ({proc.returncode}): {proc.stderr[-2000:]}")

    run(str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")
    opts = f"-p {port} -c listen_addresses=127.0.0.1 -k {base} -c fsync=off -c full_page_writes=off"
    run(str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(base / "log"), "-w", "-t", "60", "start")
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                       capture_output=True, timeout=60)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_database(pg_server: str) -> str:
    """One migrated database for the session; tests start from emptied tables (much faster than a database each)."""
    from hub.vault.migrate import upgrade

    admin = create_engine(f"{pg_server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text('CREATE DATABASE "vault_tests" TEMPLATE template0'))
    admin.dispose()
    url = f"{pg_server}/vault_tests"
    eng = create_engine(url)
    upgrade(eng)
    eng.dispose()
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty, migrated-or-not database URL per test, on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'vault.sqlite3'}"
        return
    url = request.getfixturevalue("pg_database")
    eng = create_engine(url)
    with eng.begin() as conn:
        conn.execute(text("TRUNCATE vault_credentials, vault_kek_versions, hub_users, hub_grants"))
    eng.dispose()
    yield url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def kek(tmp_path: Path) -> FileKEKProvider:
    return FileKEKProvider(tmp_path / "keys")


@pytest.fixture
def vault(engine: Engine, kek: FileKEKProvider) -> Vault:
    return Vault.open(engine, kek, FP_KEY)
