"""Does a copy say where it came from? Credits found in a document's text and links.

A copy can credit its source by linking to it (the page or its site), by naming the
outlet or one of its aliases, by an agency byline or credit ("PA", "(AFP)", "Reuters"),
by an attribution phrase ("according to ...", "به گزارش ..."), or by quoting the copied
text. Each credit found is reported with its kind and the exact span of text, so an
editor can check it; whether the credit names the parent is decided separately.

Phrase lists and agency names are data files (``trace/data/*.tsv``) that users extend
with their own files of the same format.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from echoscope.detect.text import _TABLE

DATA = Path(__file__).parent / "data"
QUOTES_OPEN = "\"“«‘'„"
QUOTES_CLOSE = "\"”»’'“"


@dataclass(frozen=True)
class Credit:
    kind: str  # link | link-domain | names-source | agency | phrase | byline | quote
    begin: int | None  # span in the document's text (None for a link)
    end: int | None
    text: str  # the exact span, or the URL
    credited: str | None  # whom it credits, when it names someone
    names_parent: bool  # it credits the parent specifically


@dataclass(frozen=True)
class Phrase:
    kind: str
    text: str
    lang: str


def _read_tsv(path: Path) -> list[list[str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        rows.append(line.split("\t"))
    return rows


@functools.lru_cache(maxsize=8)
def load_phrases(extra: tuple[str, ...] = ()) -> tuple[Phrase, ...]:
    out: list[Phrase] = []
    files = [(DATA / "attribution_en.tsv", "en"), (DATA / "attribution_fa.tsv", "fa")]
    files += [(Path(p), Path(p).stem.rsplit("_", 1)[-1]) for p in extra]
    for path, lang in files:
        for row in _read_tsv(path):
            if len(row) >= 2 and row[1].strip():
                out.append(Phrase(row[0].strip(), row[1].strip(), lang))
    return tuple(out)


@functools.lru_cache(maxsize=8)
def load_agencies(extra: tuple[str, ...] = ()) -> dict[str, tuple[str, ...]]:
    """Canonical agency name -> aliases (a leading '=' marks a case-sensitive alias)."""
    out: dict[str, tuple[str, ...]] = {}
    for path in [DATA / "agencies.tsv", *map(Path, extra)]:
        for row in _read_tsv(path):
            if len(row) >= 2:
                out[row[0].strip()] = tuple(a.strip() for a in row[1].split("|") if a.strip())
    return out


def load_aliases(path: str | Path | None) -> dict[str, tuple[str, ...]]:
    """A user's file of source<TAB>alias|alias: how outlets are named in text."""
    if path is None:
        return {}
    return {
        row[0].strip(): tuple(a.strip() for a in row[1].split("|") if a.strip())
        for row in _read_tsv(Path(path))
        if len(row) >= 2
    }


class _Folded:
    """The text with Arabic-script variants unified and case folded, and a map from each
    folded character back to its offset in the original."""

    def __init__(self, text: str) -> None:
        chars: list[str] = []
        index: list[int] = []
        for i, ch in enumerate(text):
            folded = ch.translate(_TABLE).lower()
            for f in folded:
                chars.append(f)
                index.append(i)
        self.text = "".join(chars)
        self.index = index
        self.original = text

    def span(self, start: int, end: int) -> tuple[int, int]:
        if start >= len(self.index):
            return len(self.original), len(self.original)
        return self.index[start], self.index[end - 1] + 1


def _word_pattern(phrase: str) -> re.Pattern[str]:
    body = re.escape(phrase.translate(_TABLE).lower()).replace(r"\ ", r"\s+")
    left = r"(?<!\w)" if phrase[:1].isalnum() else ""
    right = r"(?!\w)" if phrase[-1:].isalnum() else ""
    return re.compile(left + body + right)


@functools.lru_cache(maxsize=4096)
def _compiled(phrase: str, case_sensitive: bool) -> re.Pattern[str]:
    if case_sensitive:
        return re.compile(r"(?<!\w)" + re.escape(phrase) + r"(?!\w)")
    return _word_pattern(phrase)


def _norm_url(url: str) -> str:
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").removeprefix("www.")
    return host + parts.path.rstrip("/") + (("?" + parts.query) if parts.query else "")


def _domain(url: str | None) -> str | None:
    if not url:
        return None
    host = urlsplit(url).hostname or ""
    return host.removeprefix("www.") or None


def _names(source: str | None, aliases: Iterable[str]) -> list[tuple[str, bool]]:
    """(name, case_sensitive) pairs a text may use for a source."""
    names: list[tuple[str, bool]] = []
    for name in [source, *aliases]:
        if not name:
            continue
        if name.startswith("="):
            names.append((name[1:], True))
        elif len(name) <= 3 and name.isupper():
            names.append((name, True))  # short acronyms only in capitals
        elif " " not in name.strip() and name.isascii():
            # one-word names are often common words ("sun", "times", "mirror"): only the
            # capitalised name counts, as a masthead is written ("the Sun", "The Times")
            word = name.strip()
            names.append((word if word[:1].isupper() else word[:1].upper() + word[1:], True))
        else:
            names.append((name, False))
    return names


def find_credits(
    text: str,
    links: Iterable[str] = (),
    *,
    parent_source: str | None = None,
    parent_url: str | None = None,
    parent_aliases: Iterable[str] = (),
    quoted_spans: Iterable[tuple[int, int]] = (),
    extra_phrases: tuple[str, ...] = (),
    extra_agencies: tuple[str, ...] = (),
) -> list[Credit]:
    """Every credit in ``text`` and ``links``, each marked if it names the parent."""
    credits: list[Credit] = []
    folded = _Folded(text)
    agencies = load_agencies(extra_agencies)
    parent_names = _names(parent_source, parent_aliases)
    # the parent's canonical agency, if the parent is an agency under another name
    parent_agency = None
    for canonical, aliases in agencies.items():
        plain = {a.lstrip("=").lower() for a in aliases} | {canonical.lower()}
        if parent_source and parent_source.lower() in plain:
            parent_agency = canonical
            parent_names += _names(canonical, aliases)
    # 1. links
    links = [link for link in links if link]
    if parent_url:
        target = _norm_url(parent_url)
        for link in links:
            if _norm_url(link) == target:
                credits.append(Credit("link", None, None, link, parent_url, True))
                break
        else:
            domain = _domain(parent_url)
            for link in links:
                if domain and _domain(link) == domain:
                    credits.append(Credit("link-domain", None, None, link, domain, True))
                    break
    # 2. the parent named in the text
    for name, case_sensitive in parent_names:
        pattern = _compiled(name, case_sensitive)
        hay = text if case_sensitive else folded.text
        for m in pattern.finditer(hay):
            b, e = (m.start(), m.end()) if case_sensitive else folded.span(m.start(), m.end())
            credits.append(Credit("names-source", b, e, text[b:e], parent_source, True))
            break
    # 3. agency credits (any agency; names the parent if it is the parent's agency)
    for canonical, aliases in agencies.items():
        for name, case_sensitive in _names(None, aliases):
            pattern = _compiled(name, case_sensitive)
            hay = text if case_sensitive else folded.text
            m = pattern.search(hay)
            if m:
                b, e = (m.start(), m.end()) if case_sensitive else folded.span(m.start(), m.end())
                credits.append(
                    Credit("agency", b, e, text[b:e], canonical, canonical == parent_agency)
                )
                break
    # 4. phrases
    for phrase in load_phrases(extra_phrases):
        if phrase.kind == "byline":
            pattern = re.compile(
                r"(?:^|\n)\s*(" + re.escape(phrase.text) + r"\s+[^\n]{2,80})", re.IGNORECASE
            )
            m = pattern.search(text)
            if m:
                line = m.group(1)
                names_parent = any(
                    _compiled(n, cs).search(line if cs else line.translate(_TABLE).lower())
                    for n, cs in parent_names
                )
                credits.append(Credit("byline", m.start(1), m.end(1), line, None, names_parent))
            continue
        for m in _compiled(phrase.text, False).finditer(folded.text):
            b, e = folded.span(m.start(), m.end())
            # what follows (credit) or precedes (said) names whom it credits
            window = text[e : e + 80] if phrase.kind == "credit" else text[max(0, b - 80) : b]
            names_parent = any(
                _compiled(n, cs).search(window if cs else window.translate(_TABLE).lower())
                for n, cs in parent_names
            )
            credits.append(Credit("phrase", b, e, text[b:e], None, names_parent))
    # 5. quoting the copied passage
    for begin, end in quoted_spans:
        before = text[max(0, begin - 3) : begin]
        after = text[end : end + 3]
        if any(q in before for q in QUOTES_OPEN) and any(q in after for q in QUOTES_CLOSE):
            credits.append(Credit("quote", begin, end, text[begin:end][:200], None, False))
    return credits


def is_attributed(credits: list[Credit]) -> bool:
    """A copy credits its parent when some credit names it (a link to it counts)."""
    return any(c.names_parent for c in credits)


def best_credit(credits: list[Credit]) -> Credit | None:
    """The most specific credit to the parent, else the first credit to anyone."""
    order = {
        "link": 0,
        "names-source": 1,
        "agency": 2,
        "byline": 3,
        "phrase": 4,
        "link-domain": 5,
        "quote": 6,
    }
    to_parent = sorted((c for c in credits if c.names_parent), key=lambda c: order.get(c.kind, 9))
    if to_parent:
        return to_parent[0]
    return credits[0] if credits else None
