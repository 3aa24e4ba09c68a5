"""Co-action networks: two actors are linked when they act on the same item within a time
window, weighted by the number of distinct items they did that for.

The pairing is a range join in DuckDB (same item, |t_a - t_b| <= window) on time
buckets, so a viral item with thousands of posts only pairs posts that are close in
time. Each edge keeps the evidence: the items, how often each actor went first, and the
median delay.

An edge is undirected (actor_a < actor_b), but a pair where one actor nearly always goes
first is the signature of an account that seeds and one that amplifies, so each edge also
names a ``leader`` when one acts first consistently (see ``with_leaders``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from echoscope.store import Store

LEAD_SHARE = 0.8
"""A leader went first on at least this share of the pair's ordered shared items."""
LEAD_MIN = 2
"""... and on at least this many of them: one item in front proves nothing."""

EDGE_COLUMNS = [
    "actor_a",
    "actor_b",
    "items",
    "a_first",
    "b_first",
    "median_delay_s",
    "leader",
    "follower",
    "lead_share",
]


def co_action_edges(
    store: Store,
    actions: pd.DataFrame,
    window_s: float,
    min_repeat: int = 2,
    lead_share: float = LEAD_SHARE,
    lead_min: int = LEAD_MIN,
) -> pd.DataFrame:
    """Edges (actor_a < actor_b): items (distinct shared items), a_first and b_first (on
    how many of them actor_a, resp. actor_b, acted first: per item the pair's closest two
    posts are compared; a tie, or posts as close one way as the other, counts for
    neither), median_delay_s, and the consistent
    leader if any (``with_leaders``: leader, follower, lead_share)."""
    if actions.empty:
        return with_leaders(pd.DataFrame(columns=EDGE_COLUMNS[:6]), lead_share, lead_min)
    con = store.con
    con.register("_acts", actions[["actor", "item", "t"]])
    try:
        edges = con.execute(
            """
            WITH shared AS (  -- an item acted on once can pair with nothing
                SELECT actor, item, t, floor(t / ?) AS bucket FROM _acts
                WHERE item IN (SELECT item FROM _acts GROUP BY item HAVING count(*) > 1)
                  AND NOT isnan(t)  -- a time that is not a number orders nothing
            ),
            near AS (  -- each action also in the buckets either side of its own
                SELECT actor, item, t, bucket + d AS bucket
                FROM shared, (VALUES (-1), (0), (1)) AS shift(d)
            ),
            pairs AS (
                SELECT x.actor AS actor_a, y.actor AS actor_b, x.item, x.t AS ta, y.t AS tb
                FROM near x JOIN shared y
                  ON x.item = y.item AND x.bucket = y.bucket AND x.actor < y.actor
                 AND y.t >= x.t - ? AND y.t <= x.t + ?
            ),
            closest AS (  -- one row per actor pair and item: their closest posts, looked
                -- for both ways so that a gap as close either way is a tie, not a pick
                SELECT actor_a, actor_b, item, min(abs(tb - ta)) AS gap,
                       min(tb - ta) FILTER (WHERE tb > ta) AS after,
                       max(tb - ta) FILTER (WHERE tb < ta) AS before
                FROM pairs GROUP BY actor_a, actor_b, item
            ),
            per_item AS (
                SELECT actor_a, actor_b, item, gap,
                       CASE WHEN gap = 0 OR (after = gap AND -before = gap) THEN 0
                            WHEN after = gap THEN after ELSE before END AS delta
                FROM closest
            )
            SELECT actor_a, actor_b, count(*) AS items,
                   count(*) FILTER (WHERE delta > 0) AS a_first,
                   count(*) FILTER (WHERE delta < 0) AS b_first,
                   median(gap) AS median_delay_s
            FROM per_item GROUP BY actor_a, actor_b
            HAVING count(*) >= ?
            ORDER BY items DESC, actor_a, actor_b
            """,
            [_bucket_width(window_s), float(window_s), float(window_s), int(min_repeat)],
        ).df()
    finally:
        con.unregister("_acts")
    return with_leaders(edges, lead_share, lead_min)


def with_leaders(
    edges: pd.DataFrame, min_share: float = LEAD_SHARE, min_count: int = LEAD_MIN
) -> pd.DataFrame:
    """``edges`` with leader, follower and lead_share (a copy), from a_first and b_first.

    Only ordered items count (a tie at delta 0 is no evidence of who leads). lead_share is
    the share of them on which the more frequent first mover went first (0.5 to 1; NaN
    when every shared item was a tie). That actor is the ``leader`` (the other the
    ``follower``) when lead_share >= ``min_share`` and it went first on at least
    ``min_count`` items; otherwise both are missing (NaN): a mutual edge, neither leads.
    """
    if not 0.5 < min_share <= 1:
        raise ValueError(f"min_share must be above 0.5 and at most 1, not {min_share}")
    if min_count < 1:
        raise ValueError(f"min_count must be at least 1, not {min_count}")
    out = edges.copy()
    a = out["a_first"].to_numpy(dtype=float)
    b = out["b_first"].to_numpy(dtype=float)
    ordered = a + b
    top = np.maximum(a, b)
    share = np.divide(top, ordered, out=np.full(len(out), np.nan), where=ordered > 0)
    # a tolerance so that 4 of 5 meets 0.8 whatever the float rounding
    strong = (share >= min_share - 1e-9) & (top >= min_count)
    a_leads = strong & (a > b)
    b_leads = strong & (b > a)
    actor_a = out["actor_a"].to_numpy(dtype=object)
    actor_b = out["actor_b"].to_numpy(dtype=object)
    out["leader"] = np.where(a_leads, actor_a, np.where(b_leads, actor_b, None))
    out["follower"] = np.where(a_leads, actor_b, np.where(b_leads, actor_a, None))
    out["lead_share"] = np.round(share, 4)
    return out


def _bucket_width(window_s: float) -> float:
    """Time buckets a little wider than the window: two actions within the window are
    then always in the same or neighbouring buckets (whatever the rounding), so the join
    pairs an item's actions only with those near in time, not all of them. A viral link
    posted thousands of times would otherwise make millions of candidate pairs."""
    return max(float(window_s), 1.0) * 1.001


def auto_window(
    store: Store, actions: pd.DataFrame, quantile: float = 0.1, cap_s: float = 3600.0
) -> float:
    """CooRnet's idea: the window within which the fastest share (``quantile``) of repeat
    actions on an item follow the item's first action."""
    if actions.empty:
        return 60.0
    first = actions.groupby("item")["t"].transform("min")
    delays = (actions["t"] - first).to_numpy(dtype=float)
    delays = delays[delays > 0]
    if not len(delays):
        return 60.0
    return float(min(cap_s, max(1.0, np.quantile(delays, quantile))))
