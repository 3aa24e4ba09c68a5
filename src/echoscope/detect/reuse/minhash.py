"""MinHash signatures for many documents at once, in NumPy.

Each of the ``num_perm`` hash functions is a 32-bit mixer of the shingle hash,
``h_p(x) = xorshift-multiply((x XOR s_p) * a_p)`` with odd multipliers, a bijection of
32-bit words, so each is a random permutation of the shingle space (the shingle hashes it
permutes are already uniformly random). 32-bit arithmetic is several times cheaper than
64-bit and, measured against exact Jaccard, as accurate as datasketch's
``(a*x + b) mod p``. The minimum per document is taken with ``minimum.reduceat`` over
the concatenated shingles, in cache-sized chunks, on two threads (NumPy releases the
interpreter lock inside these loops).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from echoscope.detect.reuse.shingles import Shingled

EMPTY = np.uint32(0xFFFFFFFF)
_C1 = np.uint32(0x85EBCA6B)
_C2 = np.uint32(0xC2B2AE35)


class MinHasher:
    def __init__(self, num_perm: int = 128, seed: int = 1) -> None:
        if num_perm < 1:
            raise ValueError("num_perm must be positive")
        rng = np.random.default_rng(seed)
        self.num_perm = num_perm
        self.seed = seed
        self.a = (
            rng.integers(0, 2**31, size=num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
        ).astype(np.uint32)
        self.s = rng.integers(0, 2**32, size=num_perm, dtype=np.uint64).astype(np.uint32)

    def hash_values(self, x32: np.ndarray, p: int, buf: np.ndarray | None = None) -> np.ndarray:
        """Permutation ``p`` applied to 32-bit shingle keys."""
        v = np.bitwise_xor(x32, self.s[p], out=buf)
        v *= self.a[p]
        v ^= v >> np.uint32(15)
        v *= _C1
        v ^= v >> np.uint32(13)
        return v

    def signatures(
        self, shingled: Shingled, max_rows: int = 65_536, threads: int = 2
    ) -> np.ndarray:
        """(n_docs, num_perm) uint32; a document without shingles gets all EMPTY."""
        n = shingled.n_docs
        sig = np.full((n, self.num_perm), EMPTY, dtype=np.uint32)
        counts = np.diff(shingled.offsets)
        nonempty = np.nonzero(counts)[0]
        cum = shingled.offsets
        chunks: list[np.ndarray] = []
        i = 0
        while i < len(nonempty):
            # a chunk of documents whose shingles fit in max_rows
            limit = cum[nonempty[i]] + max_rows
            j = int(np.searchsorted(cum[nonempty + 1], limit, side="right"))
            j = max(j, i + 1)
            chunks.append(nonempty[i:j])
            i = j

        def work(docs: np.ndarray) -> None:
            lo, hi = cum[docs[0]], cum[docs[-1] + 1]
            x32 = (shingled.hashes[lo:hi] >> np.uint64(32)).astype(np.uint32)
            starts = cum[docs] - lo
            buf = np.empty_like(x32)
            out = np.empty((len(docs), self.num_perm), dtype=np.uint32)
            with np.errstate(over="ignore"):
                for p in range(self.num_perm):
                    out[:, p] = np.minimum.reduceat(self.hash_values(x32, p, buf), starts)
            sig[docs] = out

        if threads > 1 and len(chunks) > 1:
            with ThreadPoolExecutor(max_workers=threads) as pool:
                list(pool.map(work, chunks))
        else:
            for docs in chunks:
                work(docs)
        return sig


def estimate_jaccard(
    sig: np.ndarray, a: np.ndarray, b: np.ndarray, chunk: int = 200_000
) -> np.ndarray:
    """Share of equal signature positions for each pair (a[i], b[i])."""
    out = np.empty(len(a), dtype=np.float32)
    for s in range(0, len(a), chunk):
        sa, sb = sig[a[s : s + chunk]], sig[b[s : s + chunk]]
        out[s : s + chunk] = ((sa == sb) & (sa != EMPTY)).mean(axis=1)
    return out
