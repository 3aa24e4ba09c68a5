"""Ranking candidate sources for a document: reuse evidence and topic, kept apart.

For each target document and each candidate source, two scores: ``reuse`` (share of the
target's words aligned word for word with the candidate) and ``topic`` (TF-IDF cosine).
The ranking score is ``reuse + topic_weight * topic``; candidates that cannot be earlier
than the target, given both timestamps and their precision, rank after every candidate
that can (time order, like passim's pair filters).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from echoscope.detect.similarity import cosine_matrix
from echoscope.store import Store
from echoscope.trace.time import latest_series

TOPIC_WEIGHT = 0.5


def rank_sources(
    store: Store,
    targets: pd.DataFrame,
    candidates: pd.DataFrame,
    topic_weight: float = TOPIC_WEIGHT,
    time_order: bool = True,
) -> dict[str, np.ndarray]:
    """targets/candidates: frames with seq, text, published_at, time_precision.

    Returns arrays of shape (targets, candidates): ``reuse``, ``topic``, ``score``,
    ``eligible`` (time order allows it) and ``order`` (candidate indices, best first).
    """
    t_index = {s: i for i, s in enumerate(targets["seq"])}
    c_index = {s: i for i, s in enumerate(candidates["seq"])}
    reuse = np.zeros((len(targets), len(candidates)))
    rows = store.con.execute(
        "SELECT seq_a, seq_b, coverage_a, coverage_b FROM reuse_links WHERE NOT boilerplate"
    ).fetchall()
    for a, b, cov_a, cov_b in rows:
        if b in t_index and a in c_index:
            i, j, cov = t_index[b], c_index[a], cov_b
        elif a in t_index and b in c_index:
            i, j, cov = t_index[a], c_index[b], cov_a
        else:
            continue
        reuse[i, j] = max(reuse[i, j], cov)
    topic = cosine_matrix(targets["text"].tolist(), candidates["text"].tolist())
    score = reuse + topic_weight * topic
    if time_order:
        target_latest = latest_series(targets["published_at"], targets["time_precision"]).to_numpy()
        cand_earliest = pd.to_datetime(candidates["published_at"]).to_numpy()
        known = ~np.isnat(target_latest)[:, None] & ~np.isnat(cand_earliest)[None, :]
        eligible = ~known | (cand_earliest[None, :] < target_latest[:, None])
    else:
        eligible = np.ones_like(score, dtype=bool)
    tie = np.tile(np.arange(len(candidates)), (len(targets), 1))
    order = np.lexsort((tie, -topic, -score, ~eligible), axis=1)
    return {"reuse": reuse, "topic": topic, "score": score, "eligible": eligible, "order": order}
