"""The facade's Alembic migrations: a fresh database migrates to a schema identical to the models, a second run is a
no-op, databases made by the old ``create_all`` are adopted, and the facade's history coexists with the vault's in
one database (own version tables). SQLite always; PostgreSQL through the vault's throwaway-server fixture."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, MetaData, create_engine, inspect, text

from hub.auth.facade import migrate
from hub.auth.facade.store import Base, ClientRow, FacadeStore
from hub.vault import make_engine
from hub.vault import migrate as vault_migrate
from hub.vault.models import Base as VaultBase
from tests.hub.vault.conftest import pg_server  # noqa: F401  (session fixture: a throwaway PostgreSQL server)

FACADE_TABLES = {
    "facade_clients", "facade_pending", "facade_codes", "facade_families", "facade_refresh", "facade_keys",
    "facade_offboarded",
}
_db_numbers = itertools.count()


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database per test: a SQLite file, or a fresh database on the session's PostgreSQL server."""
    if request.param == "sqlite":
        eng = make_engine(f"sqlite:///{tmp_path / 'hub.sqlite3'}")
    else:
        server = request.getfixturevalue("pg_server")
        name = f"facade_mig_{next(_db_numbers)}"
        admin = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE template0'))
        admin.dispose()
        eng = make_engine(f"{server}/{name}")
    yield eng
    eng.dispose()


def _diffs(engine: Engine, metadata: MetaData, prefixes: tuple[str, ...]) -> list:
    """Autogenerate's differences between the database and ``metadata``, over tables named with ``prefixes``."""

    def include_name(name, type_, parent_names) -> bool:  # type: ignore[no-untyped-def]
        return type_ != "table" or (name.startswith(prefixes) and not name.endswith("alembic_version"))

    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "include_name": include_name})
        return compare_metadata(ctx, metadata)


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def test_fresh_database_migrates_to_head_matching_the_models(engine: Engine) -> None:
    assert migrate.current_revision(engine) is None
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision() != ""
    assert _tables(engine) == FACADE_TABLES | {migrate.VERSION_TABLE}
    assert _diffs(engine, Base.metadata, ("facade_",)) == []
    # indexes named by the models' naming convention, exactly
    want = {ix.name for t in Base.metadata.tables.values() for ix in t.indexes}
    have = {ix["name"] for t in FACADE_TABLES for ix in inspect(engine).get_indexes(t)}
    assert have == want


def test_migrating_twice_is_a_noop(engine: Engine) -> None:
    store = FacadeStore(engine)
    store.put_client(ClientRow(client_id="c1", kind="registered", redirect_uris="[]", created_at=1.0))
    migrate.upgrade(engine)
    FacadeStore(engine)  # what every start does
    assert migrate.current_revision(engine) == migrate.head_revision()
    with engine.connect() as conn:
        assert conn.execute(text(f"SELECT count(*) FROM {migrate.VERSION_TABLE}")).scalar() == 1
    assert store.get_client("c1") is not None
    assert _diffs(engine, Base.metadata, ("facade_",)) == []


def test_database_from_create_all_is_adopted(engine: Engine) -> None:
    """Hubs that ran before the facade had migrations: tables exist, no version table; data survives."""
    Base.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO facade_offboarded (user_id, at) VALUES ('u1', 5.0)"))
    FacadeStore(engine)
    assert migrate.current_revision(engine) == migrate.head_revision()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT at FROM facade_offboarded WHERE user_id = 'u1'")).scalar() == 5.0
    assert _diffs(engine, Base.metadata, ("facade_",)) == []


def test_downgrade_to_base_drops_only_facade_tables(engine: Engine) -> None:
    migrate.upgrade(engine)
    migrate.downgrade(engine, "base")
    assert _tables(engine) <= {migrate.VERSION_TABLE}
    migrate.upgrade(engine)
    assert _diffs(engine, Base.metadata, ("facade_",)) == []


@pytest.mark.parametrize("vault_first", [True, False])
def test_vault_and_facade_histories_coexist(engine: Engine, vault_first: bool) -> None:
    steps = [vault_migrate.upgrade, migrate.upgrade]
    for step in steps if vault_first else reversed(steps):
        step(engine)
    assert migrate.VERSION_TABLE != vault_migrate.VERSION_TABLE
    assert migrate.current_revision(engine) == migrate.head_revision()
    assert vault_migrate.current_revision(engine) == vault_migrate.head_revision()
    vault_tables = set(VaultBase.metadata.tables)
    assert _tables(engine) == FACADE_TABLES | vault_tables | {migrate.VERSION_TABLE, vault_migrate.VERSION_TABLE}
    assert _diffs(engine, Base.metadata, ("facade_",)) == []
    assert _diffs(engine, VaultBase.metadata, ("vault_", "hub_")) == []
    # each env.py's autogenerate sees only its own tables: neither proposes dropping the other's
    for history in (migrate, vault_migrate):
        with engine.connect() as conn:
            command.check(history.HISTORY.alembic_config(conn))
    # each history only touches its own tables
    migrate.upgrade(engine)
    vault_migrate.upgrade(engine)
    migrate.downgrade(engine, "base")
    assert vault_tables <= _tables(engine)
    assert not FACADE_TABLES & _tables(engine)
    assert vault_migrate.current_revision(engine) == vault_migrate.head_revision()
    migrate.upgrade(engine)
    vault_migrate.downgrade(engine, "base")
    assert FACADE_TABLES <= _tables(engine)
    assert not vault_tables & _tables(engine)
    assert migrate.current_revision(engine) == migrate.head_revision()


def test_migration_scripts_ship_with_the_package() -> None:
    """The scripts are package data (``*.py`` as modules, ``script.py.mako`` by ``[tool.setuptools.package-data]``)."""
    assert (migrate.SCRIPT_DIR / "env.py").is_file()
    assert (migrate.SCRIPT_DIR / "script.py.mako").is_file()
    assert (migrate.SCRIPT_DIR / "versions" / "0001_initial.py").is_file()
