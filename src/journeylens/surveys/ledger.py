"""The survey ledger (``.journeylens/surveys.sqlite``): links issued and answers received.

An answer is durable the moment it is accepted here — the event store may be busy with a
load — and the primary key on the token id is what makes "one answer per link" hold under
concurrent submissions. Answers move to the event store in batches; once loaded, the raw
identifier is dropped from the ledger (the store has it, pseudonymised if configured), and
only a keyed hash stays for erasure requests.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from journeylens.errors import SurveyAlreadyAnswered
from journeylens.surveys.answers import Answer
from journeylens.surveys.tokens import Invitation

LEDGER_FILE = "surveys.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS issued (
    token_id    TEXT PRIMARY KEY,
    survey      TEXT NOT NULL,
    about       TEXT,
    via         TEXT NOT NULL,
    who         TEXT NOT NULL,
    issued_at   TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS responses (
    token_id    TEXT PRIMARY KEY,
    survey      TEXT NOT NULL,
    about       TEXT,
    who         TEXT NOT NULL,
    identifier  TEXT,
    language    TEXT NOT NULL,
    answered_at TEXT NOT NULL,
    answer      TEXT NOT NULL,
    batch_id    INTEGER
);
CREATE INDEX IF NOT EXISTS responses_pending ON responses (batch_id) WHERE batch_id IS NULL;
"""


@dataclass(frozen=True)
class Response:
    token_id: str
    survey: str
    about: str | None
    identifier: str | None
    language: str
    answered_at: datetime
    answer: Answer
    batch_id: int | None


@dataclass(frozen=True)
class Issued:
    survey: str
    about: str | None
    via: str
    count: int


class Ledger:
    def __init__(self, path: Path, key: bytes) -> None:
        self.path = path
        self._key = key
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as con:
            con.executescript(_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        con = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA busy_timeout=30000")
            yield con
        finally:
            con.close()

    def who(self, identifier: str) -> str:
        """A keyed hash of the identifier: links rows to a person without naming them."""
        return hmac.new(self._key, identifier.encode(), hashlib.sha256).hexdigest()[:32]

    def issue(self, invitation: Invitation, via: str) -> None:
        with self._connect() as con:
            con.execute(
                "INSERT OR IGNORE INTO issued VALUES (?, ?, ?, ?, ?, ?)",
                [
                    invitation.token_id,
                    invitation.survey,
                    invitation.about,
                    via,
                    self.who(invitation.identifier),
                    _now().isoformat(),
                ],
            )

    def record(self, invitation: Invitation, answer: Answer, language: str) -> None:
        """Keep one answer for the invitation; raises :class:`SurveyAlreadyAnswered` on a replay."""
        try:
            with self._connect() as con:
                con.execute(
                    "INSERT INTO responses VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)",
                    [
                        invitation.token_id,
                        invitation.survey,
                        invitation.about,
                        self.who(invitation.identifier),
                        invitation.identifier,
                        language,
                        _now().isoformat(),
                        json.dumps(answer.to_json(), ensure_ascii=False),
                    ],
                )
        except sqlite3.IntegrityError:
            raise SurveyAlreadyAnswered("this survey link has been answered already") from None

    def answered(self, token_id: str) -> bool:
        with self._connect() as con:
            row = con.execute("SELECT 1 FROM responses WHERE token_id = ?", [token_id]).fetchone()
        return row is not None

    def responses(self, survey: str | None = None, *, pending: bool = False) -> list[Response]:
        query = "SELECT * FROM responses WHERE (? IS NULL OR survey = ?)"
        if pending:
            query += " AND batch_id IS NULL"
        with self._connect() as con:
            rows = con.execute(query + " ORDER BY answered_at, token_id", [survey, survey])
            return [_response(row) for row in rows.fetchall()]

    def mark_loaded(self, token_ids: Sequence[str], batch_id: int) -> None:
        """The answers are in the event store: forget their raw identifiers."""
        with self._connect() as con:
            con.execute("BEGIN IMMEDIATE")
            con.executemany(
                "UPDATE responses SET batch_id = ?, identifier = NULL WHERE token_id = ?",
                [(batch_id, t) for t in token_ids],
            )
            con.execute("COMMIT")

    def issued(self, survey: str | None = None) -> list[Issued]:
        with self._connect() as con:
            rows = con.execute(
                "SELECT survey, about, via, count(*) FROM issued WHERE (? IS NULL OR survey = ?) "
                "GROUP BY survey, about, via ORDER BY 1, 2, 3",
                [survey, survey],
            ).fetchall()
        return [Issued(*row) for row in rows]

    def erase(self, identifier: str) -> int:
        """Forget every link and answer of one person (right to erasure)."""
        who = self.who(identifier)
        with self._connect() as con:
            con.execute("BEGIN IMMEDIATE")
            gone = con.execute("DELETE FROM responses WHERE who = ?", [who]).rowcount
            gone += con.execute("DELETE FROM issued WHERE who = ?", [who]).rowcount
            con.execute("COMMIT")
        return int(gone)


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _response(row: Any) -> Response:
    token_id, survey, about, _who, identifier, language, answered_at, answer, batch_id = row
    return Response(
        token_id,
        survey,
        about,
        identifier,
        language,
        datetime.fromisoformat(answered_at),
        Answer.from_json(json.loads(answer)),
        batch_id,
    )
