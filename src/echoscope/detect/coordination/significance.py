"""How unlikely is an edge by chance? Null models that keep each actor's activity.

Every action keeps its actor, item and day; only its time within the day changes:

- ``day`` (default): a uniformly random time of that day. Busy accounts stay busy, so a
  prolific account that posts popular items still meets others by chance and scores low.
- ``rhythm``: a time of day drawn from the same actor's own times of day, which also
  keeps daily rhythms (bots that post at fixed hours). Stricter: an actor with very few
  posts can never look unlikely under it.

Edges are recomputed on ``runs`` shuffles; each observed edge gets a z-score and an
empirical p-value (the share of runs where chance did at least as well).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from echoscope.detect.coordination.network import co_action_edges
from echoscope.store import Store

DAY = 86400.0


NULL_MODELS = ("day", "rhythm")


def shuffled(actions: pd.DataFrame, rng: np.random.Generator, model: str = "day") -> pd.DataFrame:
    t = actions["t"].to_numpy(dtype=float)
    day = np.floor(t / DAY) * DAY
    if model == "day":
        out = actions.copy()
        out["t"] = day + rng.random(len(t)) * DAY
        return out
    if model != "rhythm":
        raise ValueError(f"unknown null model {model!r}; models: {', '.join(NULL_MODELS)}")
    tod = t - day
    codes, uniques = pd.factorize(actions["actor"])
    order = np.argsort(codes, kind="stable")
    counts = np.bincount(codes, minlength=len(uniques))
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    pool = tod[order]  # each actor's times of day, contiguous
    pick = starts[codes] + (rng.random(len(t)) * counts[codes]).astype(np.int64)
    out = actions.copy()
    out["t"] = day + pool[pick]
    return out


def score_edges(
    store: Store,
    actions: pd.DataFrame,
    edges: pd.DataFrame,
    window_s: float,
    runs: int = 20,
    seed: int = 0,
    model: str = "day",
) -> pd.DataFrame:
    """Add null_mean, null_sd, z and p to ``edges`` (pairs never seen by chance: null 0)."""
    edges = edges.copy()
    if edges.empty or runs <= 0:
        for col in ("null_mean", "null_sd", "z", "p"):
            edges[col] = np.nan
        return edges
    # the random times go to rows in a fixed order, not the store's scan order (which a
    # parallel query does not fix): the same corpus and seed give the same null model
    actions = actions.sort_values(["t", "actor", "item"], kind="stable", ignore_index=True)
    rng = np.random.default_rng(seed)
    key = list(zip(edges["actor_a"], edges["actor_b"], strict=True))
    index = {k: i for i, k in enumerate(key)}
    samples = np.zeros((runs, len(edges)))
    for r in range(runs):
        null = co_action_edges(store, shuffled(actions, rng, model), window_s, min_repeat=1)
        for a, b, n in zip(null["actor_a"], null["actor_b"], null["items"], strict=True):
            i = index.get((a, b))
            if i is not None:
                samples[r, i] = n
    observed = edges["items"].to_numpy(dtype=float)
    mean = samples.mean(axis=0)
    sd = samples.std(axis=0)
    edges["null_mean"] = mean.round(3)
    edges["null_sd"] = sd.round(3)
    edges["z"] = ((observed - mean) / np.maximum(sd, 0.5)).round(2)
    edges["p"] = ((1 + (samples >= observed).sum(axis=0)) / (runs + 1)).round(4)
    return edges


def significant(
    edges: pd.DataFrame, runs: int, alpha: float = 0.05, min_z: float = 3.0
) -> pd.DataFrame:
    """Edges unlikely by chance: p <= alpha, or z >= min_z when there were too few runs
    for an empirical p that small (p can be no lower than 1 / (runs + 1)); all edges
    when no null model was run."""
    if runs <= 0:
        return edges
    if 1 / (runs + 1) <= alpha:
        return edges[edges["p"] <= alpha]
    return edges[edges["z"] >= min_z]
