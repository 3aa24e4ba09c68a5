"""HTML pages to main text, title, date and outbound links.

Boilerplate (menus, footers, "related stories") would make every page of a site look
like a copy of every other, so the main text comes from trafilatura's extractor. The
page is hostile: scripts and styles are dropped, nothing is executed, and links are
kept only as absolute http(s) URLs.
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
    language: str | None = None
    links: list[str] = field(default_factory=list)
    author: str | None = None
    sitename: str | None = None
    canonical_url: str | None = None


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
    """Main text and metadata of one page. Returns empty text when there is none."""
    import trafilatura

    tree = _tree(html)
    canonical = None
    if tree is not None:
        for href in tree.xpath("//link[@rel='canonical']/@href")[:1]:
            if urlsplit(str(href)).scheme in ("http", "https"):
                canonical = str(href)
    base = url or canonical
    try:
        doc = trafilatura.bare_extraction(
            html, url=base, with_metadata=True, include_comments=False, include_tables=True
        )
    except Exception:
        doc = None
    data = (doc.as_dict() if hasattr(doc, "as_dict") else doc) if doc is not None else {}
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
        author=data.get("author"),
        sitename=data.get("sitename"),
        canonical_url=canonical,
    )
    lang = tree.get("lang") if tree is not None else None
    result.language = normalize_language(lang) if lang else None
    raw = _meta_date(tree) or data.get("date")
    if raw:
        result.date_raw = str(raw)[:200]
        try:
            result.published_at, result.precision = parse_date(str(raw), tz)
        except DateError:
            pass
    return result
