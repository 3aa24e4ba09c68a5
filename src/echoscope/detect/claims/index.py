"""The sentence index: an HNSW graph over sentence vectors and BM25 over their words,
persisted beside the store and extended in place as documents arrive.

hnswlib was chosen by measurement (``benchmarks/claims_choices.py``: 170k MiniLM vectors,
2 cores, M=16, ef 128/64): build 21.8 s, recall@10 0.984, p95 query 0.21 ms; FAISS HNSW
23.5 s / 0.985 / 0.18 ms; usearch (f16) 34.1 s / 0.988 / 0.40 ms. Recall is alike;
hnswlib builds fastest and is the smallest dependency.

Both parts can always be rebuilt from the store (vectors and texts are kept there), so a
lost or stale index file costs a rebuild, never a re-embedding.
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
        self._hnsw.set_num_threads(max(1, os.cpu_count() or 1))
        self.lexical = BM25()

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
        self._hnsw.add_items(np.ascontiguousarray(vectors, dtype=np.float32), rows)
        self.lexical.add(texts)

    def vectors(self, rows: np.ndarray) -> np.ndarray:
        if not len(rows):
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.asarray(self._hnsw.get_items(np.asarray(rows), return_type="numpy"), np.float32)

    def nearest(self, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(rows, cosines) of the k nearest rows to each vector."""
        k = min(k, len(self))
        if k == 0:
            empty = np.zeros((len(vectors), 0))
            return empty.astype(np.int64), empty.astype(np.float32)
        self._hnsw.set_ef(max(EF_SEARCH, k))
        labels, dist = self._hnsw.knn_query(np.atleast_2d(vectors), k=k)
        return labels.astype(np.int64), (1.0 - dist).astype(np.float32)

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
