"""Word-level differences between two aligned passages, for side-by-side display."""

from __future__ import annotations

import difflib
import html
import re

_WORDS = re.compile(r"\S+|\s+")


def _norm(word: str) -> str:
    return re.sub(r"\W+", "", word.casefold())


def diff_words(a: str, b: str) -> tuple[list[tuple[str, bool]], list[tuple[str, bool]]]:
    """Split both texts into words and whitespace; flag each piece True where it differs."""
    wa, wb = _WORDS.findall(a), _WORDS.findall(b)
    ka = [_norm(w) if w.strip() else " " for w in wa]
    kb = [_norm(w) if w.strip() else " " for w in wb]
    same_a = [False] * len(wa)
    same_b = [False] * len(wb)
    for block in difflib.SequenceMatcher(None, ka, kb, autojunk=False).get_matching_blocks():
        for k in range(block.size):
            same_a[block.a + k] = True
            same_b[block.b + k] = True
    out_a = [(w, not s and bool(w.strip())) for w, s in zip(wa, same_a, strict=True)]
    out_b = [(w, not s and bool(w.strip())) for w, s in zip(wb, same_b, strict=True)]
    return out_a, out_b


def to_rich(pieces: list[tuple[str, bool]]):
    from rich.text import Text

    text = Text()
    for word, changed in pieces:
        text.append(word, style="bold yellow on grey23" if changed else None)
    return text


def to_html(pieces: list[tuple[str, bool]]) -> str:
    return "".join(
        f"<mark>{html.escape(w)}</mark>" if changed else html.escape(w) for w, changed in pieces
    )
