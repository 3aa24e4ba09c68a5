"""The self-contained HTML report: one file a journalist can open, archive and share.

Every value from a document is hostile: it is escaped here and nowhere evaluated. The
file loads nothing from the network.
"""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

from echoscope import __version__
from echoscope.store import Store

EXCERPT = 280
MAX_ROWS = 2000
MAX_LINKS = 200
MAX_SOURCES = 200  # sources listed, those that repeat most without credit first
CLAIM_CLUSTERS = 20  # claim clusters shown, most widely stated first
CLAIM_DOCS = 50  # documents shown per claim cluster
CLAIM_CHARS = 400  # longest sentence shown; the rest is cut with an ellipsis

_CSS = """
body{font:15px/1.5 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:72rem;color:#1d1d1f;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem} h2{margin-top:2rem;border-bottom:1px solid #ddd}
.muted{color:#666} table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{text-align:left;vertical-align:top;padding:.35rem .5rem;border-bottom:1px solid #eee}
th{background:#fafafa} .num{text-align:right;font-variant-numeric:tabular-nums}
.tag{display:inline-block;padding:0 .4rem;border-radius:.3rem;background:#eef;font-size:.8rem}
.excerpt{color:#333;max-width:40rem} code{font-size:.85rem} mark{background:#ffe08a}
.cards{display:flex;gap:1rem;flex-wrap:wrap} .card{border:1px solid #ddd;border-radius:.5rem;padding:.6rem 1rem}
.card b{display:block;font-size:1.4rem}
"""


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _when(value: object) -> str:
    """A time for a table cell, escaped."""
    from echoscope.trace.cascade import when_text

    return _e(when_text(value))


def write_report(store: Store, out: str | Path, title: str = "echoscope report") -> Path:
    out = Path(out)
    stats = store.stats()
    docs = store.con.execute(
        "SELECT id, source, published_at, time_source, time_precision, title, language, url, "
        "substr(text, 1, ?) AS excerpt, length(text) AS chars FROM documents "
        "ORDER BY published_at NULLS LAST, seq LIMIT 5000",
        [EXCERPT],
    ).fetchall()
    rejects = store.con.execute(
        "SELECT origin, position, reason FROM rejects ORDER BY created_at LIMIT 500"
    ).fetchall()
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
        f"<p class='muted'>Generated {_e(datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC'))} by echoscope "
        f"{_e(__version__)} from <code>{_e(stats['db'])}</code>.</p>",
        "<div class='cards'>",
        f"<div class='card'><b>{stats['documents']:,}</b>documents</div>",
        f"<div class='card'><b>{stats['source_count']:,}</b>sources</div>",
        f"<div class='card'><b>{stats['rejects']:,}</b>rejected inputs</div>",
        f"<div class='card'><b>{_e((stats['date_range']['min'] or '?')[:16])}</b>first published</div>",
        f"<div class='card'><b>{_e((stats['date_range']['max'] or '?')[:16])}</b>last published</div>",
        "</div>",
    ]
    # Findings first (who copied whom, what was copied), then the inventory.
    parts.extend(_cascade_section(store))
    parts.extend(_reuse_section(store))
    parts.extend(_claims_section(store))
    parts.extend(_sources_section(store, stats["sources"]))
    parts.append(
        "<h2>Timeline</h2><p class='muted'>Every document in publication order (UTC). "
        "'time from' says how the time was known.</p>"
        "<table><tr><th>published</th><th>time from</th><th>source</th><th>title / text</th><th>id</th></tr>"
    )
    for doc_id, source, published, tsrc, prec, dtitle, lang, url, excerpt, chars in docs:
        when = _format_time(published, prec)
        link = (
            f" <a href='{_e(url)}' rel='noopener noreferrer nofollow'>link</a>"
            if url and url.startswith(("http://", "https://"))
            else ""
        )
        more = "…" if chars and chars > EXCERPT else ""
        parts.append(
            f"<tr><td>{_e(when)}</td><td><span class='tag'>{_e(tsrc)}</span></td><td>{_e(source)}</td>"
            f"<td class='excerpt'><b>{_e(dtitle or '')}</b> <span class='tag'>{_e(lang or '?')}</span>{link}<br>"
            f"{_e(excerpt)}{more}</td><td><code>{_e(doc_id)}</code></td></tr>"
        )
    parts.append("</table>")
    if rejects:
        parts.append(
            "<h2>Rejected inputs</h2><table><tr><th>input</th><th>where</th><th>why</th></tr>"
        )
        for origin, position, reason in rejects:
            parts.append(
                f"<tr><td><code>{_e(origin)}</code></td><td>{_e(position)}</td><td>{_e(reason)}</td></tr>"
            )
        parts.append("</table>")
    parts.append(
        "<script type='application/json' id='echoscope-data'>"
        + _e(json.dumps({"documents": stats["documents"], "rejects": stats["rejects"]}))
        + "</script>"
    )
    parts.append("</body></html>")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(parts), encoding="utf-8")
    return out


def _sources_section(store: Store, documents: dict[str, int]) -> list[str]:
    """Per source: documents, and from the trees how often it was first, how often it
    copied, and how many copies gave no credit; sources that copy most without credit
    first. Empty cells before the trees are built."""
    import duckdb

    from echoscope.trace.cascade import source_stats

    per: dict[str, dict[bool, dict]] = {}
    for claims in (False, True):
        try:
            frame = source_stats(store, claims=claims)
        except duckdb.CatalogException:  # a store from before the cascade stage
            continue
        for row in frame.to_dict(orient="records"):
            name = "(none)" if row["source"] is None else str(row["source"])  # as in stats
            per.setdefault(name, {})[claims] = row
    cells = ("originated", "copied", "uncredited")

    def order(name: str) -> tuple:
        kinds = per.get(name, {})
        uncredited = sum(k["uncredited"] for k in kinds.values())
        return (-uncredited, -documents.get(name, 0), name)

    parts = [
        "<h2>Sources</h2><p class='muted'>Per source, in the propagation trees: how often it "
        "was first, how often it repeated an earlier source, and how many of its repeats "
        "gave no credit. Copied text counts documents; claims count each claim a document "
        "states. Sources that repeat most without credit come first.</p>"
    ]
    if len(documents) > MAX_SOURCES:
        parts.append(
            f"<p class='muted'>The first {MAX_SOURCES} of {len(documents):,} sources are shown "
            "(<code>echoscope stats</code> lists every source, "
            "<code>echoscope sources --limit 0</code> every one in a tree).</p>"
        )
    parts.append(
        "<table><tr><th rowspan='2'>source</th><th class='num' rowspan='2'>documents</th>"
        "<th colspan='3'>copied text</th><th colspan='3'>claims</th></tr><tr>"
        + "<th class='num'>first</th><th class='num'>copies</th><th class='num'>uncredited</th>"
        + "<th class='num'>first</th><th class='num'>repeats</th><th class='num'>uncredited</th>"
        "</tr>"
    )
    for name in sorted(documents, key=order)[:MAX_SOURCES]:
        row = [f"<td>{_e(name)}</td><td class='num'>{documents[name]:,}</td>"]
        for claims in (False, True):
            found = per.get(name, {}).get(claims)
            row += [
                f"<td class='num'>{int(found[c]):,}</td>" if found else "<td class='num'></td>"
                for c in cells
            ]
        parts.append("<tr>" + "".join(row) + "</tr>")
    parts.append("</table>")
    return parts


def _cascade_section(store: Store) -> list[str]:
    """First appearances and who copied whom, with the credit each copy gave."""

    from echoscope.trace.cascade import origins, other_credit, relation_words, tree

    top = origins(store, limit=50)
    if top.empty:
        return []
    parts = [
        "<h2>Propagation</h2><p class='muted'>For each cluster of copied text: the first appearance, "
        "then every copy with its most likely source, the confidence of that edge, and whether the copy "
        "credits its source.</p>"
    ]
    for row in top.head(20).itertuples():
        members = tree(store, int(row.cluster_id))
        parts.append(
            f"<h3>Cluster {row.cluster_id}: first seen at {_e(row.first_source)} "
            f"({_when(row.first_published)}), "
            f"{row.documents} documents, "
            f"{row.unattributed} of {row.copies} copies without credit</h3>"
            "<table><tr><th>published</th><th>source</th><th>document</th><th>copies</th>"
            "<th>confidence</th><th>credit</th></tr>"
        )
        for m in members.itertuples():
            parent = (
                ""
                if m.parent is None or m.parent != m.parent
                else f"{_e(m.parent_source)} <code>{_e(m.parent)}</code>"
            )
            if not parent:
                credit, conf = "first appearance", ""
            else:
                credit = (
                    f"✔ {_e(m.credit_kind)}: {_e(m.credit_text)}"
                    if m.attributed
                    else "✘ none found"
                )
                if not m.attributed and (other := other_credit(m.evidence)):
                    credit += f"<br><span class='muted'>credits another source: {_e(other)}</span>"
                conf = f"{m.confidence:.2f} ({_e(relation_words(m.time_relation))})"
            parts.append(
                f"<tr><td>{_when(m.published_at)}</td><td>{_e(m.source)}</td><td><code>{_e(m.doc)}</code></td>"
                f"<td>{parent}</td><td>{conf}</td><td>{credit}</td></tr>"
            )
        parts.append("</table>")
    return parts


def _reuse_section(store: Store) -> list[str]:
    """Clusters of copied text, and every link with its passages side by side."""
    from echoscope.detect.reuse import results
    from echoscope.present.diff import diff_words, to_html

    links = results.links(store)
    if links.empty:
        return []
    parts = [
        "<h2>Copied passages</h2>",
        f"<p class='muted'>{len(links):,} reuse links. A is the earlier document, B the later one; "
        "<mark>marked</mark> words differ between the two.</p>",
    ]
    clusters = results.clusters(store)
    if not clusters.empty:
        parts.append(
            "<h3>Reuse clusters</h3><table><tr><th>cluster</th><th>published</th><th>source</th><th>document</th><th>passage</th></tr>"
        )
        for row in clusters.head(MAX_ROWS).itertuples():
            parts.append(
                f"<tr><td>{row.cluster_id}</td><td>{_when(row.published_at)}</td><td>{_e(row.source)}</td>"
                f"<td><code>{_e(row.doc)}</code></td><td class='excerpt'>{_e(row.excerpt)}</td></tr>"
            )
        parts.append("</table>")
    shown = links[links["method"] != "exact"].head(MAX_LINKS)
    passages = results.passages(store, shown["link_id"].tolist()) if len(shown) else None
    for link in shown.itertuples():
        parts.append(
            f"<h3>{_e(link.kind)}: <code>{_e(link.doc_b)}</code> ({_e(link.source_b)}) from "
            f"<code>{_e(link.doc_a)}</code> ({_e(link.source_a)})</h3>"
            f"<p class='muted'>identity {link.identity:.2f}; covers {link.coverage_b:.0%} of B and "
            f"{link.coverage_a:.0%} of A; found by {_e(link.method)}</p>"
            "<table><tr><th>A (earlier)</th><th>B (later)</th></tr>"
        )
        for p in passages[passages["link_id"] == link.link_id].itertuples():  # type: ignore[index]
            a, b = diff_words(p.text_a, p.text_b)
            parts.append(
                f"<tr><td class='excerpt'>{to_html(a)}<br><span class='muted'>chars {p.a_begin}–{p.a_end}</span></td>"
                f"<td class='excerpt'>{to_html(b)}<br><span class='muted'>chars {p.b_begin}–{p.b_end}</span></td></tr>"
            )
        parts.append("</table>")
    exact = links[links["method"] == "exact"]
    if len(exact):
        parts.append(
            f"<h3>Identical texts</h3><p class='muted'>{len(exact):,} "
            f"{'document repeats' if len(exact) == 1 else 'documents repeat'} another word for word.</p>"
            "<table><tr><th>first</th><th>repeated by</th><th>published</th></tr>"
        )
        for link in exact.head(MAX_ROWS).itertuples():
            parts.append(
                f"<tr><td><code>{_e(link.doc_a)}</code> ({_e(link.source_a)})</td>"
                f"<td><code>{_e(link.doc_b)}</code> ({_e(link.source_b)})</td><td>{_when(link.published_b)}</td></tr>"
            )
        parts.append("</table>")
    return parts


# One query for the whole section. Documents per cluster are counted in a hash aggregate
# and only the top clusters are expanded. A cluster joins sentences by chains of matches,
# so its ends can state different things; each cluster is therefore anchored on its
# central sentence (the one matched by the most documents), and each document shows its
# sentence that matches that one best ("direct"), or else its best match in the cluster.
# Sentences are cut in SQL, so a huge "sentence" is never read whole.
_CLAIMS_SQL = """
WITH sizes AS (
    SELECT c.cluster_id, count(DISTINCT s.seq) AS docs
    FROM claim_clusters c JOIN claim_sentences s ON s.row = c.row
    GROUP BY c.cluster_id HAVING count(DISTINCT s.seq) >= 2
), top AS (
    SELECT cluster_id, docs, count(*) OVER () AS total FROM sizes
    ORDER BY docs DESC, cluster_id LIMIT ?
), members AS (
    SELECT t.cluster_id, t.docs, t.total, c.row, c.score
    FROM top t JOIN claim_clusters c ON c.cluster_id = t.cluster_id
), edges AS (
    SELECT row_a AS r, row_b AS o, score FROM claim_links
    WHERE status = ? AND row_a IN (SELECT row FROM members)
    UNION ALL
    SELECT row_b, row_a, score FROM claim_links
    WHERE status = ? AND row_b IN (SELECT row FROM members)
    UNION ALL
    SELECT row, row, 1.0 FROM members
), central AS (
    SELECT m.cluster_id, m.row AS central
    FROM members m JOIN edges e ON e.r = m.row JOIN claim_sentences s ON s.row = e.o
    GROUP BY m.cluster_id, m.row
    QUALIFY row_number() OVER (
        PARTITION BY m.cluster_id ORDER BY count(DISTINCT s.seq) DESC, m.row
    ) = 1
), per_doc AS (
    SELECT m.cluster_id, m.docs, m.total, s.seq, s."begin", s."end",
        e.score IS NOT NULL AS direct, coalesce(e.score, m.score) AS score
    FROM members m JOIN central k ON k.cluster_id = m.cluster_id
    JOIN claim_sentences s ON s.row = m.row
    LEFT JOIN edges e ON e.r = k.central AND e.o = m.row
    QUALIFY row_number() OVER (
        PARTITION BY m.cluster_id, s.seq
        ORDER BY e.score IS NULL, e.score DESC, m.score DESC, s.idx
    ) = 1
)
SELECT p.cluster_id, p.docs, p.total, d.id, d.source, d.published_at, d.time_precision, d.url,
    substr(d.text, p."begin" + 1, least(p."end" - p."begin", ? + 1)) AS sentence,
    p.score, p.direct
FROM per_doc p JOIN documents d ON d.seq = p.seq
QUALIFY row_number() OVER (
    PARTITION BY p.cluster_id ORDER BY d.published_at NULLS LAST, p.score DESC, d.id
) <= ?
ORDER BY p.docs DESC, p.cluster_id, d.published_at NULLS LAST, p.score DESC, d.id
"""


class _ClaimRow(NamedTuple):
    """One document stating a claim, as _CLAIMS_SQL returns it."""

    cluster_id: int
    docs: int  # documents stating the cluster's claim
    total: int  # clusters stated in two or more documents
    doc_id: str
    source: str | None
    published_at: datetime | None
    precision: str
    url: str | None
    sentence: str
    score: float
    direct: bool  # matches the cluster's central sentence itself


def _claims_section(store: Store) -> list[str]:
    """The same claim in other words across documents, earliest first, so a reader sees
    who stated it before whom even where no text was copied."""
    from echoscope.detect.claims.match import SAME
    from echoscope.trace.time import first_ties

    rows = [
        _ClaimRow(*r)
        for r in store.con.execute(
            _CLAIMS_SQL, [CLAIM_CLUSTERS, SAME, SAME, CLAIM_CHARS, CLAIM_DOCS]
        ).fetchall()
    ]
    left_out = _boilerplate_note(store)
    if not rows:
        if not store.count("claim_sentences"):
            return []  # the claims stage has not run: nothing to say
        return [
            "<h2>Claims</h2><p class='muted'>No claim is stated in more than one document.</p>",
            *left_out,
        ]
    clusters: dict[int, list[_ClaimRow]] = {}
    for row in rows:
        clusters.setdefault(row.cluster_id, []).append(row)
    total = rows[0].total
    trees = _claim_parents(store, list(clusters))
    parts = [
        "<h2>Claims</h2><p class='muted'>The same claim in other words: for each claim, every "
        "document stating it in publication order (UTC), with the sentence as written and how "
        "surely it states the claim (score). 'first' is the earliest; 'first?' means another "
        "document's time cannot be told apart from it. 'related' documents match the claim "
        "only through other sentences of the group."
        + (
            " 'repeats' is the document each one most likely took the claim from (the claim's "
            "propagation tree), with the confidence of that edge and whether it credits it."
            if trees
            else ""
        )
        + "</p>"
    ]
    parts.extend(left_out)
    if total > len(clusters):
        parts.append(
            f"<p class='muted'>The {len(clusters)} claims stated by the most documents are shown; "
            f"{total - len(clusters):,} more are stated in two or more documents.</p>"
        )
    for members in clusters.values():
        cluster_id, docs = members[0].cluster_id, members[0].docs
        dated = [m for m in members if m.published_at is not None]
        # as `echoscope trace`: the earliest document stating the claim itself, if any
        pool = [m for m in dated if m.direct] or dated
        first = pool[0] if pool else None
        ties: list[str] = []
        certain = False
        if first is not None:
            ties, certain = first_ties(
                first.doc_id,
                first.published_at,
                first.precision,
                ((m.doc_id, m.published_at) for m in pool[1:]),
            )
        heading = (first or members[0]).sentence
        parts.append(
            f"<h3>Claim {cluster_id}: “{_e(_bounded(heading))}”</h3>"
            f"<p class='muted'>stated in {docs:,} documents"
            + (f"; the earliest {len(members)} are shown" if docs > len(members) else "")
            + "</p><table><tr><th></th><th>published</th><th>source</th><th>document</th>"
            "<th>sentence</th><th class='num'>score</th>"
            + ("<th>repeats</th><th>credit</th>" if trees else "")
            + "</tr>"
        )
        for m in members:
            if m is first:
                mark = "first" if certain else "first?"
            elif m.doc_id in ties:
                mark = "same time"
            else:
                mark = "" if m.direct else "related"
            tag = f"<span class='tag'>{_e(mark)}</span>" if mark else ""
            # the URL as text only: a link target would be content inside an attribute
            where = (
                f"<br><span class='muted'>{_e(m.url)}</span>" if m.url and m.url != m.doc_id else ""
            )
            parts.append(
                f"<tr><td>{tag}</td>"
                f"<td>{_e(_format_time(m.published_at, m.precision))}<br>"
                f"<span class='muted'>{_e(m.precision)}</span></td><td>{_e(m.source)}</td>"
                f"<td><code>{_e(m.doc_id)}</code>{where}</td>"
                f"<td class='excerpt'>{_e(_bounded(m.sentence))}</td>"
                f"<td class='num'>{m.score:.2f}</td>"
                + (_tree_cells(trees.get((cluster_id, m.doc_id))) if trees else "")
                + "</tr>"
            )
        parts.append("</table>")
        if first is not None and not certain:
            why = (
                f"cannot be told apart from: {', '.join(ties)}"
                if ties
                else "is not known precisely"
            )
            parts.append(
                f"<p class='muted'>first: <code>{_e(first.doc_id)}</code>, but its time "
                f"({_e(first.precision)} precision) {_e(why)}.</p>"
            )
    return parts


def _boilerplate_note(store: Store) -> list[str]:
    """Say how many sentences the claims stage left out as a source's template."""
    from echoscope.detect.claims.stage import state

    boilerplate = int(state(store).get("boilerplate", "0"))
    if not boilerplate:
        return []
    return [
        f"<p class='muted'>{boilerplate:,} sentences are left out: each is repeated word for "
        "word by one source across three or more of its articles that otherwise have little "
        "in common (a sign-off, a promotion, a standing credit line), so it is the source's "
        "template, not a claim.</p>"
    ]


def _claim_parents(store: Store, cluster_ids: list[int]) -> dict[tuple[int, str], tuple]:
    """(cluster, document) -> (parent id, parent source, confidence, relation, credited,
    credit kind, credit text) from the claim trees; empty before the cascade stage ran."""
    from echoscope.trace.cascade import claim_parents

    return {(r[0], r[1]): r[2:] for r in claim_parents(store, cluster_ids)}


def _tree_cells(edge: tuple | None) -> str:
    """The 'repeats' and 'credit' cells of one document (plain text: ids are content)."""
    if edge is None:
        return "<td></td><td></td>"
    parent, source, confidence, relation, credited, kind, text = edge
    if parent is None:
        return "<td>first appearance</td><td></td>"
    credit = f"✔ {_e(kind)}: {_e(_bounded(text))}" if credited else "✘ none found"
    return (
        f"<td>{_e(source)} · {_e(parent)}<br><span class='muted'>{confidence:.2f} "
        f"({_e(relation)})</span></td><td>{credit}</td>"
    )


def _bounded(text: str | None) -> str:
    """Cut at CLAIM_CHARS, so one run-on sentence cannot swamp the page."""
    text = text or ""
    return text if len(text) <= CLAIM_CHARS else text[:CLAIM_CHARS].rstrip() + "…"


def _format_time(value: datetime | None, precision: str) -> str:
    if value is None:
        return "unknown"
    if precision == "day":
        return value.strftime("%Y-%m-%d")
    if precision == "minute":
        return value.strftime("%Y-%m-%d %H:%M")
    return value.strftime("%Y-%m-%d %H:%M:%S")
