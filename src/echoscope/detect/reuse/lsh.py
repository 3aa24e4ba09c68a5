"""LSH banding over MinHash signatures: near-duplicate candidate pairs without all pairs.

Band and row counts come from the target similarity: the pair (b, r) with b*r <= num_perm
that minimises the expected share of missed pairs above the threshold plus spurious
pairs below it (each weighted), integrated over similarity.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from echoscope.detect.reuse.minhash import EMPTY
from echoscope.detect.reuse.shingles import mix64


def _collision(s: np.ndarray, b: int, r: int) -> np.ndarray:
    return 1.0 - (1.0 - s**r) ** b


def optimal_bands(threshold: float, num_perm: int, fn_weight: float = 0.5) -> tuple[int, int]:
    """(bands, rows) for ``threshold``; ``fn_weight`` > 0.5 favours recall."""
    if not 0.0 < threshold < 1.0:
        raise ValueError("threshold must be between 0 and 1")
    grid_lo = np.linspace(0.0, threshold, 200)
    grid_hi = np.linspace(threshold, 1.0, 200)
    best = (1, num_perm)
    best_err = float("inf")
    for b in range(1, num_perm + 1):
        for r in range(1, num_perm // b + 1):
            fp = np.trapezoid(_collision(grid_lo, b, r), grid_lo)
            fn = np.trapezoid(1.0 - _collision(grid_hi, b, r), grid_hi)
            err = (1 - fn_weight) * fp + fn_weight * fn
            if err < best_err:
                best_err, best = err, (b, r)
    return best


_ROW_MULT = mix64(np.arange(1, 1025, dtype=np.uint64)) | np.uint64(1)  # odd multipliers


def band_keys(sig: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """(n_docs, bands) uint64 keys; a band key is a hash of its ``rows`` values and its
    index. Documents with an empty signature get key 0 (never a candidate)."""
    n = sig.shape[0]
    keys = np.empty((n, bands), dtype=np.uint64)
    wide = sig.astype(np.uint64)
    with np.errstate(over="ignore"):
        for band in range(bands):
            acc = np.full(
                n, ((band + 1) * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF, dtype=np.uint64
            )
            for j in range(band * rows, (band + 1) * rows):
                acc += wide[:, j] * _ROW_MULT[j - band * rows]
                acc = (acc << np.uint64(29)) | (acc >> np.uint64(35))
            keys[:, band] = mix64(acc)
    keys[keys == 0] = 1
    empty = sig[:, 0] == EMPTY
    keys[empty] = 0
    return keys


def pairs_from_keys(keys: np.ndarray, ids: np.ndarray, max_bucket: int = 200) -> np.ndarray:
    """Unique (lo, hi) id pairs sharing any band key.

    A bucket of more than ``max_bucket`` documents (thousands of copies of one post) is
    linked as a star around its smallest id instead of all pairs: the clusters are the
    same and the pair count stays linear. All bands are sorted together (band keys
    already differ between bands), so there is one sort, not one per band.
    """
    n_bands = keys.shape[1]
    flat = keys.reshape(-1)
    owner = np.repeat(ids.astype(np.int64), n_bands)
    # Most band keys are unique; a hash-based duplicate test (pandas' C hash table) keeps
    # only keys shared by two or more documents, so the sort below is small.
    shared = pd.Series(flat).duplicated(keep=False).to_numpy() & (flat != 0)
    flat, owner = flat[shared], owner[shared]
    if len(flat) < 2:
        return np.zeros((0, 2), dtype=np.int64)
    order = np.argsort(flat, kind="stable")
    k = flat[order]
    sid = owner[order]
    new_group = np.empty(len(k), dtype=bool)
    new_group[0] = True
    np.not_equal(k[1:], k[:-1], out=new_group[1:])
    gid = np.cumsum(new_group) - 1
    sizes = np.bincount(gid)
    gsize = sizes[gid]
    found: list[np.ndarray] = []
    # All pairs inside small groups: position p pairs with p + d in the same group.
    pos = np.flatnonzero((gsize > 1) & (gsize <= max_bucket))
    d = 1
    while len(pos):
        nxt = pos + d
        ok = nxt < len(k)
        p, q = pos[ok], nxt[ok]
        same = gid[p] == gid[q]
        if not same.any():
            break
        p = p[same]
        found.append(_pair_keys(sid[p], sid[q[same]]))
        pos = p
        d += 1
    # Stars around the smallest id of each big group.
    big = np.flatnonzero(gsize > max_bucket)
    if len(big):
        bg = gid[big]
        first = np.empty(len(big), dtype=bool)
        first[0] = True
        np.not_equal(bg[1:], bg[:-1], out=first[1:])
        hub = np.minimum.reduceat(sid[big], np.flatnonzero(first))[np.cumsum(first) - 1]
        members = sid[big]
        keep = members != hub
        found.append(_pair_keys(hub[keep], members[keep]))
    if not found:
        return np.zeros((0, 2), dtype=np.int64)
    uniq = np.unique(np.concatenate(found))
    return np.stack(
        [(uniq >> np.uint64(32)).astype(np.int64), (uniq & np.uint64(0xFFFFFFFF)).astype(np.int64)],
        axis=1,
    )


def _pair_keys(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(min, max) packed in one uint64 (ids below 2**32), dropping self-pairs."""
    lo = np.minimum(a, b).astype(np.uint64)
    hi = np.maximum(a, b).astype(np.uint64)
    keep = lo != hi
    return (lo[keep] << np.uint64(32)) | hi[keep]
