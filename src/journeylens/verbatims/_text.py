"""Text cleaning and tokenising shared by every verbatim analysis.

Lexicons are written without accents, niqqud or ``ё`` so one entry matches the way customers
really type ("nao", "otimo", "pessimo"); every lookup goes through :func:`fold` for that reason.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

#: Longer texts are cut: a verbatim is short, and a pasted log file must not stall a batch.
MAX_CHARS: Final = 20_000

_EMOJI = (
    "\U0001f1e6-\U0001f1ff"  # flags
    "\U0001f300-\U0001f5ff"
    "\U0001f600-\U0001f64f"
    "\U0001f680-\U0001f6ff"
    "\U0001f900-\U0001faff"
    "\u2600-\u27bf"
    "\u2b50\u2b55"
)
_EMOTICON = r"(?:[:;=8][\-o*']?[)(\]\[dDpP/\\|@3*]|[)(\]\[][\-o*']?[:;=8]|<3|</3)"
#: Words (letters with inner apostrophes or hyphens), emoticons, emoji, clause punctuation.
TOKEN: Final = re.compile(
    r"[^\W\d_]+(?:['’][^\W\d_]+)*"
    rf"|{_EMOTICON}(?!\w)"
    rf"|[{_EMOJI}]"
    r"|[.,;!?…:]+"
)
_EMOTICON_ONLY = re.compile(_EMOTICON)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffd]+")
_URL = re.compile(r"(?:[Hh][Tt][Tt][Pp][Ss]?://|[Ww][Ww][Ww]\.)\S+|@\w+")


def _build_fold_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for cp in range(0xC0, 0x250):
        char = chr(cp)
        base = unicodedata.normalize("NFD", char)[0].lower()
        if base.isascii() and base.isalpha() and base != char.lower():
            table[cp] = base
    table.update({ord("ß"): "ss", ord("ø"): "o", ord("đ"): "d", ord("ł"): "l", ord("æ"): "ae"})
    table.update({ord("ё"): "е", ord("Ё"): "е", ord("’"): "'", ord("ʼ"): "'"})
    for cp in range(0x0591, 0x05C8):  # Hebrew cantillation and niqqud
        if unicodedata.category(chr(cp)) == "Mn":
            table[cp] = ""
    for cp in (0x0300, 0x0301, 0x0302, 0x0303, 0x0306, 0x0308, 0x030C, 0x0326, 0x0327):
        table[cp] = ""  # combining accents left by NFD input
    return table


_FOLD: Final = _build_fold_table()


#: Words only, for callers that do not need emoji or punctuation.
WORD: Final = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
#: Words written in capitals (Hebrew has no case), for VADER's emphasis rule.
SHOUTED: Final = re.compile(r"\b[A-ZÀ-ÖØ-ÞĂÂÎȘȚŞŢÇÃÕČŠŽА-ЯЁ]{2,}\b")


def clean(text: object) -> str:
    """Any input, even ``None``, bytes or binary junk, becomes bounded, printable text."""
    if text is None:
        return ""
    if isinstance(text, bytes | bytearray):
        text = bytes(text[: MAX_CHARS * 4]).decode("utf-8", errors="replace")
    elif not isinstance(text, str):
        text = str(text)
    text = text[:MAX_CHARS]
    if "@" in text or "http" in text or "www." in text or "HTTP" in text:
        text = _URL.sub(" ", text)
    if not text.isprintable():
        text = _CONTROL.sub(" ", text)
    return text


def fold(token: str) -> str:
    """Lower-case and strip what customers often leave out: accents, niqqud, ``ё``."""
    return token.lower().translate(_FOLD)


def tokens(text: str) -> list[str]:
    """Tokens of already :func:`clean` text, in their original case."""
    return TOKEN.findall(text)


def is_word(token: str) -> bool:
    return token[:1].isalpha()


def is_emoticon(token: str) -> bool:
    return _EMOTICON_ONLY.fullmatch(token) is not None


def is_boundary(token: str) -> bool:
    """Clause punctuation ends a negation's scope (emoticons start with ':' or ';' too)."""
    first = token[:1]
    if first in ".,!?…":
        return True
    return first in ";:" and (len(token) == 1 or token[1] in ".,;!?…:")
