"""BM25 over sentences, as a sparse matrix so a query against a million sentences is one
sparse-dense product.

The semantic score misses what a claim's rare words catch (names, numbers, places) and a
re-worded claim keeps most of them, so matching uses both. Terms are hashed into a fixed
number of columns: the index needs no vocabulary to persist or merge, and the rare
collisions only add a little noise to scores that are re-checked pair by pair.

Scores are *self-normalised*: BM25(query, sentence) divided by the sum of the query's term
weights, so 1.0 means every query term is present (at a typical length), whatever the
query, and one threshold means the same thing for every query.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable

import numpy as np
import scipy.sparse as sp

from echoscope.detect.claims.embed import clean_for_embedding
from echoscope.detect.text import tokens

N_BUCKETS = 1 << 22
K1 = 1.2
B = 0.75
# Function words of English and Persian: they carry no claim, and in short sentences they
# would otherwise make unrelated sentences look alike.
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "to",
        "in",
        "on",
        "at",
        "by",
        "for",
        "from",
        "with",
        "and",
        "or",
        "but",
        "not",
        "no",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "am",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "as",
        "if",
        "than",
        "then",
        "so",
        "such",
        "there",
        "here",
        "he",
        "she",
        "they",
        "we",
        "you",
        "i",
        "me",
        "my",
        "our",
        "your",
        "his",
        "her",
        "their",
        "them",
        "us",
        "do",
        "does",
        "did",
        "has",
        "have",
        "had",
        "will",
        "would",
        "can",
        "could",
        "should",
        "may",
        "might",
        "must",
        "shall",
        "just",
        "also",
        "very",
        "into",
        "out",
        "up",
        "about",
        "over",
        "after",
        "before",
        "rt",
        "amp",
        "via",
        "و",
        "در",
        "به",
        "از",
        "که",
        "این",
        "را",
        "با",
        "است",
        "آن",
        "برای",
        "تا",
        "یک",
        "هم",
        "بر",
        "شد",
        "می",
    ]
)


def terms(text: str) -> list[int]:
    out = []
    for tok in tokens(clean_for_embedding(text)):
        if tok in STOPWORDS:
            continue
        out.append(zlib.crc32(tok.encode("utf-8")) % N_BUCKETS)
    return out


def term_matrix(texts: Iterable[str]) -> sp.csr_matrix:
    """Raw term counts, one row per text."""
    indptr = [0]
    cols: list[int] = []
    for text in texts:
        cols.extend(terms(text))
        indptr.append(len(cols))
    data = np.ones(len(cols), dtype=np.float32)
    m = sp.csr_matrix(
        (data, np.asarray(cols, dtype=np.int32), np.asarray(indptr, dtype=np.int64)),
        shape=(len(indptr) - 1, N_BUCKETS),
    )
    m.sum_duplicates()
    return m


class BM25:
    """BM25 over rows of a term-count matrix; rows can be appended."""

    def __init__(self, counts: sp.csr_matrix | None = None) -> None:
        self.counts = (
            counts if counts is not None else sp.csr_matrix((0, N_BUCKETS), dtype=np.float32)
        )
        self._refresh()

    def __len__(self) -> int:
        return self.counts.shape[0]

    def add(self, texts: Iterable[str]) -> None:
        self.counts = sp.vstack([self.counts, term_matrix(texts)], format="csr")
        self._refresh()

    def _refresh(self) -> None:
        n = self.counts.shape[0]
        lengths = np.asarray(self.counts.sum(axis=1)).ravel()
        avg = float(lengths.mean()) if n else 1.0
        df = np.bincount(self.counts.indices, minlength=N_BUCKETS).astype(np.float64)
        self.idf = np.log1p((n - df + 0.5) / (df + 0.5)).astype(np.float32)
        # BM25's saturated term frequency, precomputed per stored entry
        rows = np.repeat(np.arange(n), np.diff(self.counts.indptr))
        tf = self.counts.data
        norm = K1 * (1 - B + B * lengths[rows] / max(avg, 1e-9))
        weighted = (tf * (K1 + 1) / (tf + norm)).astype(np.float32)
        self.weights = sp.csr_matrix(
            (weighted, self.counts.indices, self.counts.indptr), shape=self.counts.shape
        )
        self._csc: sp.csc_matrix | None = None
        self._query_side: tuple[sp.csr_matrix, np.ndarray] | None = None

    def _query(self, text: str) -> tuple[np.ndarray, np.ndarray, float]:
        cols = np.unique(np.asarray(terms(text), dtype=np.int64))
        w = self.idf[cols] if len(cols) else np.zeros(0, dtype=np.float32)
        return cols, w, float(w.sum())

    def search(self, text: str, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-k rows for a query, with self-normalised scores."""
        cols, w, total = self._query(text)
        if not len(cols) or not len(self) or total <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        if self._csc is None:
            self._csc = self.weights.tocsc()
        scores = (self._csc[:, cols] @ w) / total
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[scores[top] > 0]
        top = top[np.argsort(-scores[top], kind="stable")]
        return top.astype(np.int64), scores[top].astype(np.float32)

    def score(self, text: str, rows: np.ndarray) -> np.ndarray:
        """Self-normalised scores of one query against given rows."""
        cols, w, total = self._query(text)
        if not len(cols) or total <= 0 or not len(rows):
            return np.zeros(len(rows), dtype=np.float32)
        sub = self.weights[np.asarray(rows)][:, cols]
        return (np.asarray(sub @ w).ravel() / total).astype(np.float32)

    def pair_scores(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Mean of the two directions' self-normalised scores for row pairs (a[i], b[i])."""
        if not len(a):
            return np.zeros(0, dtype=np.float32)
        if self._query_side is None:  # each row as a query: idf per term present
            present = self.counts.copy()
            present.data = np.ones_like(present.data)
            q = present.multiply(self.idf[np.newaxis, :]).tocsr()
            self._query_side = q, np.asarray(q.sum(axis=1)).ravel()
        q, totals = self._query_side
        out = np.zeros(len(a), dtype=np.float32)
        step = 200_000
        for lo in range(0, len(a), step):
            aa, bb = a[lo : lo + step], b[lo : lo + step]
            ab = np.asarray(q[aa].multiply(self.weights[bb]).sum(axis=1)).ravel()
            ba = np.asarray(q[bb].multiply(self.weights[aa]).sum(axis=1)).ravel()
            ta, tb = totals[aa], totals[bb]
            sa = np.divide(ab, ta, out=np.zeros_like(ab), where=ta > 0)
            sb = np.divide(ba, tb, out=np.zeros_like(ba), where=tb > 0)
            out[lo : lo + step] = (sa + sb) / 2
        return out

    def save(self, path: str) -> None:
        sp.save_npz(path, self.counts, compressed=False)

    @classmethod
    def load(cls, path: str) -> BM25:
        return cls(sp.load_npz(path).tocsr().astype(np.float32))
