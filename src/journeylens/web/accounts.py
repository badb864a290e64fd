"""Who may use the web application, and what they did: users, sessions, API tokens, audit.

Kept in ``.journeylens/web.sqlite`` (the standard library's SQLite), apart from the event store,
so that signing in never waits on a long data load. Passwords are hashed with Argon2id; session
ids and API tokens are random and stored only as SHA-256 hashes, so a copy of the database
signs no one in. There is no default account: the first admin is created from the CLI.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from journeylens.errors import JourneylensError

Role = Literal["viewer", "editor", "admin"]
ROLES: tuple[Role, ...] = ("viewer", "editor", "admin")
RANK = {role: index for index, role in enumerate(ROLES)}
SESSION_SECONDS = 12 * 3600
#: Failed sign-ins allowed per user name (and per client address) in ``LOCK_WINDOW`` seconds.
MAX_FAILURES = 5
LOCK_WINDOW = 15 * 60
MIN_PASSWORD = 12

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL CHECK (role IN ('viewer', 'editor', 'admin')),
    password TEXT NOT NULL,
    created REAL NOT NULL,
    active INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS sessions (
    id_hash TEXT PRIMARY KEY,
    user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
    csrf TEXT NOT NULL,
    created REAL NOT NULL,
    expires REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS tokens (
    token_hash TEXT PRIMARY KEY,
    user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
    label TEXT NOT NULL,
    created REAL NOT NULL,
    expires REAL
);
CREATE TABLE IF NOT EXISTS failures (
    key TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at REAL NOT NULL,
    user TEXT,
    action TEXT NOT NULL,
    target TEXT,
    detail TEXT
);
CREATE TABLE IF NOT EXISTS map_versions (
    map_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    content TEXT NOT NULL,
    author TEXT,
    at REAL NOT NULL,
    message TEXT,
    PRIMARY KEY (map_id, version)
);
CREATE TABLE IF NOT EXISTS comments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    map_id TEXT NOT NULL,
    step_id TEXT NOT NULL,
    author TEXT NOT NULL,
    text TEXT NOT NULL,
    at REAL NOT NULL
);
"""


class AccountError(JourneylensError):
    """A refused account operation (weak password, unknown user, locked out...)."""


#: How long an API token works unless asked otherwise, and at most (days).
TOKEN_DAYS = 90
MAX_TOKEN_DAYS = 366


@dataclass(frozen=True)
class TokenInfo:
    """An API token as listed: an id to revoke it by, never the token itself."""

    id: str
    user: str
    label: str
    created: float
    expires: float | None
    expired: bool


@dataclass(frozen=True)
class User:
    name: str
    role: Role

    def can(self, role: Role) -> bool:
        return RANK[self.role] >= RANK[role]


@dataclass(frozen=True)
class Session:
    user: User
    csrf: str
    expires: float


@dataclass(frozen=True)
class AuditEntry:
    at: float
    user: str | None
    action: str
    target: str | None
    detail: str | None


@dataclass(frozen=True)
class MapVersion:
    map_id: str
    version: int
    author: str | None
    at: float
    message: str | None
    content: str


@dataclass(frozen=True)
class Comment:
    id: int
    map_id: str
    step_id: str
    author: str
    text: str
    at: float


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class Accounts:
    """The web application's own small database; safe to share between request threads."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._hasher = PasswordHasher()
        # Verified against for unknown names, so that they cost what a known name costs (one
        # verification; hashing there too would make them twice as slow, revealing who exists).
        self._decoy = self._hasher.hash(secrets.token_urlsafe(16))
        with self._db() as db:
            db.executescript(_SCHEMA)
            columns = {row[1] for row in db.execute("PRAGMA table_info(tokens)")}
            if "expires" not in columns:  # a database from before tokens expired
                db.execute("ALTER TABLE tokens ADD COLUMN expires REAL")

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            db = sqlite3.connect(self.path, timeout=30)
            try:
                db.execute("PRAGMA foreign_keys = ON")
                with db:
                    yield db
            finally:
                db.close()

    # -- users --------------------------------------------------------------------------------
    def add_user(self, name: str, password: str, role: Role) -> User:
        if role not in ROLES:
            raise AccountError(f"role {role!r}: expected one of {', '.join(ROLES)}")
        if not name or not name.replace("-", "").replace("_", "").replace(".", "").isalnum():
            raise AccountError(f"user name {name!r}: letters, digits, '.', '-' and '_' only")
        check_password(password, name)
        with self._db() as db:
            exists = db.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone()
            if exists:
                raise AccountError(f"user {name!r} exists already")
            db.execute(
                "INSERT INTO users (name, role, password, created) VALUES (?, ?, ?, ?)",
                (name, role, self._hasher.hash(password), time.time()),
            )
        return User(name, role)

    def users(self) -> list[User]:
        with self._db() as db:
            rows = db.execute("SELECT name, role FROM users WHERE active ORDER BY name").fetchall()
        return [User(name, role) for name, role in rows]

    def has_users(self) -> bool:
        with self._db() as db:
            return db.execute("SELECT 1 FROM users LIMIT 1").fetchone() is not None

    def set_role(self, name: str, role: Role) -> User:
        if role not in ROLES:
            raise AccountError(f"role {role!r}: expected one of {', '.join(ROLES)}")
        with self._db() as db:
            changed = db.execute("UPDATE users SET role = ? WHERE name = ?", (role, name))
            if changed.rowcount == 0:
                raise AccountError(f"no user {name!r}")
            db.execute("DELETE FROM sessions WHERE user = ?", (name,))
        return User(name, role)

    def set_password(self, name: str, password: str) -> None:
        check_password(password, name)
        with self._db() as db:
            changed = db.execute(
                "UPDATE users SET password = ? WHERE name = ?", (self._hasher.hash(password), name)
            )
            if changed.rowcount == 0:
                raise AccountError(f"no user {name!r}")
            db.execute("DELETE FROM sessions WHERE user = ?", (name,))

    # -- signing in ----------------------------------------------------------------------------
    def locked(self, *keys: str) -> bool:
        """Too many recent failures for this user name or client address."""
        since = time.time() - LOCK_WINDOW
        with self._db() as db:
            db.execute("DELETE FROM failures WHERE at < ?", (since,))
            for key in keys:
                (count,) = db.execute(
                    "SELECT count(*) FROM failures WHERE key = ? AND at >= ?", (key, since)
                ).fetchone()
                if count >= MAX_FAILURES:
                    return True
        return False

    def authenticate(self, name: str, password: str, *, client: str = "") -> User | None:
        """The user, or None; failures count towards the lock-out of the name and client."""
        keys = (f"user:{name}", f"client:{client}")
        if self.locked(*keys):
            raise AccountError("too many failed sign-ins: try again in 15 minutes")
        with self._db() as db:
            row = db.execute(
                "SELECT role, password FROM users WHERE name = ? AND active", (name,)
            ).fetchone()
        ok = False
        if row is not None:
            try:
                ok = self._hasher.verify(row[1], password)
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                ok = False
        else:
            # Spend the same time on unknown names, so timing does not reveal who exists.
            with suppress(VerifyMismatchError):
                self._hasher.verify(self._decoy, password)
        if not ok:
            with self._db() as db:
                db.executemany(
                    "INSERT INTO failures (key, at) VALUES (?, ?)", [(k, time.time()) for k in keys]
                )
            return None
        assert row is not None
        if self._hasher.check_needs_rehash(row[1]):
            with self._db() as db:
                db.execute(
                    "UPDATE users SET password = ? WHERE name = ?",
                    (self._hasher.hash(password), name),
                )
        return User(name, row[0])

    def open_session(self, user: User) -> tuple[str, Session]:
        """A new session id (for the cookie, never stored) and its CSRF token."""
        session_id = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        now = time.time()
        with self._db() as db:
            db.execute("DELETE FROM sessions WHERE expires < ?", (now,))
            db.execute(
                "INSERT INTO sessions (id_hash, user, csrf, created, expires) "
                "VALUES (?, ?, ?, ?, ?)",
                (_digest(session_id), user.name, csrf, now, now + SESSION_SECONDS),
            )
        return session_id, Session(user, csrf, now + SESSION_SECONDS)

    def session(self, session_id: str) -> Session | None:
        with self._db() as db:
            row = db.execute(
                "SELECT u.name, u.role, s.csrf, s.expires FROM sessions s JOIN users u "
                "ON u.name = s.user WHERE s.id_hash = ? AND u.active",
                (_digest(session_id),),
            ).fetchone()
        if row is None or row[3] < time.time():
            return None
        return Session(User(row[0], row[1]), row[2], row[3])

    def close_session(self, session_id: str) -> None:
        with self._db() as db:
            db.execute("DELETE FROM sessions WHERE id_hash = ?", (_digest(session_id),))

    # -- API tokens ----------------------------------------------------------------------------
    def create_token(self, name: str, label: str, *, days: int = TOKEN_DAYS) -> str:
        """A new API token for scripts (shown once); it acts with the user's role and stops
        working after ``days`` (or when revoked, or when the user is deactivated)."""
        if not 1 <= days <= MAX_TOKEN_DAYS:
            raise AccountError(f"a token lasts 1 to {MAX_TOKEN_DAYS} days, not {days}")
        token = "jl_" + secrets.token_urlsafe(32)
        now = time.time()
        with self._db() as db:
            if db.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone() is None:
                raise AccountError(f"no user {name!r}")
            db.execute(
                "INSERT INTO tokens (token_hash, user, label, created, expires) "
                "VALUES (?, ?, ?, ?, ?)",
                (_digest(token), name, label, now, now + days * 86400),
            )
        return token

    def token_user(self, token: str) -> User | None:
        with self._db() as db:
            row = db.execute(
                "SELECT u.name, u.role FROM tokens t JOIN users u ON u.name = t.user "
                "WHERE t.token_hash = ? AND u.active AND (t.expires IS NULL OR t.expires > ?)",
                (_digest(token), time.time()),
            ).fetchone()
        return None if row is None else User(row[0], row[1])

    def tokens(self, name: str | None = None) -> list[TokenInfo]:
        """Tokens (of one user, or everyone's), newest first; never the tokens themselves."""
        with self._db() as db:
            rows = db.execute(
                "SELECT substr(token_hash, 1, 12), user, label, created, expires FROM tokens "
                "WHERE (? IS NULL OR user = ?) ORDER BY created DESC",
                (name, name),
            ).fetchall()
        now = time.time()
        return [
            TokenInfo(r[0], r[1], r[2], r[3], r[4], r[4] is not None and r[4] <= now) for r in rows
        ]

    def revoke_token(self, token_id: str, *, owner: str | None = None) -> TokenInfo:
        """Delete a token by its id (the first 12 characters of its hash), only ``owner``'s
        when given; raises :class:`AccountError` when there is no such token."""
        if len(token_id) != 12 or not all(c in "0123456789abcdef" for c in token_id):
            raise AccountError(f"no token {token_id!r}")
        found = [t for t in self.tokens(owner) if t.id == token_id]
        if not found:
            raise AccountError(f"no token {token_id!r}")
        with self._db() as db:
            db.execute(
                "DELETE FROM tokens WHERE substr(token_hash, 1, 12) = ? AND user = ?",
                (token_id, found[0].user),
            )
        return found[0]

    # -- audit ---------------------------------------------------------------------------------
    def audit(
        self, user: str | None, action: str, target: str | None = None, detail: str | None = None
    ) -> None:
        with self._db() as db:
            db.execute(
                "INSERT INTO audit (at, user, action, target, detail) VALUES (?, ?, ?, ?, ?)",
                (time.time(), user, action, target, detail),
            )

    def audit_log(self, limit: int = 200) -> list[AuditEntry]:
        with self._db() as db:
            rows = db.execute(
                "SELECT at, user, action, target, detail FROM audit ORDER BY id DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [AuditEntry(*row) for row in rows]

    # -- map versions and comments -------------------------------------------------------------
    def record_version(
        self, map_id: str, content: str, author: str | None, message: str | None
    ) -> MapVersion:
        now = time.time()
        with self._db() as db:
            (last,) = db.execute(
                "SELECT coalesce(max(version), 0) FROM map_versions WHERE map_id = ?", (map_id,)
            ).fetchone()
            db.execute(
                "INSERT INTO map_versions (map_id, version, content, author, at, message) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (map_id, last + 1, content, author, now, message),
            )
        return MapVersion(map_id, last + 1, author, now, message, content)

    def versions(self, map_id: str) -> list[MapVersion]:
        with self._db() as db:
            rows = db.execute(
                "SELECT map_id, version, author, at, message, content FROM map_versions "
                "WHERE map_id = ? ORDER BY version DESC",
                (map_id,),
            ).fetchall()
        return [MapVersion(*row) for row in rows]

    def version(self, map_id: str, version: int) -> MapVersion | None:
        found = [v for v in self.versions(map_id) if v.version == version]
        return found[0] if found else None

    def add_comment(self, map_id: str, step_id: str, author: str, text: str) -> Comment:
        if not text.strip():
            raise AccountError("a comment needs text")
        now = time.time()
        with self._db() as db:
            cursor = db.execute(
                "INSERT INTO comments (map_id, step_id, author, text, at) VALUES (?, ?, ?, ?, ?)",
                (map_id, step_id, author, text, now),
            )
        assert cursor.lastrowid is not None
        return Comment(cursor.lastrowid, map_id, step_id, author, text, now)

    def comments(self, map_id: str) -> list[Comment]:
        with self._db() as db:
            rows = db.execute(
                "SELECT id, map_id, step_id, author, text, at FROM comments WHERE map_id = ? "
                "ORDER BY id",
                (map_id,),
            ).fetchall()
        return [Comment(*row) for row in rows]


def check_password(password: str, name: str = "") -> None:
    """Refuse passwords a guesser tries first: short, the user name, one repeated character."""
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"a password needs at least {MIN_PASSWORD} characters")
    lowered = password.lower()
    if name and name.lower() in lowered:
        raise AccountError("a password must not contain the user name")
    if len(set(password)) < 5:
        raise AccountError("a password needs more different characters")
    if lowered in {"password1234", "123456789012", "qwertyuiopas"}:
        raise AccountError("this password is on every guesser's list")
