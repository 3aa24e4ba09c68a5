"""The sentence index: an HNSW graph over sentence vectors and BM25 over their words,
persisted beside the store and extended in place as documents arrive.

hnswlib was chosen by measurement (``benchmarks/claims_choices.py``: 170k MiniLM vectors,
2 cores, M=16, ef 128/64): build 21.8 s, recall@10 0.984, p95 query 0.21 ms; FAISS HNSW
23.5 s / 0.985 / 0.18 ms; usearch (f16) 34.1 s / 0.988 / 0.40 ms. Recall is alike;
hnswlib builds fastest and is the smallest dependency.

Both parts can always be rebuilt from the store (vectors and texts are kept there), so a
lost or stale index file costs a rebuild, never a re-embedding.

Answers must not depend on how the graph happened to be built: hnswlib inserting with
several threads links the graph in whatever order the threads reach it, so two builds
over the same vectors answered differently, and two runs of the claims stage on METER
stored different claim links. So ``nearest`` ranks by an exact score (the float64 dot
product of the stored vectors, ties to the smaller row) and the graph only proposes
candidates. Up to EXACT_ROWS rows it is not asked at all: every row is compared, which
costs less than asking it (30k rows against themselves: 9 s on 2 cores, against 10 s to
build the graph and 15 s to ask it and re-score). Beyond, it proposes EXTRA rows more
than asked for, so that a near-tie at the edge is decided by the exact score, and it is
built with one thread, so that the same vectors in the same order give the same graph
(about twice as long to build; embedding the rows takes ten times longer again). A graph
loaded and then extended is not the one a single build makes (hnswlib does not keep its
level generator's state), so beyond EXACT_ROWS an index extended run by run may miss a
neighbour that one built at once finds, or the reverse; up to it, never.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from echoscope.detect.claims.lexical import BM25

M = 16
EF_CONSTRUCTION = 128
EF_SEARCH = 128
# up to this many rows, every row is compared with each query (exact and independent of
# the graph); beyond, the graph proposes candidates that are re-scored exactly
EXACT_ROWS = 50_000
EXTRA = 16  # candidates the graph proposes beyond those asked for, for near-ties
_QUERY_BLOCK = 512  # queries scored at once: bounds the (block x rows) score matrix


def exact_cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Dot products of row pairs (a[i], b[i]) in float64: each product of two float32s is
    exact in float64 and each row is summed in one fixed order, so a pair scores the same
    whatever else is scored with it (a BLAS product's last bits depend on its shape)."""
    return (np.asarray(a, dtype=np.float64) * np.asarray(b, dtype=np.float64)).sum(axis=1)


def _max_norm(vectors: np.ndarray) -> float:
    return (
        float(np.sqrt((vectors.astype(np.float64) ** 2).sum(axis=1).max())) if len(vectors) else 0.0
    )


def _pair_scores(
    queries: np.ndarray, qi: np.ndarray, cands: np.ndarray, ci: np.ndarray, chunk: int = 8192
) -> np.ndarray:
    """``exact_cosines(queries[qi], cands[ci])``, a chunk of pairs at a time (bounded memory)."""
    out = np.zeros(len(qi), dtype=np.float64)
    for lo in range(0, len(qi), chunk):
        out[lo : lo + chunk] = exact_cosines(
            queries[qi[lo : lo + chunk]], cands[ci[lo : lo + chunk]]
        )
    return out


class StaleIndexError(RuntimeError):
    """An index file that does not belong to this store; rebuild it."""


def index_paths(db_path: str | Path) -> tuple[Path, Path, Path]:
    base = str(db_path)
    return Path(base + ".claims.hnsw"), Path(base + ".claims.bm25.npz"), Path(base + ".claims.json")


class ClaimIndex:
    """Rows 0..n-1 are unique sentence texts; row ``r`` is label ``r`` in both parts."""

    def __init__(self, dim: int, model: str, hnsw_file: Path | None = None, rows: int = 0) -> None:
        import hnswlib

        self.dim = dim
        self.model = model
        self.saved_rows = rows if hnsw_file is not None else -1  # rows in the files on disk
        self._hnsw = hnswlib.Index(space="ip", dim=dim)
        if hnsw_file is None:
            self._hnsw.init_index(max_elements=1024, M=M, ef_construction=EF_CONSTRUCTION)
        else:
            self._hnsw.load_index(str(hnsw_file), max_elements=max(rows, 1024))
        self._hnsw.set_ef(EF_SEARCH)
        self._hnsw.set_num_threads(max(1, os.cpu_count() or 1))  # for queries only
        self.lexical = BM25()
        self._matrix: np.ndarray | None = None  # every vector, while len <= EXACT_ROWS
        self._max_norm = 0.0  # the longest of them, for the float32 error bound

    def __len__(self) -> int:
        return self._hnsw.get_current_count()

    def add(self, rows: np.ndarray, vectors: np.ndarray, texts: list[str]) -> None:
        """Append rows, which must continue the numbering (n, n+1, ...)."""
        if not len(rows):
            return
        n = len(self)
        if rows[0] != n or not np.array_equal(rows, np.arange(n, n + len(rows))):
            raise StaleIndexError(f"rows must continue from {n}")
        need = n + len(rows)
        if need > self._hnsw.get_max_elements():
            self._hnsw.resize_index(max(need, int(self._hnsw.get_max_elements() * 1.5)))
        # one thread: the graph then depends only on the vectors and their order
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self._hnsw.add_items(vectors, rows, num_threads=1)
        if self._matrix is not None and len(self._matrix) == n and need <= EXACT_ROWS:
            self._matrix = np.concatenate([self._matrix, vectors])
            self._max_norm = max(self._max_norm, _max_norm(vectors))
        elif n == 0 and need <= EXACT_ROWS:
            self._matrix, self._max_norm = vectors.copy(), _max_norm(vectors)
        else:
            self._matrix = None  # read back from the graph when next needed
        self.lexical.add(texts)

    def vectors(self, rows: np.ndarray) -> np.ndarray:
        if not len(rows):
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.asarray(self._hnsw.get_items(np.asarray(rows), return_type="numpy"), np.float32)

    def all_vectors(self) -> np.ndarray:
        """Every row's vector, kept while the index is small enough to compare them all."""
        if self._matrix is None or len(self._matrix) != len(self):
            self._matrix = self.vectors(np.arange(len(self)))
            self._max_norm = _max_norm(self._matrix)
        return self._matrix

    def nearest(self, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(rows, cosines) of the k nearest rows to each vector, best first: ranked by the
        exact score (``exact_cosines``), ties to the smaller row, so the answer does not
        depend on how the graph was built. Up to EXACT_ROWS rows it is the exact top k."""
        queries = np.atleast_2d(np.asarray(vectors, dtype=np.float32))
        k = min(k, len(self))
        if k == 0 or not len(queries):
            empty = np.zeros((len(queries), max(k, 0)))
            return empty.astype(np.int64), empty.astype(np.float64)
        out_rows = np.zeros((len(queries), k), dtype=np.int64)
        out_cos = np.zeros((len(queries), k), dtype=np.float64)
        exact = len(self) <= EXACT_ROWS
        step = _QUERY_BLOCK if exact else 4 * _QUERY_BLOCK
        for lo in range(0, len(queries), step):
            block = queries[lo : lo + step]
            if exact:
                qi, rows = self._candidates_exact(block, k)
                cand, at = self.all_vectors(), rows
            else:  # the graph's candidates, each distinct row's vector fetched once
                qi, rows = self._candidates(block, k)
                distinct, at = np.unique(rows, return_inverse=True)
                cand = self.vectors(distinct)
            score = _pair_scores(block, qi, cand, at)
            # per query: best score first, then the smaller row
            order = np.lexsort((rows, -score, qi))
            qi, rows, score = qi[order], rows[order], score[order]
            rank = np.arange(len(qi)) - np.searchsorted(qi, qi)
            top = rank < k
            out_rows[lo : lo + len(block)] = rows[top].reshape(len(block), k)
            out_cos[lo : lo + len(block)] = score[top].reshape(len(block), k)
        return out_rows, out_cos

    def _candidates_exact(self, block: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(query, row) pairs holding each query's exact top k: every row whose float32
        score is within float32's error of the k-th best, so that the exact re-scoring,
        not float32 rounding, decides the ties at the edge."""
        matrix = self.all_vectors()
        scores = block @ matrix.T
        n = scores.shape[1]
        kth = np.partition(scores, n - k, axis=1)[:, n - k]
        # |float32 dot - exact| <= 2 * d * 2**-24 * |q| * |v| (a loose bound on rounding)
        q_norms = np.linalg.norm(block.astype(np.float64), axis=1)
        slack = 2.0 * self.dim * 2.0**-24 * q_norms * self._max_norm + 1e-12
        qi, rows = np.nonzero(scores >= (kth - slack)[:, None])
        return qi.astype(np.int64), rows.astype(np.int64)

    def _candidates(self, block: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(query, row) pairs the graph proposes: its k best and EXTRA more, of which only
        those within float32's error of its k-th best are kept to be re-scored (the rest
        cannot be in the exact top k of what it proposed)."""
        want = min(len(self), k + EXTRA)
        self._hnsw.set_ef(max(EF_SEARCH, want))
        labels, dist = self._hnsw.knn_query(block, k=want)
        approx = 1.0 - dist.astype(np.float64)  # the graph's own float32 inner products
        kth = -np.partition(-approx, k - 1, axis=1)[:, k - 1]
        # the stored vectors are unit length (``Embedder`` normalises them), and 1e-6 more
        # for the rounding of 1 - distance
        q_norms = np.linalg.norm(block.astype(np.float64), axis=1)
        slack = 2.0 * self.dim * 2.0**-24 * q_norms + 1e-6
        qi, col = np.nonzero(approx >= (kth - slack)[:, None])
        return qi.astype(np.int64), labels[qi, col].astype(np.int64)

    # -- persistence ---------------------------------------------------------------
    def save(self, db_path: str | Path) -> None:
        hnsw_path, bm25_path, meta_path = index_paths(db_path)
        tmp = Path(str(hnsw_path) + ".tmp")
        self._hnsw.save_index(str(tmp))
        os.replace(tmp, hnsw_path)
        tmp_npz = Path(str(bm25_path)[: -len(".npz")] + ".tmp.npz")
        self.lexical.save(str(tmp_npz))
        os.replace(tmp_npz, bm25_path)
        meta = {"rows": len(self), "dim": self.dim, "model": self.model}
        meta_path.write_text(json.dumps(meta), encoding="utf-8")
        self.saved_rows = len(self)

    @classmethod
    def load(cls, db_path: str | Path, *, dim: int, model: str, rows: int) -> ClaimIndex | None:
        """The saved index if it matches the store's rows and model; None to rebuild."""
        hnsw_path, bm25_path, meta_path = index_paths(db_path)
        if not (hnsw_path.exists() and bm25_path.exists() and meta_path.exists()):
            return None
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            if meta.get("rows") != rows or meta.get("dim") != dim or meta.get("model") != model:
                return None
            index = cls(dim, model, hnsw_path, rows)
            index.lexical = BM25.load(str(bm25_path))
        except (OSError, ValueError, RuntimeError):
            return None
        if len(index) != rows or len(index.lexical) != rows:
            return None
        return index
