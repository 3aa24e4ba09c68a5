"""Co-action networks: two actors are linked when they act on the same item within a time
window, weighted by the number of distinct items they did that for.

The pairing is a range join in DuckDB (same item, |t_a - t_b| <= window) on time
buckets, so a viral item with thousands of posts only pairs posts that are close in
time. Each edge keeps the evidence: the items, how often each actor went first, and the
median delay.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from echoscope.store import Store


def co_action_edges(
    store: Store, actions: pd.DataFrame, window_s: float, min_repeat: int = 2
) -> pd.DataFrame:
    """Edges (actor_a < actor_b): items (distinct shared items), a_first and b_first (how
    often each acted first on them), median_delay_s."""
    if actions.empty:
        return pd.DataFrame(
            columns=["actor_a", "actor_b", "items", "a_first", "b_first", "median_delay_s"]
        )
    con = store.con
    con.register("_acts", actions[["actor", "item", "t"]])
    try:
        edges = con.execute(
            """
            WITH shared AS (  -- an item acted on once can pair with nothing
                SELECT actor, item, t, floor(t / ?) AS bucket FROM _acts
                WHERE item IN (SELECT item FROM _acts GROUP BY item HAVING count(*) > 1)
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
            per_item AS (  -- one row per actor pair and item: their closest posts
                SELECT actor_a, actor_b, item, arg_min(tb - ta, abs(tb - ta)) AS delta
                FROM pairs GROUP BY actor_a, actor_b, item
            )
            SELECT actor_a, actor_b, count(*) AS items,
                   count(*) FILTER (WHERE delta > 0) AS a_first,
                   count(*) FILTER (WHERE delta < 0) AS b_first,
                   median(abs(delta)) AS median_delay_s
            FROM per_item GROUP BY actor_a, actor_b
            HAVING count(*) >= ?
            ORDER BY items DESC, actor_a, actor_b
            """,
            [_bucket_width(window_s), float(window_s), float(window_s), int(min_repeat)],
        ).df()
    finally:
        con.unregister("_acts")
    return edges


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
