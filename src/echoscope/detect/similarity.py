"""Topical similarity: TF-IDF vectors over normalised words, cosine between documents.

Not evidence of copying (two reporters covering one trial use the same names), so it is
always reported apart from reuse; it ranks likely sources when a writer re-typed the
agency copy instead of pasting it.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
from scipy import sparse

from echoscope.detect.text import tokens

# Very common English function words carry no topic.
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "if",
        "of",
        "to",
        "in",
        "on",
        "at",
        "by",
        "for",
        "with",
        "from",
        "as",
        "is",
        "was",
        "were",
        "be",
        "been",
        "being",
        "are",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "he",
        "she",
        "they",
        "we",
        "you",
        "i",
        "his",
        "her",
        "their",
        "our",
        "your",
        "my",
        "me",
        "him",
        "them",
        "us",
        "not",
        "no",
        "so",
        "than",
        "then",
        "there",
        "here",
        "who",
        "whom",
        "which",
        "what",
        "when",
        "where",
        "why",
        "how",
        "all",
        "any",
        "both",
        "each",
        "few",
        "more",
        "most",
        "other",
        "some",
        "such",
        "only",
        "own",
        "same",
        "too",
        "very",
        "can",
        "will",
        "just",
        "should",
        "now",
        "said",
        "says",
        "would",
        "could",
        "has",
        "have",
        "had",
        "do",
        "does",
        "did",
        "up",
        "out",
        "over",
        "under",
        "again",
        "further",
        "once",
        "about",
        "into",
    ]
)


class TfIdf:
    def __init__(self, min_df: int = 1, max_df_ratio: float = 0.5, sublinear: bool = True) -> None:
        self.min_df = min_df
        self.max_df_ratio = max_df_ratio
        self.sublinear = sublinear
        self.vocab: dict[str, int] = {}
        self.idf: np.ndarray | None = None

    @staticmethod
    def _terms(text: str) -> list[str]:
        return [t for t in tokens(text) if t not in STOPWORDS and not t.isdigit() and len(t) > 1]

    def fit(self, texts: list[str]) -> TfIdf:
        df: Counter[str] = Counter()
        for text in texts:
            df.update(set(self._terms(text)))
        n = len(texts)
        keep = [
            t for t, c in df.items() if (c >= self.min_df and c <= self.max_df_ratio * n) or n < 3
        ]
        self.vocab = {t: i for i, t in enumerate(sorted(keep))}
        counts = np.array([df[t] for t in sorted(keep)], dtype=np.float64)
        self.idf = np.log((1 + n) / (1 + counts)) + 1.0
        return self

    def transform(self, texts: list[str]) -> sparse.csr_matrix:
        assert self.idf is not None, "fit first"
        rows, cols, vals = [], [], []
        for r, text in enumerate(texts):
            tf = Counter(self.vocab[t] for t in self._terms(text) if t in self.vocab)
            for c, v in tf.items():
                rows.append(r)
                cols.append(c)
                vals.append((1.0 + np.log(v)) if self.sublinear else float(v))
        m = sparse.csr_matrix((vals, (rows, cols)), shape=(len(texts), len(self.vocab)))
        m = m.multiply(self.idf).tocsr()
        norms = np.sqrt(m.multiply(m).sum(axis=1)).A.ravel()
        norms[norms == 0] = 1.0
        return sparse.diags(1.0 / norms) @ m


def cosine_matrix(queries: list[str], candidates: list[str]) -> np.ndarray:
    """Dense (len(queries), len(candidates)) TF-IDF cosine, IDF fitted on both sets."""
    model = TfIdf().fit(queries + candidates)
    q = model.transform(queries)
    c = model.transform(candidates)
    return (q @ c.T).toarray()
