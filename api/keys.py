"""API keys: who may use the service, stored hashed in the job store's ``keys`` table.

A key reads ``eck_<id>_<secret>``: a public id of 12 hex digits, which names the key in the
store, in the logs and as the owner of its jobs and uploads, and a random secret of 256 bits.
The store keeps only ``sha256(<id>:<secret>)``. A secret that random cannot be guessed, so a
slow password hash would add nothing; the comparison is constant-time. The secret is shown once,
when the key is created (`eldercare keys create`), and cannot be recovered afterwards.

Every function takes an open job-store connection and keyword-only arguments.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import sqlite3
from dataclasses import dataclass

from api.settings import Settings

PREFIX = "eck"
LOCAL = "local"
_TOKEN = re.compile(rf"^{PREFIX}_([0-9a-f]{{12}})_([A-Za-z0-9_-]{{43}})$")
_NO_SUCH_HASH = "sha256:" + "0" * 64   # compared against when the id is unknown: the same work either way


@dataclass(frozen=True)
class KeyRecord:
    """One stored key (its hash stays in the store)."""

    id: str
    name: str
    created: float
    revoked: float | None
    max_queued: int | None
    max_bytes: int | None


@dataclass(frozen=True)
class Caller:
    """Who a request acts for: a key's id and name, with the quotas that apply to it."""

    id: str
    name: str
    max_queued: int
    max_bytes: int


def _digest(key_id: str, secret: str) -> str:
    return "sha256:" + hashlib.sha256(f"{key_id}:{secret}".encode()).hexdigest()


def _key(row: sqlite3.Row) -> KeyRecord:
    quotas = json.loads(row["quotas"] or "{}")
    return KeyRecord(id=row["id"], name=row["name"], created=row["created"], revoked=row["revoked"],
                     max_queued=quotas.get("max_queued"), max_bytes=quotas.get("max_bytes"))


def create_key(conn: sqlite3.Connection, *, name: str, now: float, max_queued: int | None = None,
               max_bytes: int | None = None) -> tuple[KeyRecord, str]:
    """Store a new key named `name`; returns it and the whole key (``eck_<id>_<secret>``), shown only now.

    `max_queued` and `max_bytes` replace the server's per-key quotas for this key (None: the server's).
    """
    if not name.strip() or len(name) > 100:
        raise ValueError("`name` must be 1 to 100 characters, e.g. the department or program using the key")
    key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    quotas = {"max_queued": max_queued, "max_bytes": max_bytes}
    conn.execute("INSERT INTO keys (id, name, hash, created, quotas) VALUES (?, ?, ?, ?, ?)",
                 (key_id, name.strip(), _digest(key_id, secret), now, json.dumps(quotas)))
    record = KeyRecord(key_id, name.strip(), now, None, max_queued, max_bytes)
    return record, f"{PREFIX}_{key_id}_{secret}"


def list_keys(conn: sqlite3.Connection) -> list[KeyRecord]:
    """Every key, oldest first, revoked ones included."""
    return [_key(row) for row in conn.execute("SELECT * FROM keys ORDER BY created, id")]


def revoke_key(conn: sqlite3.Connection, *, key_id: str, now: float) -> KeyRecord | None:
    """Revoke a key from now on (its jobs and uploads stay); None when there is no such key."""
    conn.execute("UPDATE keys SET revoked = ? WHERE id = ? AND revoked IS NULL", (now, key_id))
    row = conn.execute("SELECT * FROM keys WHERE id = ?", (key_id,)).fetchone()
    return None if row is None else _key(row)


def authenticate(conn: sqlite3.Connection, *, token: str, settings: Settings) -> Caller | None:
    """The caller whose key `token` is, or None for a malformed, unknown or revoked key."""
    match = _TOKEN.match(token.strip())
    key_id, secret = match.groups() if match else ("", "")
    row = conn.execute("SELECT * FROM keys WHERE id = ? AND revoked IS NULL", (key_id,)).fetchone()
    stored = row["hash"] if row is not None else _NO_SUCH_HASH
    if not hmac.compare_digest(stored.encode(), _digest(key_id, secret).encode()) or row is None or not match:
        return None
    key = _key(row)
    return Caller(id=key.id, name=key.name, max_queued=key.max_queued or settings.quota_queued_jobs,
                  max_bytes=key.max_bytes or settings.quota_bytes)


def local_caller(settings: Settings) -> Caller:
    """The one user of a server without keys (ELDERCARE_AUTH=off)."""
    return Caller(id=LOCAL, name="local user (ELDERCARE_AUTH=off)", max_queued=settings.quota_queued_jobs,
                  max_bytes=settings.quota_bytes)
