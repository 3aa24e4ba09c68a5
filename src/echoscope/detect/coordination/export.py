"""Co-action networks for Gephi and friends: GEXF, GraphML, CSV edge lists."""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

NUMERIC = ("items", "a_first", "b_first", "median_delay_s", "z", "p")


def write_network(
    edges: pd.DataFrame, path: str | Path, groups: dict[str, int] | None = None
) -> Path:
    path = Path(path)
    ext = path.suffix.lower()
    if ext == ".csv":
        edges.to_csv(path, index=False)
    elif ext == ".gexf":
        path.write_text(_gexf(edges, groups or {}), encoding="utf-8")
    elif ext == ".graphml":
        path.write_text(_graphml(edges, groups or {}), encoding="utf-8")
    else:
        raise ValueError(f"export to .gexf, .graphml or .csv, not {path.suffix or 'no extension'}")
    return path


def _cols(edges: pd.DataFrame) -> list[str]:
    return [c for c in NUMERIC if c in edges.columns]


def _gexf(edges: pd.DataFrame, groups: dict[str, int]) -> str:
    nodes = sorted(set(edges["actor_a"]) | set(edges["actor_b"]))
    cols = _cols(edges)
    e = html.escape
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<gexf xmlns="http://gexf.net/1.3" version="1.3">',
        '<graph defaultedgetype="undirected">',
        '<attributes class="node"><attribute id="group" title="group" type="integer"/></attributes>',
        '<attributes class="edge">'
        + "".join(f'<attribute id="{c}" title="{c}" type="double"/>' for c in cols)
        + "</attributes>",
        "<nodes>",
    ]
    for n in nodes:
        out.append(
            f'<node id="{e(n)}" label="{e(n)}"><attvalues><attvalue for="group" value="{groups.get(n, 0)}"/></attvalues></node>'
        )
    out.append("</nodes><edges>")
    for i, r in enumerate(edges.itertuples()):
        vals = "".join(
            f'<attvalue for="{c}" value="{getattr(r, c)}"/>'
            for c in cols
            if pd.notna(getattr(r, c))
        )
        out.append(
            f'<edge id="{i}" source="{e(r.actor_a)}" target="{e(r.actor_b)}" weight="{r.items}"><attvalues>{vals}</attvalues></edge>'
        )
    out.append("</edges></graph></gexf>")
    return "\n".join(out)


def _graphml(edges: pd.DataFrame, groups: dict[str, int]) -> str:
    nodes = sorted(set(edges["actor_a"]) | set(edges["actor_b"]))
    cols = _cols(edges)
    e = html.escape
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<graphml xmlns="http://graphml.graphdrawing.org/xmlns">',
        '<key id="group" for="node" attr.name="group" attr.type="int"/>',
        *(f'<key id="{c}" for="edge" attr.name="{c}" attr.type="double"/>' for c in cols),
        '<graph edgedefault="undirected">',
    ]
    for n in nodes:
        out.append(f'<node id="{e(n)}"><data key="group">{groups.get(n, 0)}</data></node>')
    for r in edges.itertuples():
        vals = "".join(
            f'<data key="{c}">{getattr(r, c)}</data>' for c in cols if pd.notna(getattr(r, c))
        )
        out.append(f'<edge source="{e(r.actor_a)}" target="{e(r.actor_b)}">{vals}</edge>')
    out.append("</graph></graphml>")
    return "\n".join(out)
