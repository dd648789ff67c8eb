"""The vault: per-user credentials, envelope-encrypted, behind SQLAlchemy 2.x (SQLite or PostgreSQL).

Values go in (:meth:`Vault.put`) and come out only through :meth:`Vault.reveal`, which the hub calls at the last hop
(:class:`hub.vault.source.VaultCredentialSource`). Every other read returns :class:`CredentialMeta` (times and a
fingerprint), never the value. Any decrypt or integrity problem raises :class:`mcpguard.errors.CryptoError` (or
:class:`KeyUnavailable`); nothing falls back to plaintext.

The methods are synchronous (SQLAlchemy Core/ORM sessions); async callers run them in a worker thread.

Encryption counting: every AES-GCM wrap under a KEK version is counted in ``vault_kek_versions.encryptions`` *before*
the wrap (a rolled-back write still counts: the nonce was drawn). Past ``rotate_after_encryptions`` the status says
rotation is due; at ``max_encryptions_per_kek`` (2^32, NIST SP 800-38D §8.3 for random 96-bit IVs) new writes under
that version are refused until ``mcpguard hub vault rotate-kek`` runs. Data keys are fresh per write, so each data key
encrypts exactly one value.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, delete, func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.attributes import flag_modified

from mcpguard.errors import CryptoError, KeyUnavailable, MCPGuardError

from hub.vault import envelope
from hub.vault.kek import KeyEncryptionKeyProvider
from hub.vault.models import CredentialRow, KekVersionRow
from hub.vault.settings import NIST_RANDOM_IV_LIMIT

log = logging.getLogger("hub.vault")

#: ``last_used_at`` is refreshed at most this often per record, so hot paths do not write on every call.
LAST_USED_GRANULARITY = timedelta(seconds=60)
#: Largest accepted credential value, bytes of UTF-8.
MAX_VALUE_BYTES = 16 * 1024


class KekInUse(MCPGuardError):
    """A KEK version cannot be retired: it is current, or rows are still wrapped under it."""

    reason = "kek_in_use"
    status = 409
    exit_code = 1


@dataclass(frozen=True, slots=True)
class CredentialMeta:
    """What any read of a credential returns: never the value. Times are aware UTC datetimes."""

    connector: str
    name: str
    fingerprint: str
    created_at: datetime
    updated_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    kek_version: int

    def expired(self, now: datetime) -> bool:
        """True if the credential has an expiry at or before ``now`` (aware datetime)."""
        return self.expires_at is not None and self.expires_at <= now


@dataclass(frozen=True, slots=True)
class KekStatus:
    """One KEK version for ``status``: provider, state, encryptions done, records using it, availability."""
    version: int
    provider: str
    state: str
    encryptions: int
    records: int
    available: bool


@dataclass(frozen=True, slots=True)
class VaultStatus:
    """``current``: the KEK version new writes use; ``rotation_due``: the current version passed
    ``rotate_after_encryptions``."""

    current: int
    rotation_due: bool
    keks: list[KekStatus] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class RotationReport:
    """Result of :meth:`Vault.rotate_kek`: ``rewrapped`` rows moved to ``version``; ``remaining`` rows per older
    version that are still wrapped under it (0 everywhere means older versions can be retired)."""

    version: int
    rewrapped: int
    remaining: dict[int, int]


def _now() -> datetime:
    return datetime.now(UTC)


class _StaleVersion(Exception):
    """Raised inside a write transaction to roll it back when the current KEK version changed under it."""


class Vault:
    """Encrypted per-user credentials. Build with :meth:`open` (runs migrations and checks the KEKs).

    ``fingerprint_key``: 32 bytes for the listing fingerprints (separate from every KEK so rotation keeps them).
    ``clock``: returns an aware UTC datetime (tests inject one)."""

    def __init__(
        self,
        engine: Engine,
        kek: KeyEncryptionKeyProvider,
        fingerprint_key: bytes,
        *,
        rotate_after_encryptions: int = 2**30,
        max_encryptions_per_kek: int = NIST_RANDOM_IV_LIMIT,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        if len(fingerprint_key) != 32:
            raise KeyUnavailable("the vault fingerprint key must be 32 bytes")
        self.engine = engine
        self.kek = kek
        self._fp_key = fingerprint_key
        self.rotate_after = rotate_after_encryptions
        self.max_encryptions = max_encryptions_per_kek
        self.clock = clock
        self.sessions = sessionmaker(engine, expire_on_commit=False)

    # -- start-up ---------------------------------------------------------------------------------------------------

    @classmethod
    def open(cls, engine: Engine, kek: KeyEncryptionKeyProvider, fingerprint_key: bytes, **kw: object) -> Vault:
        """Migrate the schema to head, reconcile KEK versions with the provider, and return the vault. Raises
        :class:`KeyUnavailable` when a KEK the data needs is missing or is not the key recorded earlier."""
        from hub.vault.migrate import upgrade

        upgrade(engine)
        vault = cls(engine, kek, fingerprint_key, **kw)  # type: ignore[arg-type]
        vault.sync_keks()
        status = vault.status()
        if status.rotation_due:
            log.warning("vault KEK version %d is past its rotation threshold; run `mcpguard hub vault rotate-kek`",
                        status.current)
        return vault

    def sync_keks(self) -> None:
        """Record provider versions the vault has not seen; verify known ones against their check values; create
        version 1 on an empty vault whose provider has none."""
        available = self.kek.versions()
        with self.sessions.begin() as s:
            known = {r.version: r for r in s.scalars(select(KekVersionRow))}
            used = set(s.scalars(select(CredentialRow.kek_version).distinct()))
            if not available:
                if known or used:
                    raise KeyUnavailable(
                        f"the {self.kek.name} KEK provider holds no key, but the vault uses KEK versions "
                        f"{sorted(set(known) | used)}"
                    )
                available = [self.kek.create_version()]
            for version in available:
                row = known.get(version)
                check = self.kek.check_value(version)
                if row is None:
                    s.add(KekVersionRow(version=version, provider=self.kek.name, state="active", check_value=check,
                                        encryptions=0, created_at=self.clock()))
                elif row.check_value != check:
                    raise KeyUnavailable(
                        f"KEK version {version} from the {self.kek.name} provider is not the key this vault recorded"
                    )
            missing = sorted(used - set(available))
            if missing:
                raise KeyUnavailable(f"KEK versions {missing} are used by vault records but not available")

    def check(self) -> None:
        """Readiness: the database answers and the current KEK is loadable and matches. Raises on failure."""
        with self.sessions() as s:
            s.execute(text("SELECT 1"))
            version = self._current_version(s)
            row = s.get(KekVersionRow, version)
        if row is None or self.kek.check_value(version) != row.check_value:
            raise KeyUnavailable(f"KEK version {version} does not match the vault's record")

    # -- KEK bookkeeping ---------------------------------------------------------------------------------------------

    def _current_version(self, s: Session) -> int:
        # Read from the database every time: a rotation run by another process (the CLI) takes effect for new
        # writes here without a restart.
        active = list(s.scalars(select(KekVersionRow.version).where(KekVersionRow.state == "active")))
        usable = sorted(set(active) & set(self.kek.versions()))
        if not usable:
            raise KeyUnavailable("no active KEK version is available")
        return usable[-1]

    def _reserve(self, version: int, count: int = 1) -> None:
        """Count ``count`` encryptions under ``version`` in its own committed transaction, refusing past the limit."""
        with self.sessions.begin() as s:
            done = s.execute(
                update(KekVersionRow)
                .where(KekVersionRow.version == version, KekVersionRow.state == "active",
                       KekVersionRow.encryptions + count <= self.max_encryptions)
                .values(encryptions=KekVersionRow.encryptions + count)
            )
            if done.rowcount != 1:
                raise CryptoError(
                    f"KEK version {version} reached its encryption limit or is not active; "
                    "run `mcpguard hub vault rotate-kek`",
                    reason="kek_exhausted",
                )

    # -- credentials ------------------------------------------------------------------------------------------------

    @staticmethod
    def _ctx(row: CredentialRow) -> envelope.RecordContext:
        return envelope.RecordContext(row.tenant, row.user_id, row.connector, row.name, row.id)

    @staticmethod
    def _meta(row: CredentialRow) -> CredentialMeta:
        return CredentialMeta(row.connector, row.name, row.fingerprint, row.created_at, row.updated_at,
                              row.expires_at, row.last_used_at, row.kek_version)

    def put(
        self, *, tenant: str, user_id: str, connector: str, name: str, value: str, expires_at: datetime | None = None
    ) -> tuple[CredentialMeta, bool]:
        """Store (create or replace) a credential under a fresh data key. Returns ``(metadata, created)``.
        Raises :class:`ValueError` for an empty or oversized value (message value-free), :class:`CryptoError` when
        the KEK limit is reached."""
        raw = value.encode("utf-8")
        if not raw or len(raw) > MAX_VALUE_BYTES:
            raise ValueError(f"credential value must be 1..{MAX_VALUE_BYTES} bytes")
        conflicts = 0
        for _attempt in range(4):
            with self.sessions() as s:
                version = self._current_version(s)
            self._reserve(version)
            now = self.clock()
            try:
                with self.sessions.begin() as s:
                    row = s.scalars(
                        select(CredentialRow).where(
                            CredentialRow.tenant == tenant, CredentialRow.user_id == user_id,
                            CredentialRow.connector == connector, CredentialRow.name == name,
                        ).with_for_update()
                    ).one_or_none()
                    created = row is None
                    if row is None:
                        row = CredentialRow(id=str(uuid.uuid4()), tenant=tenant, user_id=user_id,
                                            connector=connector, name=name, created_at=now)
                        s.add(row)
                    ctx = self._ctx(row)
                    row.wrapped_dek, row.ciphertext = envelope.encrypt(self.kek, version, ctx, raw)
                    row.kek_version = version
                    # Always written with the data key it belongs to, even when unchanged from what was read: SQLite
                    # ignores FOR UPDATE, so a KEK rotation can re-wrap this row between our SELECT and UPDATE, and an
                    # UPDATE of only the changed columns would pair our new data key with its newer KEK version.
                    flag_modified(row, "kek_version")
                    row.fingerprint = envelope.fingerprint(self._fp_key, ctx, raw)
                    row.updated_at = now
                    row.expires_at = expires_at
                    if not created:
                        row.last_used_at = None
                    s.flush()
                    # Our write holds the database's write lock now: if a KEK rotation made a newer version current
                    # since we read it, start over under that one, so no row is written under a version a rotation
                    # already swept (it would keep the old KEK in use after the rotation reported none left).
                    if self._current_version(s) != version:
                        raise _StaleVersion
                    return self._meta(row), created
            except IntegrityError:
                # A concurrent first write for the same owner won the insert; retry once as a replace.
                conflicts += 1
                if conflicts > 1:
                    raise
            except _StaleVersion:
                pass
        raise CryptoError("the vault's KEK version kept changing while writing; try again")

    def list(self, *, tenant: str, user_id: str) -> list[CredentialMeta]:
        """Metadata of every credential of ``user_id`` in ``tenant``, ordered by connector then name."""
        with self.sessions() as s:
            rows = s.scalars(
                select(CredentialRow)
                .where(CredentialRow.tenant == tenant, CredentialRow.user_id == user_id)
                .order_by(CredentialRow.connector, CredentialRow.name)
            )
            return [self._meta(r) for r in rows]

    def get_meta(self, *, tenant: str, user_id: str, connector: str, name: str) -> CredentialMeta | None:
        """Metadata of one credential (never its value), or None if absent."""
        with self.sessions() as s:
            row = self._find(s, tenant, user_id, connector, name)
            return None if row is None else self._meta(row)

    @staticmethod
    def _find(s: Session, tenant: str, user_id: str, connector: str, name: str) -> CredentialRow | None:
        return s.scalars(
            select(CredentialRow).where(
                CredentialRow.tenant == tenant, CredentialRow.user_id == user_id,
                CredentialRow.connector == connector, CredentialRow.name == name,
            )
        ).one_or_none()

    def delete(self, *, tenant: str, user_id: str, connector: str, name: str) -> bool:
        """Delete one credential; True when it existed."""
        with self.sessions.begin() as s:
            done = s.execute(
                delete(CredentialRow).where(
                    CredentialRow.tenant == tenant, CredentialRow.user_id == user_id,
                    CredentialRow.connector == connector, CredentialRow.name == name,
                )
            )
            return done.rowcount > 0

    def delete_user(self, user_id: str, *, tenant: str | None = None) -> int:
        """Delete every credential of ``user_id`` (in ``tenant`` when given); returns how many. Idempotent."""
        with self.sessions.begin() as s:
            q = delete(CredentialRow).where(CredentialRow.user_id == user_id)
            if tenant is not None:
                q = q.where(CredentialRow.tenant == tenant)
            return s.execute(q).rowcount

    def reveal(self, *, tenant: str, user_id: str, connector: str, name: str) -> str | None:
        """The plaintext value for the last hop, or None when absent or expired. Updates ``last_used_at`` (at most
        once per :data:`LAST_USED_GRANULARITY`). Raises :class:`CryptoError` on any tamper; never a partial value.
        Callers must not log, return or store the result anywhere but the upstream injection point."""
        now = self.clock()
        with self.sessions() as s:
            row = self._find(s, tenant, user_id, connector, name)
            if row is None or (row.expires_at is not None and row.expires_at <= now):
                return None
            raw = envelope.decrypt(self.kek, row.kek_version, self._ctx(row), row.wrapped_dek, row.ciphertext)
            touch = row.last_used_at is None or now - row.last_used_at >= LAST_USED_GRANULARITY
            record_id = row.id
        try:
            value = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise CryptoError("vault record decrypted to invalid UTF-8") from None
        if touch:
            with self.sessions.begin() as s:
                s.execute(update(CredentialRow).where(CredentialRow.id == record_id).values(last_used_at=now))
        return value

    # -- rotation ---------------------------------------------------------------------------------------------------

    def rotate_kek(self, *, new_version: bool = True, batch: int = 100) -> RotationReport:
        """Re-wrap every data key under a new KEK version (``new_version``; the provider creates it) or under the
        current one (finishing an interrupted rotation). Online: each batch is its own transaction, and a row
        changed concurrently (re-written or deleted) is left alone, since its writer used the current version."""
        if new_version:
            version = self.kek.create_version()
            self.sync_keks()
        else:
            with self.sessions() as s:
                version = self._current_version(s)
        rewrapped = 0
        # Keyset passes over the ids; a second pass picks up rows a slow concurrent writer put under an older
        # version while the first pass ran.
        for _pass in range(3):
            after = ""
            while True:
                with self.sessions() as s:
                    rows = list(s.execute(
                        select(CredentialRow.id, CredentialRow.tenant, CredentialRow.user_id, CredentialRow.connector,
                               CredentialRow.name, CredentialRow.kek_version, CredentialRow.wrapped_dek)
                        .where(CredentialRow.kek_version != version, CredentialRow.id > after)
                        .order_by(CredentialRow.id).limit(batch)
                    ))
                if not rows:
                    break
                after = rows[-1][0]
                self._reserve(version, len(rows))
                with self.sessions.begin() as s:
                    for rid, tenant, user_id, connector, name, old, wrapped in rows:
                        ctx = envelope.RecordContext(tenant, user_id, connector, name, rid)
                        new_wrapped = envelope.rewrap(self.kek, ctx, wrapped, old, version)
                        done = s.execute(
                            update(CredentialRow)
                            .where(CredentialRow.id == rid, CredentialRow.kek_version == old,
                                   CredentialRow.wrapped_dek == wrapped)
                            .values(kek_version=version, wrapped_dek=new_wrapped)
                        )
                        rewrapped += done.rowcount
            if not self._records_per_version(exclude=version):
                break
        remaining = self._records_per_version(exclude=version)
        log.info("vault KEK rotation to version %d: %d data keys re-wrapped, remaining %s", version, rewrapped,
                 remaining)
        return RotationReport(version=version, rewrapped=rewrapped, remaining=remaining)

    def _records_per_version(self, *, exclude: int | None = None) -> dict[int, int]:
        with self.sessions() as s:
            counts = dict(s.execute(
                select(CredentialRow.kek_version, func.count()).group_by(CredentialRow.kek_version)
            ).all())
        return {v: n for v, n in counts.items() if v != exclude}

    def retire_kek(self, version: int) -> None:
        """Retire an old KEK version: refused (:class:`KekInUse`) while it is current or any row uses it; then the
        provider destroys or forgets the key and the version is marked ``retired`` (never used again)."""
        with self.sessions.begin() as s:
            if version == self._current_version(s):
                raise KekInUse(f"KEK version {version} is current; rotate first")
            row = s.get(KekVersionRow, version, with_for_update=True)
            if row is None or row.state == "retired":
                raise KekInUse(f"KEK version {version} is not an active version of this vault", reason="kek_unknown")
            used = s.scalar(select(func.count()).select_from(CredentialRow).where(CredentialRow.kek_version == version))
            if used:
                raise KekInUse(f"{used} vault records still use KEK version {version}; run rotate-kek first")
            row.state = "retired"
            row.retired_at = self.clock()
        self.kek.retire(version)
        log.info("vault KEK version %d retired", version)

    def status(self) -> VaultStatus:
        """KEK versions with their state, encryption counts and record counts."""
        available = set(self.kek.versions())
        records = self._records_per_version()
        with self.sessions() as s:
            current = self._current_version(s)
            rows = list(s.scalars(select(KekVersionRow).order_by(KekVersionRow.version)))
        keks = [KekStatus(r.version, r.provider, r.state, r.encryptions, records.get(r.version, 0),
                          r.version in available) for r in rows]
        due = any(k.version == current and k.encryptions >= self.rotate_after for k in keks)
        return VaultStatus(current=current, rotation_due=due, keks=keks)


__all__ = ["CredentialMeta", "KekInUse", "KekStatus", "RotationReport", "Vault", "VaultStatus"]
