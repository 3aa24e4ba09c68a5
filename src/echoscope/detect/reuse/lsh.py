"""LSH banding over MinHash signatures: near-duplicate candidate pairs without all pairs.

Band and row counts come from the target similarity: the pair (b, r) with b*r <= num_perm
that minimises the expected share of missed pairs above the threshold plus spurious
pairs below it (each weighted), integrated over similarity.
"""

from __future__ import annotations

import numpy as np

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


def band_keys(sig: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """(n_docs, bands) uint64 keys; a band key is a hash of its ``rows`` values and its
    index. Documents with an empty signature get key 0 (never a candidate)."""
    n = sig.shape[0]
    keys = np.empty((n, bands), dtype=np.uint64)
    wide = sig.astype(np.uint64)
    for band in range(bands):
        acc = np.full(n, ((band + 1) * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF, dtype=np.uint64)
        for j in range(band * rows, (band + 1) * rows):
            acc = mix64(acc ^ wide[:, j])
        keys[:, band] = acc
    empty = sig[:, 0] == EMPTY
    keys[empty] = 0
    return keys


def pairs_from_keys(keys: np.ndarray, ids: np.ndarray, max_bucket: int = 200) -> np.ndarray:
    """Unique (lo, hi) id pairs sharing any band key.

    A bucket of more than ``max_bucket`` documents (thousands of copies of one post) is
    linked as a star around its smallest id instead of all pairs: the clusters are the
    same and the pair count stays linear.
    """
    found: list[np.ndarray] = []
    for band in range(keys.shape[1]):
        col = keys[:, band]
        order = np.argsort(col, kind="stable")
        k = col[order]
        sid = ids[order]
        live = k != 0
        k, sid = k[live], sid[live]
        if len(k) < 2:
            continue
        new_group = np.ones(len(k), dtype=bool)
        new_group[1:] = k[1:] != k[:-1]
        gid = np.cumsum(new_group) - 1
        sizes = np.bincount(gid)
        big = sizes[gid] > max_bucket
        # All pairs inside small groups: offset d pairs position p with p + d.
        small_pos = np.nonzero(~big & (sizes[gid] > 1))[0]
        d = 1
        while len(small_pos):
            nxt = small_pos + d
            ok = nxt < len(k)
            p, q = small_pos[ok], nxt[ok]
            same = gid[p] == gid[q]
            if not same.any():
                break
            found.append(np.stack([sid[p[same]], sid[q[same]]], axis=1))
            small_pos = p[same]
            d += 1
        # Stars for big groups.
        if big.any():
            bpos = np.nonzero(big)[0]
            first = np.ones(len(bpos), dtype=bool)
            first[1:] = gid[bpos[1:]] != gid[bpos[:-1]]
            members = sid[bpos]
            # the smallest id of the group as the hub
            hub = np.minimum.reduceat(members, np.nonzero(first)[0])
            hub_per = hub[np.cumsum(first) - 1]
            keep = members != hub_per
            found.append(np.stack([hub_per[keep], members[keep]], axis=1))
    if not found:
        return np.zeros((0, 2), dtype=np.int64)
    pairs = np.concatenate(found).astype(np.int64)
    pairs = np.sort(pairs, axis=1)
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    return np.unique(pairs, axis=0)
