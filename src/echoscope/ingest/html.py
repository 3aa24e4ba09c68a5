"""HTML pages to main text, title, date and outbound links.

Boilerplate (menus, footers, "related stories") would make every page of a site look
like a copy of every other, so the main text comes from trafilatura's extractor. The
page is hostile: scripts and styles are dropped, nothing is executed, and links are
kept only as absolute http(s) URLs.

That extractor's time grows faster than the page (150,000 paragraphs took minutes) and
lxml under it stops reading below 256 levels of nesting, losing the text there. So one
linear pass first counts a page's elements and its depth; past ``MAX_ELEMENTS`` or
``MAX_DEPTH`` the page goes to a plain-text extractor on the standard library's
streaming parser, which keeps all the visible text in linear time and cannot lose depth,
and the extract says so in ``warnings``. The limits are counts, not a clock, so the same
page always gives the same text.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from urllib.parse import urljoin, urlsplit

from echoscope.ingest.dates import DateError, parse_date
from echoscope.ingest.language import normalize_language
from echoscope.model import TimePrecision

MAX_LINKS = 1000
MAX_ELEMENTS = 12_000  # the main-text extractor takes about a second here, minutes at 150k
MAX_DEPTH = 180  # lxml stops at 256; the scan below overcounts unclosed tags a little
_DATE_META = (
    "article:published_time",
    "og:published_time",
    "datepublished",
    "pubdate",
    "publishdate",
    "date",
    "dc.date",
    "dc.date.issued",
    "dcterms.created",
    "sailthru.date",
    "parsely-pub-date",
)


@dataclass
class HtmlExtract:
    text: str
    title: str | None = None
    published_at: datetime | None = None
    precision: TimePrecision = TimePrecision.UNKNOWN
    date_raw: str | None = None
    date_error: str | None = None  # why date_raw could not be read
    language: str | None = None
    links: list[str] = field(default_factory=list)
    author: str | None = None
    sitename: str | None = None
    canonical_url: str | None = None
    warnings: list[str] = field(default_factory=list)  # "html: ..." for doc.warnings


def looks_like_html(head: str) -> bool:
    sample = head[:4096].lstrip().lower()
    return (sample.startswith(("<!doctype html", "<html", "<?xml")) and "<html" in sample) or bool(
        re.search(r"<(html|head|body|article|div|p)[\s>]", sample)
    )


def _tree(html: str):
    import lxml.html

    try:
        return lxml.html.fromstring(html)
    except (ValueError, TypeError, Exception):  # lxml raises its own ParserError types
        return None


def outbound_links(tree, base_url: str | None) -> list[str]:
    if tree is None:
        return []
    out: list[str] = []
    seen: set[str] = set()
    # Links inside the article body are the ones that credit or cite; menus are noise.
    scopes = tree.xpath("//article") or tree.xpath("//main")
    hrefs = (
        [h for scope in scopes for h in scope.xpath(".//a/@href")]
        if scopes
        else tree.xpath("//a/@href")
    )
    for href in hrefs:
        href = str(href).strip()
        if not href or href.startswith(("#", "javascript:", "mailto:", "data:", "tel:")):
            continue
        url = urljoin(base_url, href) if base_url else href
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            continue
        if url not in seen:
            seen.add(url)
            out.append(url)
            if len(out) >= MAX_LINKS:
                break
    return out


def _meta_date(tree) -> str | None:
    if tree is None:
        return None
    for el in tree.xpath("//meta[@content]"):
        key = (el.get("property") or el.get("name") or el.get("itemprop") or "").strip().lower()
        if key in _DATE_META:
            return el.get("content")
    for script in tree.xpath("//script[@type='application/ld+json']/text()"):
        if len(script) > 200_000:
            continue
        try:
            data = json.loads(script)
        except ValueError:
            continue
        for item in data if isinstance(data, list) else [data]:
            if isinstance(item, dict) and isinstance(item.get("datePublished"), str):
                return item["datePublished"]
    for value in tree.xpath("//time[@datetime]/@datetime")[:1]:
        return str(value)
    return None


def text_of_fragment(html: str) -> str:
    """Visible text of a small HTML fragment (a feed summary), scripts removed."""
    if "<" not in html:
        return html
    elements, depth = page_shape(html)
    if elements > MAX_ELEMENTS or depth > MAX_DEPTH:
        return plain_text(html)
    tree = _tree(f"<div>{html}</div>")
    if tree is None:
        return re.sub(r"<[^>]+>", " ", html)
    for bad in tree.xpath(
        "//script|//style|//noscript|//template|//comment()|//processing-instruction()"
    ):
        bad.drop_tree()
    parts = []
    for block in tree.iter():
        if not isinstance(block.tag, str):
            continue
        if block.tag in ("p", "br", "div", "li", "h1", "h2", "h3", "h4", "blockquote") and parts:
            parts.append("\n")
        if block.text and block.tag not in ("script", "style"):
            parts.append(block.text)
        if block.tail:
            parts.append(block.tail)
    return re.sub(r"[ \t]+", " ", "".join(parts)).strip()


def extract_html(html: str, url: str | None = None, tz: tzinfo = UTC) -> HtmlExtract:
    """Main text and metadata of one page. Returns empty text when there is none; never
    raises on the page's content."""
    tree = _tree(html)
    canonical = None
    if tree is not None:
        for href in tree.xpath("//link[@rel='canonical']/@href")[:1]:
            if urlsplit(str(href)).scheme in ("http", "https"):
                canonical = str(href)
    base = url or canonical
    warnings: list[str] = []
    elements, depth = page_shape(html)
    if depth > MAX_DEPTH:
        warnings.append(
            f"html: elements nested {depth:,} deep, beyond the {MAX_DEPTH} the main-text "
            "extractor reads; used the plain-text extractor, which keeps all the text "
            "but may keep menus and footers too"
        )
    elif elements > MAX_ELEMENTS:
        warnings.append(
            f"html: page has {elements:,} elements, over the {MAX_ELEMENTS:,} the main-text "
            "extractor reads in good time; used the fast plain-text extractor, so menus "
            "and footers may remain in the text"
        )
    data: dict = {}
    if warnings:
        text = plain_text(html)
    else:
        data = _trafilatura(html, base)
        text = data.get("text") or ""
        if not text and tree is not None:
            text = text_of_fragment(html)
    title = data.get("title")
    if not title and tree is not None:
        found = tree.xpath("//title/text()")
        title = str(found[0]).strip() if found else None
    result = HtmlExtract(
        text=text,
        title=title,
        links=outbound_links(tree, base),
        author=data.get("author") or _meta_content(tree, "author", "article:author"),
        sitename=data.get("sitename") or _meta_content(tree, "og:site_name"),
        canonical_url=canonical,
        warnings=warnings,
    )
    lang = tree.get("lang") if tree is not None else None
    result.language = normalize_language(lang) if lang else None
    raw = _meta_date(tree) or data.get("date")
    if raw:
        result.date_raw = str(raw)[:200]
        try:
            result.published_at, result.precision = parse_date(str(raw), tz)
        except DateError as exc:
            result.date_error = str(exc)
    return result


def _trafilatura(html: str, base: str | None) -> dict:
    """trafilatura's main text and metadata; empty when it fails. Dates are looked for
    in the page's markup and URL only, not in its running text, where any date the story
    mentions (a quoted wire header, a court date) would pass for its publication."""
    import trafilatura

    try:
        doc = trafilatura.bare_extraction(
            html,
            url=base,
            with_metadata=True,
            include_comments=False,
            include_tables=True,
            date_extraction_params={"extensive_search": False, "original_date": True},
        )
    except Exception:
        return {}
    if doc is None:
        return {}
    data = doc.as_dict() if hasattr(doc, "as_dict") else doc
    return data if isinstance(data, dict) else {}


def _meta_content(tree, *keys: str) -> str | None:
    if tree is None:
        return None
    for el in tree.xpath("//meta[@content]"):
        key = (el.get("property") or el.get("name") or "").strip().lower()
        if key in keys:
            value = str(el.get("content")).strip()
            if value:
                return value[:500]
    return None


_VOID = frozenset(
    [
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
        "keygen",
    ]
)
_SELF_CLOSING = frozenset(
    [
        "p",
        "li",
        "dt",
        "dd",
        "option",
        "optgroup",
        "tr",
        "td",
        "th",
        "thead",
        "tbody",
        "tfoot",
        "rt",
        "rp",
    ]
)
_TAG_SCAN = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9:-]*)[^<>]*?(/?)>")


def page_shape(html: str) -> tuple[int, int]:
    """(elements, deepest nesting) of a page in one linear pass over its tags.

    Not a parser: closing tags are matched against the few innermost open elements only
    (so a stray closing tag costs nothing), and elements HTML closes by themselves (``p``,
    ``li``, table cells) end when a sibling opens. Good enough to tell a page the
    main-text extractor can read from one it cannot."""
    if html.count("<") <= MAX_DEPTH:
        return html.count("<"), 0
    elements = 0
    deepest = 0
    stack: list[str] = []
    for m in _TAG_SCAN.finditer(html):
        name = m[2].lower()
        if m[1]:
            for i in range(len(stack) - 1, max(len(stack) - 32, 0) - 1, -1):
                if stack[i] == name:
                    del stack[i:]
                    break
            continue
        elements += 1
        if name in _VOID or m[3]:
            continue
        if name in _SELF_CLOSING:
            for i in range(len(stack) - 1, max(len(stack) - 8, 0) - 1, -1):
                if stack[i] == name:
                    del stack[i:]
                    break
        stack.append(name)
        if len(stack) > deepest:
            deepest = len(stack)
    return elements, deepest


_BLOCKS = frozenset(
    [
        "address",
        "article",
        "aside",
        "blockquote",
        "body",
        "br",
        "dd",
        "details",
        "dialog",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "summary",
        "table",
        "td",
        "th",
        "tr",
        "ul",
    ]
)
_RAW_TEXT = {  # their content is never text, and ends only at their own closing tag
    "script": re.compile(r"</script[\s/>]", re.IGNORECASE),
    "style": re.compile(r"</style[\s/>]", re.IGNORECASE),
}
_DROPPED = frozenset({"head", "title", "noscript", "template", "nav", "footer", "svg", "math"})
_TAG_NAME = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9:-]*)")
# the rest of a tag up to its '>', quoted attribute values included; possessive, so a
# failed match costs one pass and no backtracking
_TAG_REST = re.compile(r"""(?:[^>"']++|"[^"]*+"|'[^']*+')*+>""")


def plain_text(html: str) -> str:
    """All visible text of a page, paragraph by paragraph, in time linear in its size.

    A small tokenizer of its own, with no tree, so nesting depth costs nothing; the
    standard library's parser takes quadratic time on some broken markup. The contents of
    ``script`` and ``style`` never count as text; those of ``head``, ``noscript``,
    ``template``, ``nav``, ``footer`` (and ``svg``, ``math``) are dropped once they close:
    an element left open would otherwise take the rest of the page with it."""
    import html as html_lib

    parts: list[str] = []
    dropping: list[tuple[str, int]] = []  # dropped elements open, and where they began
    n = len(html)
    pos = 0
    quotes_balanced = True  # after one unclosed quote, tags end at the next '>'
    while pos < n:
        lt = html.find("<", pos)
        if lt < 0:
            parts.append(html_lib.unescape(html[pos:]))
            break
        if lt > pos:
            parts.append(html_lib.unescape(html[pos:lt]))
        if html.startswith("<!--", lt):
            end = html.find("-->", lt + 4)
            pos = n if end < 0 else end + 3
            continue
        m = _TAG_NAME.match(html, lt)
        if m is None:
            if html.startswith(("<!", "<?"), lt):  # doctype, CDATA, processing instruction
                end = html.find(">", lt + 2)
                pos = n if end < 0 else end + 1
            else:
                parts.append("<")
                pos = lt + 1
            continue
        rest = _TAG_REST.match(html, m.end()) if quotes_balanced else None
        if rest is not None:
            pos = rest.end()
        else:
            quotes_balanced = False
            end = html.find(">", m.end())
            pos = n if end < 0 else end + 1
        closing, name = bool(m[1]), m[2].lower()
        if not closing and name in _RAW_TEXT:
            found = _RAW_TEXT[name].search(html, pos)
            if found is None:
                break
            end = html.find(">", found.start())
            pos = n if end < 0 else end + 1
            continue
        if name in _DROPPED:
            if not closing:
                dropping.append((name, len(parts)))
            else:
                _close_dropped(parts, dropping, name)
        elif name == "body" and not closing:
            _close_dropped(parts, dropping, "head")
        if name in _BLOCKS:
            parts.append("\n")
    lines = (" ".join(line.split()) for line in "".join(parts).split("\n"))
    return "\n".join(line for line in lines if line)


def _close_dropped(parts: list[str], dropping: list[tuple[str, int]], name: str) -> None:
    """Drop the text of the innermost open ``name`` (searched a few levels deep only)."""
    for i in range(len(dropping) - 1, max(len(dropping) - 16, 0) - 1, -1):
        if dropping[i][0] == name:
            del parts[dropping[i][1] :]
            del dropping[i:]
            return
