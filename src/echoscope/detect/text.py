"""Normalisation and tokenisation shared by every detector.

Copies differ in ways that are not edits: case, Unicode forms, curly or straight quotes,
Arabic or Persian letter shapes, a tatweel or a zero-width joiner. Tokens are compared in
a normalised form, but each keeps the character offsets of its original spelling so a
reported passage is always an exact slice of the stored text.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np


def _mark_ranges() -> str:
    """Regex ranges of every BMP combining mark except variation selectors (which only
    choose a glyph, as in emoji, and are not part of any word)."""
    out: list[str] = []
    start = prev = None
    for cp in range(0x300, 0x10000):
        if 0xD800 <= cp < 0xE000 or 0xFE00 <= cp <= 0xFE0F:
            ok = False
        else:
            ok = unicodedata.category(chr(cp)) in ("Mn", "Mc", "Me")
        if ok and start is None:
            start = prev = cp
        elif ok and prev is not None and cp == prev + 1:
            prev = cp
        elif start is not None:
            out.append(f"\\u{start:04x}-\\u{prev:04x}" if prev != start else f"\\u{start:04x}")
            start = prev = cp if ok else None
    if start is not None:
        out.append(f"\\u{start:04x}-\\u{prev:04x}")
    return "".join(out)


# Word characters plus the combining marks and joiners that live inside words (Arabic
# harakat, Indic vowel signs, decomposed accents): \w alone would split a word at them.
TOKEN_RE = re.compile(r"[\w" + _mark_ranges() + r"\u0640\u200c\u200d]+")

# Arabic and Persian spell the same words with different code points; unify to Persian.
_ARABIC = {
    "\u064a": "\u06cc",  # ARABIC YEH -> FARSI YEH
    "\u0649": "\u06cc",  # ALEF MAKSURA -> FARSI YEH
    "\u0626": "\u06cc",  # YEH WITH HAMZA -> FARSI YEH
    "\u0643": "\u06a9",  # ARABIC KAF -> KEHEH
    "\u0629": "\u0647",  # TEH MARBUTA -> HEH
    "\u06c0": "\u0647",  # HEH WITH YEH ABOVE -> HEH
    "\u0623": "\u0627",  # ALEF WITH HAMZA ABOVE -> ALEF
    "\u0625": "\u0627",  # ALEF WITH HAMZA BELOW -> ALEF
    "\u0622": "\u0627",  # ALEF WITH MADDA -> ALEF
    "\u0671": "\u0627",  # ALEF WASLA -> ALEF
    "\u0624": "\u0648",  # WAW WITH HAMZA -> WAW
    "\u0640": None,  # TATWEEL
    "\u200c": None,  # ZERO WIDTH NON-JOINER
    "\u200d": None,  # ZERO WIDTH JOINER
}
for _cp in [*range(0x064B, 0x0660), 0x0670, *range(0x06D6, 0x06EE), *range(0x0610, 0x061B)]:
    _ARABIC[chr(_cp)] = None  # harakat and Quranic marks
for _i in range(10):
    _ARABIC[chr(0x0660 + _i)] = str(_i)  # Arabic-Indic digits
    _ARABIC[chr(0x06F0 + _i)] = str(_i)  # Extended (Persian) digits
_TABLE = str.maketrans(_ARABIC)

# Scripts written without spaces between words: each character is a token.
_NO_SPACE = re.compile(
    r"[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff"
    r"\uac00-\ud7af\uf900-\ufaff]"
)


def normalize_token(token: str) -> str:
    """Case-, form- and script-variant-folded spelling of one token."""
    return unicodedata.normalize("NFKC", token).casefold().translate(_TABLE)


def _split_no_space(token: str, start: int) -> list[tuple[str, int, int]]:
    out: list[tuple[str, int, int]] = []
    buf_start = None
    for i, ch in enumerate(token):
        if _NO_SPACE.match(ch):
            if buf_start is not None:
                out.append((token[buf_start:i], start + buf_start, start + i))
                buf_start = None
            out.append((ch, start + i, start + i + 1))
        elif buf_start is None:
            buf_start = i
    if buf_start is not None:
        out.append((token[buf_start:], start + buf_start, start + len(token)))
    return out


def tokens(text: str) -> list[str]:
    """Normalised tokens of ``text`` (no offsets: the fast path for signatures)."""
    out: list[str] = []
    for raw in TOKEN_RE.findall(text):
        if _NO_SPACE.search(raw):
            out.extend(normalize_token(t) for t, _, _ in _split_no_space(raw, 0))
        else:
            norm = normalize_token(raw)
            if norm:
                out.append(norm)
    return out


def tokens_with_offsets(text: str) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Normalised tokens and the [start, end) character offsets of each in ``text``."""
    toks: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for m in TOKEN_RE.finditer(text):
        raw = m.group(0)
        if _NO_SPACE.search(raw):
            for t, s, e in _split_no_space(raw, m.start()):
                norm = normalize_token(t)
                if norm:
                    toks.append(norm)
                    starts.append(s)
                    ends.append(e)
        else:
            norm = normalize_token(raw)
            if norm:
                toks.append(norm)
                starts.append(m.start())
                ends.append(m.end())
    return toks, np.asarray(starts, dtype=np.int64), np.asarray(ends, dtype=np.int64)
