"""News-agency wire copy: the filing header and paragraph marks.

Agency stories carry their own filing time (``16:54 01/03/00: Page 1 (ZSM) COURTS ...``),
the best evidence of when the copy existed, and mark paragraphs with ``<`` at line end
inside hard-wrapped lines. Reading both gives a trustworthy time and clean paragraphs.

A filing header counts only at the very top of a document, with nothing but rules and
blank lines (or, in a page, markup) before it. A blog post that quotes an agency header
halfway down is not agency copy: its lead paragraph stays and its own date is kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from echoscope.model import TimePrecision

_RULE = re.compile(r"^\s*-{10,}\s*$")
_FILING = re.compile(
    r"^\s*(?P<hh>\d{1,2}):(?P<mm>\d{2})\s+(?P<d>\d{1,2})/(?P<m>\d{1,2})/(?P<y>\d{2,4})"
    r":?\s*(?P<rest>.*)$"
)


@dataclass
class WireCopy:
    text: str
    filed_at: datetime | None
    precision: TimePrecision
    header: str
    headline: str | None


def parse_wire(text: str) -> WireCopy | None:
    """Split an agency header off ``text``; None when the text has no such header."""
    lines = text.split("\n")
    top = lines[:12]
    if not any(_RULE.match(line) for line in top):
        return None
    filing_idx = None
    match = None
    for i, line in enumerate(top):
        m = _FILING.match(line)
        if m:
            filing_idx, match = i, m
            break
    if match is None or filing_idx is None:
        return None
    if any(line.strip() and not _RULE.match(line) for line in lines[:filing_idx]):
        return None  # text before the header: a quoted header, not agency copy
    body_start = filing_idx + 1
    while body_start < len(lines) and (
        _RULE.match(lines[body_start]) or not lines[body_start].strip()
    ):
        body_start += 1
    filed = _filing_datetime(match)
    body = _unwrap("\n".join(lines[body_start:]))
    headline = body.split("\n", 1)[0].strip() if body else None
    return WireCopy(
        text=body,
        filed_at=filed,
        precision=TimePrecision.MINUTE if filed else TimePrecision.UNKNOWN,
        header=lines[filing_idx].strip(),
        headline=headline if is_headline(headline) else None,
    )


_FILING_IN_PAGE = re.compile(
    r"(?P<hh>\d{1,2}):(?P<mm>\d{2})\s+(?P<d>\d{1,2})/(?P<m>\d{1,2})/(?P<y>\d{2,4}):\s*Page\s+\d+[^<\n]*"
)


_HEAD_END = re.compile(r"</head\s*>|<body\b[^>]*>", re.IGNORECASE)
_INVISIBLE = re.compile(
    r"<(script|style|title|noscript|template)\b[^>]*>.*?</\1\s*>|<!--.*?-->",
    re.IGNORECASE | re.DOTALL,
)
_TAG = re.compile(r"<[^>]*>")
_RULE_CHARS = re.compile(r"[\s\-_=*\u00a0]+")


def find_filing_in_html(html: str) -> tuple[datetime, str] | None:
    """Agency copy saved as a web page keeps its filing line inside markup; find it at the
    top, before any visible text. Requires the ``: Page N`` marker so that ordinary dates
    do not match."""
    head = html[:4000]
    m = _FILING_IN_PAGE.search(head)
    if not m or not _nothing_visible(head[: m.start()]):
        return None
    filed = _filing_datetime(m)
    return (filed, m.group(0).strip()) if filed else None


def _nothing_visible(markup: str) -> bool:
    """True when ``markup`` (at most a few KB) shows no text but rules and spaces."""
    import html as html_lib

    ends = list(_HEAD_END.finditer(markup))
    if ends:
        markup = markup[ends[-1].end() :]
    visible = html_lib.unescape(_TAG.sub(" ", _INVISIBLE.sub(" ", markup)))
    return not _RULE_CHARS.sub("", visible)


def _filing_datetime(match: re.Match[str]) -> datetime | None:
    year = int(match["y"])
    if len(match["y"]) == 2:  # '0001' is year 1, refused later, not 2001
        year += 2000 if year < 70 else 1900
    try:
        return datetime(year, int(match["m"]), int(match["d"]), int(match["hh"]), int(match["mm"]))
    except ValueError:
        return None


def unwrap(body: str) -> str:
    """Public name for paragraph-mark unwrapping, used on wire copy found inside HTML."""
    return _unwrap(body)


def _unwrap(body: str) -> str:
    """``<`` ends a paragraph; other line breaks are the wire's hard wrapping."""
    if "<\n" not in body and not body.rstrip().endswith("<"):
        return body.strip()
    paragraphs = re.split(r"<[ \t]*(?:\n|$)", body)
    out = []
    for para in paragraphs:
        joined = " ".join(part.strip() for part in para.split("\n") if part.strip())
        if joined:
            out.append(joined)
    return "\n\n".join(out)


def is_headline(line: str | None) -> bool:
    """A wire story's first line is its headline only on page 1; continuation pages start
    with body text (a sentence ending in a full stop)."""
    if not line:
        return False
    return (
        len(line) <= 160
        and len(line.split()) <= 20
        and not line.rstrip().endswith((".", ".'", '."'))
    )
