"""Groups of actors that move together: Leiden communities over the co-action network,
each with its evidence (members, the items they co-posted, delays, who moves first).

Two notions of "first", on purpose: ``first_mover`` is the member who acted first most
often summed over the group's edges (a group-level summary), while ``top_edges`` lists
the group's strongest edges each with its own consistent ``leader`` (if any, by the rule
of ``network.with_leaders``), which says who leads whom."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from echoscope.detect.coordination.network import with_leaders


@dataclass
class Group:
    group_id: int
    members: list[str]
    edges: int
    items: int  # distinct items co-posted by two or more members within the window
    median_delay_s: float | None
    first_mover: str | None
    score: float  # mean z of its edges (or mean shared items without a null model)
    top_items: list[dict] = field(default_factory=list)
    # strongest edges between members (by z, else shared items), with leader/follower
    top_edges: list[dict] = field(default_factory=list)


def find_groups(
    edges: pd.DataFrame, actions: pd.DataFrame, window_s: float, seed: int = 0, top: int = 5
) -> list[Group]:
    """Leiden (modularity) over edges weighted by shared items; singletons dropped.
    ``top``: how many items and edges each group keeps as evidence."""
    if edges.empty:
        return []
    if "leader" not in edges.columns:
        edges = with_leaders(edges)
    import igraph as ig
    import leidenalg

    names = sorted(set(edges["actor_a"]) | set(edges["actor_b"]))
    idx = {n: i for i, n in enumerate(names)}
    graph = ig.Graph(
        n=len(names),
        edges=[(idx[a], idx[b]) for a, b in zip(edges["actor_a"], edges["actor_b"], strict=True)],
    )
    graph.vs["name"] = names
    weights = edges["items"].astype(float).tolist()
    part = leidenalg.find_partition(
        graph, leidenalg.ModularityVertexPartition, weights=weights, seed=seed
    )
    groups: list[Group] = []
    member_of = {names[v]: c for c, comm in enumerate(part) for v in comm}
    e = edges.assign(ca=edges["actor_a"].map(member_of), cb=edges["actor_b"].map(member_of))
    for c, comm in enumerate(part):
        if len(comm) < 2:
            continue
        members = sorted(names[v] for v in comm)
        inner = e[(e["ca"] == c) & (e["cb"] == c)]
        lead = (
            pd.concat(
                [
                    inner.groupby("actor_a")["a_first"].sum(),
                    inner.groupby("actor_b")["b_first"].sum(),
                ]
            )
            .groupby(level=0)
            .sum()
        )
        score = (
            float(inner["z"].mean())
            if "z" in inner and inner["z"].notna().any()
            else float(inner["items"].mean())
        )
        acts = actions[actions["actor"].isin(members)]
        items = _co_posted(acts, window_s)
        groups.append(
            Group(
                group_id=0,
                members=members,
                edges=len(inner),
                items=len(items),
                median_delay_s=float(inner["median_delay_s"].median()) if len(inner) else None,
                first_mover=str(lead.idxmax()) if len(lead) and lead.max() > 0 else None,
                score=round(score, 2),
                top_items=items[:top],
                top_edges=_strongest(inner, top),
            )
        )
    groups.sort(key=lambda g: (-len(g.members), -g.score))
    for i, g in enumerate(groups, 1):
        g.group_id = i
    return groups


def _strongest(inner: pd.DataFrame, top: int) -> list[dict]:
    """The ``top`` strongest edges (highest z, then most shared items) as plain dicts."""
    keys = ["z", "items"] if "z" in inner.columns else ["items"]
    best = inner.sort_values(keys, ascending=False, na_position="last", kind="stable").head(top)
    cols = ["actor_a", "actor_b", "items", "leader", "follower", "lead_share", "z"]
    out = []
    for rec in best[[c for c in cols if c in best.columns]].to_dict("records"):
        out.append({k: _plain(v) for k, v in rec.items()})
    return out


def _plain(value: object) -> object:
    """JSON-ready: numpy scalars to Python, NaN and missing to None."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _co_posted(acts: pd.DataFrame, window_s: float) -> list[dict]:
    """Items that two or more members acted on within the window, busiest first."""
    out = []
    for item, g in acts.groupby("item"):
        if g["actor"].nunique() < 2:
            continue
        t = np.sort(g["t"].to_numpy(dtype=float))
        if len(t) > 1 and np.min(np.diff(t)) <= window_s:
            out.append(
                {
                    "item": item,
                    "label": str(g["label"].iloc[0]) if "label" in g.columns else None,
                    "example_seq": int(g["seq"].iloc[0]) if "seq" in g.columns else None,
                    "actors": int(g["actor"].nunique()),
                    "posts": len(g),
                    "first": float(t[0]),
                    "span_s": float(t[-1] - t[0]),
                }
            )
    out.sort(key=lambda d: (-d["actors"], -d["posts"]))
    return out


def add_labels(store, groups: list[Group]) -> None:
    """Fill in a readable excerpt for the items shown (texts are not loaded for all actions)."""
    wanted = {
        it["example_seq"]
        for g in groups
        for it in g.top_items
        if not it.get("label") and it.get("example_seq") is not None
    }
    if not wanted:
        return
    rows = store.con.execute(
        "SELECT seq, substr(text, 1, 160) FROM documents WHERE seq IN (SELECT unnest(?))",
        [sorted(wanted)],
    ).fetchall()
    text = dict(rows)
    for g in groups:
        for it in g.top_items:
            if not it.get("label"):
                it["label"] = text.get(it.get("example_seq"), str(it["item"]))
