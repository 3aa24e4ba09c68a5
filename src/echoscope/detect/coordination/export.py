"""Co-action networks for Gephi and friends: GEXF, GraphML, CSV edge lists.

Undirected by default: one edge per pair, with ``leader``/``follower``/``lead_share`` as
attributes. ``directed=True`` writes who leads whom as arcs instead: a led edge once,
leader -> follower; a mutual edge (no consistent leader) as two arcs, one each way, both
marked ``mutual=true``. Two arcs rather than one keeps in- and out-degree (and PageRank)
honest in Gephi, where a single arc in an arbitrary direction would invent a leader; the
``mutual`` attribute lets a user filter them out. Each arc carries ``source_first`` and
``target_first`` (how often its source, resp. target, acted first) instead of
a_first/b_first, which would need the undirected actor_a/actor_b order to read.

Account names are hostile input: every name is escaped for XML (quotes included), and
characters XML cannot carry at all are replaced with U+FFFD.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from echoscope.detect.coordination.network import with_leaders
from echoscope.store.spreadsheet import guard_frame

NUMERIC = ("items", "a_first", "b_first", "median_delay_s", "z", "p", "lead_share")
DIRECTED_NUMERIC = (
    "items",
    "source_first",
    "target_first",
    "median_delay_s",
    "z",
    "p",
    "lead_share",
)
TEXT = ("leader", "follower")

_XML_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_XML_ESCAPES = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        '"': "&quot;",
        "'": "&#x27;",
        "\t": "&#9;",  # kept as is: a parser turns literal whitespace in attributes into spaces
        "\n": "&#10;",
        "\r": "&#13;",
    }
)


def write_network(
    edges: pd.DataFrame,
    path: str | Path,
    groups: dict[str, int] | None = None,
    directed: bool = False,
    spreadsheet_safe: bool = True,
) -> Path:
    """Write ``edges`` to .gexf, .graphml or .csv; ``directed`` as arcs (see the module).

    A CSV is always one row per pair, with leader, follower and lead_share columns (empty
    for a mutual edge); ``directed`` only changes the graph formats. Its account names
    that a spreadsheet would run as formulas are made inert unless ``spreadsheet_safe``
    is False (see ``store.spreadsheet``)."""
    path = Path(path)
    ext = path.suffix.lower()
    if ext not in (".csv", ".gexf", ".graphml"):
        raise ValueError(f"export to .gexf, .graphml or .csv, not {path.suffix or 'no extension'}")
    if "leader" not in edges.columns:
        edges = with_leaders(edges)
    if ext == ".csv":
        (guard_frame(edges) if spreadsheet_safe else edges).to_csv(path, index=False)
    elif ext == ".gexf":
        path.write_text(_gexf(edges, groups or {}, directed), encoding="utf-8")
    else:
        path.write_text(_graphml(edges, groups or {}, directed), encoding="utf-8")
    return path


def arcs(edges: pd.DataFrame) -> pd.DataFrame:
    """One row per arc: source, target, the edge's other columns, source_first and
    target_first, and mutual. A led edge gives leader -> follower; a mutual edge gives
    actor_a -> actor_b and actor_b -> actor_a."""
    edges = edges.reset_index(drop=True)
    led = edges["leader"].notna().to_numpy()
    a_to_b = led & (edges["leader"] == edges["actor_a"]).to_numpy()
    forward = edges[a_to_b | ~led]  # actor_a -> actor_b
    backward = edges[~a_to_b]  # actor_b -> actor_a (led by b, or the mutual edge's return)
    parts = [
        forward.assign(
            source=forward["actor_a"],
            target=forward["actor_b"],
            source_first=forward["a_first"],
            target_first=forward["b_first"],
        ),
        backward.assign(
            source=backward["actor_b"],
            target=backward["actor_a"],
            source_first=backward["b_first"],
            target_first=backward["a_first"],
        ),
    ]
    out = pd.concat(parts).sort_index(kind="stable")  # both arcs of a pair side by side
    out["mutual"] = out["leader"].isna()
    return out.reset_index(drop=True)


def _x(value: object) -> str:
    """Text safe inside an XML attribute or element."""
    return _XML_INVALID.sub("\ufffd", str(value)).translate(_XML_ESCAPES)


def _view(edges: pd.DataFrame, directed: bool) -> tuple[pd.DataFrame, list[str], list[str]]:
    """The rows to write (source, target, ...) and which numeric and text columns they have."""
    if directed:
        rows = arcs(edges)
        numeric = [c for c in DIRECTED_NUMERIC if c in rows.columns]
    else:
        rows = edges.assign(source=edges["actor_a"], target=edges["actor_b"])
        numeric = [c for c in NUMERIC if c in rows.columns]
    return rows, numeric, [c for c in TEXT if c in rows.columns]


def _values(rows: pd.DataFrame, cols: list[str]) -> list[list[tuple[str, str]]]:
    """Per row, (column, value) for the columns with a value (missing ones are left out)."""
    present = {c: rows[c].notna().to_numpy() for c in cols}
    values = {c: rows[c].to_numpy(dtype=object) for c in cols}
    return [[(c, _x(values[c][i])) for c in cols if present[c][i]] for i in range(len(rows))]


def _gexf(edges: pd.DataFrame, groups: dict[str, int], directed: bool) -> str:
    nodes = sorted(set(edges["actor_a"]) | set(edges["actor_b"]))
    rows, numeric, text = _view(edges, directed)
    flags = ["mutual"] if directed else []
    types = {**dict.fromkeys(numeric, "double"), **dict.fromkeys(text, "string")}
    types.update(dict.fromkeys(flags, "boolean"))
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<gexf xmlns="http://gexf.net/1.3" version="1.3">',
        f'<graph defaultedgetype="{"directed" if directed else "undirected"}">',
        '<attributes class="node"><attribute id="group" title="group" type="integer"/></attributes>',
        '<attributes class="edge">'
        + "".join(f'<attribute id="{c}" title="{c}" type="{t}"/>' for c, t in types.items())
        + "</attributes>",
        "<nodes>",
    ]
    for n in nodes:
        out.append(
            f'<node id="{_x(n)}" label="{_x(n)}"><attvalues><attvalue for="group" value="{groups.get(n, 0)}"/></attvalues></node>'
        )
    out.append("</nodes><edges>")
    cols = [*numeric, *text]
    mutual = rows["mutual"].to_numpy() if directed else None
    for i, (source, target, weight, vals) in enumerate(
        zip(rows["source"], rows["target"], rows["items"], _values(rows, cols), strict=True)
    ):
        if mutual is not None:
            vals.append(("mutual", "true" if mutual[i] else "false"))
        attvalues = "".join(f'<attvalue for="{c}" value="{v}"/>' for c, v in vals)
        out.append(
            f'<edge id="{i}" source="{_x(source)}" target="{_x(target)}" weight="{weight}"><attvalues>{attvalues}</attvalues></edge>'
        )
    out.append("</edges></graph></gexf>")
    return "\n".join(out)


def _graphml(edges: pd.DataFrame, groups: dict[str, int], directed: bool) -> str:
    nodes = sorted(set(edges["actor_a"]) | set(edges["actor_b"]))
    rows, numeric, text = _view(edges, directed)
    flags = ["mutual"] if directed else []
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<graphml xmlns="http://graphml.graphdrawing.org/xmlns">',
        '<key id="group" for="node" attr.name="group" attr.type="int"/>',
        *(f'<key id="{c}" for="edge" attr.name="{c}" attr.type="double"/>' for c in numeric),
        *(f'<key id="{c}" for="edge" attr.name="{c}" attr.type="string"/>' for c in text),
        *(f'<key id="{c}" for="edge" attr.name="{c}" attr.type="boolean"/>' for c in flags),
        f'<graph edgedefault="{"directed" if directed else "undirected"}">',
    ]
    for n in nodes:
        out.append(f'<node id="{_x(n)}"><data key="group">{groups.get(n, 0)}</data></node>')
    mutual = rows["mutual"].to_numpy() if directed else None
    for i, (source, target, vals) in enumerate(
        zip(rows["source"], rows["target"], _values(rows, [*numeric, *text]), strict=True)
    ):
        if mutual is not None:
            vals.append(("mutual", "true" if mutual[i] else "false"))
        data = "".join(f'<data key="{c}">{v}</data>' for c, v in vals)
        out.append(f'<edge source="{_x(source)}" target="{_x(target)}">{data}</edge>')
    out.append("</graph></graphml>")
    return "\n".join(out)
