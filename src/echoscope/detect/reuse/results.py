"""Reading reuse results back as tables (the Python API and the CLI use these)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from echoscope.store import Store


def links(store: Store, include_boilerplate: bool = False, seq: int | None = None) -> pd.DataFrame:
    """One row per link: both documents (id, source, time), kind, scores, how found."""
    conds = [] if include_boilerplate else ["NOT l.boilerplate"]
    params: list[Any] = []
    if seq is not None:
        conds.append("(l.seq_a = ? OR l.seq_b = ?)")
        params = [int(seq), int(seq)]
    where = ("WHERE " + " AND ".join(conds)) if conds else ""
    return store.con.execute(
        f"""
        SELECT l.link_id, da.id AS doc_a, da.source AS source_a, da.published_at AS published_a,
               db.id AS doc_b, db.source AS source_b, db.published_at AS published_b,
               l.kind, l.method, l.passages, l.matched, l.identity, l.coverage_a, l.coverage_b,
               l.shared_shingles, l.boilerplate, l.seq_a, l.seq_b
        FROM reuse_links l
        JOIN documents da ON da.seq = l.seq_a JOIN documents db ON db.seq = l.seq_b
        {where}
        ORDER BY l.link_id
        """,
        params,
    ).df()


def passages(store: Store, link_ids: list[int] | None = None) -> pd.DataFrame:
    """Aligned passages with the exact text of both sides (slices of the stored texts)."""
    filt = ""
    params: list[Any] = []
    if link_ids is not None:
        filt = "WHERE p.link_id IN (SELECT unnest(?))"
        params = [list(map(int, link_ids))]
    return store.con.execute(
        f"""
        SELECT p.link_id, da.id AS doc_a, p.a_begin, p.a_end,
               substr(da.text, p.a_begin + 1, p.a_end - p.a_begin) AS text_a,
               db.id AS doc_b, p.b_begin, p.b_end,
               substr(db.text, p.b_begin + 1, p.b_end - p.b_begin) AS text_b,
               p.matched, p.identity
        FROM reuse_passages p
        JOIN documents da ON da.seq = p.seq_a JOIN documents db ON db.seq = p.seq_b
        {filt}
        ORDER BY p.link_id, p.a_begin
        """,
        params,
    ).df()


def clusters(store: Store) -> pd.DataFrame:
    """Cluster members: cluster id, document, source, time and the reused span."""
    return store.con.execute(
        """
        SELECT c.cluster_id, d.id AS doc, d.source, d.published_at, c."begin", c."end",
               substr(d.text, c."begin" + 1, least(c."end" - c."begin", 300)) AS excerpt
        FROM reuse_clusters c JOIN documents d USING (seq)
        ORDER BY c.cluster_id, d.published_at NULLS LAST, d.seq
        """
    ).df()


def document_reuse(store: Store, doc_id: str) -> dict[str, Any]:
    """Everything about one document's reuse: its links (either side) with passages."""
    row = store.con.execute(
        "SELECT seq, id, source, published_at FROM documents WHERE id = ?", [doc_id]
    ).fetchall()
    if not row:
        raise KeyError(doc_id)
    seq, _, source, published = row[0]
    mine = links(store, include_boilerplate=True, seq=seq)
    pas = passages(store, mine["link_id"].tolist()) if len(mine) else passages(store, [])
    out_links = []
    for link in mine.to_dict(orient="records"):
        is_a = link["seq_a"] == seq
        rows = pas[pas["link_id"] == link["link_id"]]
        out_links.append(
            {
                "link_id": int(link["link_id"]),
                "role": "source" if is_a else "copy",
                "other": link["doc_b"] if is_a else link["doc_a"],
                "other_source": link["source_b"] if is_a else link["source_a"],
                "other_published_at": link["published_b"] if is_a else link["published_a"],
                "kind": link["kind"],
                "method": link["method"],
                "identity": link["identity"],
                "coverage_this": link["coverage_a"] if is_a else link["coverage_b"],
                "coverage_other": link["coverage_b"] if is_a else link["coverage_a"],
                "boilerplate": bool(link["boilerplate"]),
                "passages": [
                    {
                        "this": {
                            "begin": int(r["a_begin" if is_a else "b_begin"]),
                            "end": int(r["a_end" if is_a else "b_end"]),
                            "text": r["text_a" if is_a else "text_b"],
                        },
                        "other": {
                            "begin": int(r["b_begin" if is_a else "a_begin"]),
                            "end": int(r["b_end" if is_a else "a_end"]),
                            "text": r["text_b" if is_a else "text_a"],
                        },
                        "identity": float(r["identity"]),
                    }
                    for r in rows.to_dict(orient="records")
                ],
            }
        )
    return {"id": doc_id, "source": source, "published_at": published, "links": out_links}
