"""The facade's signing key ring and its JWKS (RFC 7517; RFC 7638 thumbprints as ``kid``).

One active key signs; older keys stay published until every token they signed has expired (``retired_at`` +
access-token lifetime), then drop out. Keys are ES256 (P-256) by default, RS256 if configured. Private keys are
stored sealed (AES-256-GCM, associated data ``facade-key:{kid}``) in ``facade_keys``; the sealing key comes from the
hub's key provider. :meth:`KeyRing.rotate` makes a new active key (``mcpguard hub facade rotate-keys`` or
automatically every ``key_rotation_days`` at start-up). Replicas sharing the database re-read the ring when they
meet an unknown ``kid`` (at most every 30 s) and every 5 minutes when signing, so a rotation by one reaches all.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from hub.auth.facade.store import FacadeStore, KeyRow
from mcpguard.crypto import open_sealed, seal


def _thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638 §3: SHA-256 over the required members in lexicographic order, base64url."""
    members = ("crv", "kty", "x", "y") if jwk["kty"] == "EC" else ("e", "kty", "n")
    canon = json.dumps({k: jwk[k] for k in members}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.sha256(canon.encode()).digest()).rstrip(b"=").decode()


class KeyRing:
    """``sign(claims)`` with the active key; ``public_key(kid)`` for verification; ``jwks()`` for publication."""

    def __init__(self, store: FacadeStore, seal_key: bytes, *, alg: str = "ES256", rotation_seconds: float = 30 * 86400,
                 publish_retired_for: float = 3600.0, clock: Any = time.time) -> None:
        self.store = store
        self.seal_key = seal_key
        self.alg = alg
        self.rotation_seconds = rotation_seconds
        self.publish_retired_for = publish_retired_for
        self.clock = clock
        self._private: dict[str, Any] = {}
        self._public: dict[str, Any] = {}
        self._jwks: list[dict[str, Any]] = []
        self.active_kid = ""
        self._loaded_at = 0.0
        self.load()

    def load(self) -> None:
        """(Re)load keys from storage; create the first key when there is none or the active one is due."""
        rows = self.store.keys()
        active = [r for r in rows if r.retired_at is None and r.alg == self.alg]
        if not active or self.clock() - active[-1].created_at > self.rotation_seconds:
            self.rotate()
            return
        self._index(rows)

    def reload(self, *, min_interval: float = 30.0) -> bool:
        """Re-read the ring from storage (no rotation) so keys rotated by another replica are known here, at most
        once per ``min_interval`` seconds; True when it re-read."""
        now = self.clock()
        if now - self._loaded_at < min_interval:
            return False
        self._index(self.store.keys())
        return True

    def _index(self, rows: list[KeyRow]) -> None:
        now = self.clock()
        self._loaded_at = now
        self._private.clear()
        self._public.clear()
        self._jwks = []
        for r in rows:
            if r.retired_at is not None and now - r.retired_at > self.publish_retired_for:
                continue
            jwk = json.loads(r.public_jwk)
            self._public[r.kid] = (ECAlgorithm if r.alg == "ES256" else RSAAlgorithm).from_jwk(jwk)
            self._jwks.append(jwk)
            if r.retired_at is None and r.alg == self.alg:
                pem = open_sealed(self.seal_key, r.private_sealed, f"facade-key:{r.kid}".encode())
                self._private[r.kid] = serialization.load_pem_private_key(pem, password=None)
                self.active_kid = r.kid

    def rotate(self) -> str:
        """Create a new active key, retire the previous ones (still published for ``publish_retired_for``)."""
        if self.alg == "ES256":
            key: Any = ec.generate_private_key(ec.SECP256R1())
            jwk = json.loads(ECAlgorithm.to_jwk(key.public_key()))
        else:
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
        kid = _thumbprint(jwk)
        jwk.update(kid=kid, use="sig", alg=self.alg)
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        now = self.clock()
        for r in self.store.keys():
            if r.retired_at is None:
                self.store.retire_key(r.kid, now)
        self.store.put_key(KeyRow(kid=kid, alg=self.alg, private_sealed=seal(self.seal_key, pem,
                                  f"facade-key:{kid}".encode()), public_jwk=json.dumps(jwk), created_at=now))
        self._index(self.store.keys())
        return kid

    def sign(self, claims: dict[str, Any]) -> str:
        """Signed JWT access token (RFC 9068 ``typ: at+jwt``) of ``claims`` with the active key; ``kid`` in the
        header."""
        # Adopt a key another replica rotated in (every few minutes), so replicas converge on one active key.
        self.reload(min_interval=300.0)
        return jwt.encode(claims, self._private[self.active_kid], algorithm=self.alg,
                          headers={"kid": self.active_kid, "typ": "at+jwt"})

    def public_key(self, kid: str) -> Any | None:
        """Verification key for ``kid``, or None if not published."""
        return self._public.get(kid)

    def jwks(self) -> dict[str, Any]:
        """The JWK Set document (RFC 7517 §5): ``{"keys": [...]}`` of active and recently retired public keys."""
        return {"keys": list(self._jwks)}
