"""Invitation tokens: who is asked, about which step, until when — sealed, not just signed.

A token is the invitation encrypted and authenticated with AES-GCM under the workspace's
survey key, so a link names neither the customer nor the touchpoint to anyone who reads it,
and any change to it (or a token made without the key) fails authentication. Each token
carries a random id: the ledger accepts one answer per id, so a replayed link is refused.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from journeylens.errors import ExpiredSurveyLink, InvalidSurveyLink, JourneylensError

KEY_FILE = "survey.key"
KEY_ENV = "JOURNEYLENS_SURVEY_KEY"
_CONTEXT = b"journeylens survey invitation v1"
_NONCE = 12


@dataclass(frozen=True)
class Invitation:
    """What a link stands for; ``identifier`` is ``type:value`` as the store knows it."""

    token_id: str
    survey: str
    identifier: str
    about: str | None
    expires: int
    language: str | None = None

    def to_payload(self) -> bytes:
        fields = [self.token_id, self.survey, self.identifier, self.about, self.expires]
        if self.language:
            fields.append(self.language)
        return json.dumps(fields, separators=(",", ":"), ensure_ascii=False).encode()

    @classmethod
    def from_payload(cls, data: bytes) -> Invitation:
        fields = json.loads(data)
        return cls(*fields)


def load_key(state_dir: Path) -> bytes:
    """The survey key: ``$JOURNEYLENS_SURVEY_KEY`` (base64) or ``<state>/survey.key``, made once."""
    configured = os.environ.get(KEY_ENV)
    if configured:
        try:
            key = base64.urlsafe_b64decode(configured + "=" * (-len(configured) % 4))
        except (binascii.Error, ValueError):
            key = b""
        if len(key) != 32:
            raise JourneylensError(f"{KEY_ENV} must be 32 bytes in URL-safe base64")
        return key
    path = state_dir / KEY_FILE
    if not path.exists():
        state_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(AESGCM.generate_key(bit_length=256))
    key = path.read_bytes()
    if len(key) != 32:
        raise JourneylensError(f"{path}: a survey key is 32 bytes, this file has {len(key)}")
    return key


def new_invitation(
    survey: str,
    identifier: str,
    about: str | None,
    *,
    valid_days: int,
    language: str | None = None,
    now: float | None = None,
) -> Invitation:
    expires = int((time.time() if now is None else now) + valid_days * 86400)
    return Invitation(secrets.token_hex(8), survey, identifier, about, expires, language)


def seal(invitation: Invitation, key: bytes) -> str:
    nonce = os.urandom(_NONCE)
    sealed = AESGCM(key).encrypt(nonce, invitation.to_payload(), _CONTEXT)
    return base64.urlsafe_b64encode(nonce + sealed).rstrip(b"=").decode()


def open_token(token: str, key: bytes, *, now: float | None = None) -> Invitation:
    """The invitation behind ``token``.

    Raises :class:`InvalidSurveyLink` or :class:`ExpiredSurveyLink`."""
    if not token or len(token) > 1024 or not token.isascii():
        raise InvalidSurveyLink("this survey link is not valid")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        payload = AESGCM(key).decrypt(raw[:_NONCE], raw[_NONCE:], _CONTEXT)
        invitation = Invitation.from_payload(payload)
    except (binascii.Error, ValueError, InvalidTag, TypeError):
        raise InvalidSurveyLink("this survey link is not valid") from None
    if invitation.expires < (time.time() if now is None else now):
        raise ExpiredSurveyLink("this survey link has expired")
    return invitation
