"""The local engine: NumPy for signatures, worker processes for alignment."""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np

from echoscope.detect.reuse.align import Passage, align_tokens, tokenize
from echoscope.detect.reuse.classify import LinkSummary, summarize
from echoscope.detect.reuse.lsh import band_keys
from echoscope.detect.reuse.minhash import MinHasher
from echoscope.detect.reuse.shingles import Shingled, shingle_token_hashes, token_hashes


@dataclass
class IndexBatch:
    """What the reuse index keeps for a batch of documents."""

    shingled: Shingled
    set_hash: np.ndarray  # (n,) uint64, equal for equal shingle sets
    bands: np.ndarray  # (n, bands) uint64, 0 for documents without shingles


@dataclass
class AlignTask:
    seq_a: int
    seq_b: int
    text_a: str
    text_b: str


@dataclass
class AlignResult:
    seq_a: int
    seq_b: int
    passages: list[Passage]
    summary: LinkSummary | None


def index_texts(
    texts: list[str], shingle: int, hasher: MinHasher, bands: int, rows: int
) -> IndexBatch:
    """Pure step: texts -> shingles, set hashes and LSH band keys."""
    hashes, offsets = token_hashes(texts)
    shingled = shingle_token_hashes(hashes, offsets, shingle)
    sig = hasher.signatures(shingled)
    return IndexBatch(shingled, shingled.set_hashes(), band_keys(sig, bands, rows))


def align_tasks(tasks: list[AlignTask], min_tokens: int, max_gap: int) -> list[AlignResult]:
    """Pure step: align each pair and classify the link (B is the later document)."""
    vocab: dict[str, int] = {}
    cache: dict[int, object] = {}
    out: list[AlignResult] = []
    for t in tasks:
        ta = cache.get(t.seq_a) or cache.setdefault(t.seq_a, tokenize(t.text_a, vocab))
        tb = cache.get(t.seq_b) or cache.setdefault(t.seq_b, tokenize(t.text_b, vocab))
        passages = align_tokens(ta, tb, min_tokens=min_tokens, max_gap=max_gap)  # type: ignore[arg-type]
        summary = summarize(passages, len(ta), len(tb), target="b") if passages else None  # type: ignore[arg-type]
        out.append(AlignResult(t.seq_a, t.seq_b, passages, summary))
        if len(cache) > 5000:
            cache.clear()
    return out


class LocalEngine:
    name = "local"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers if workers is not None else min(4, os.cpu_count() or 1)

    def index(
        self, texts: list[str], shingle: int, hasher: MinHasher, bands: int, rows: int
    ) -> IndexBatch:
        return index_texts(texts, shingle, hasher, bands, rows)

    def align(
        self, tasks: list[AlignTask], min_tokens: int, max_gap: int, chunk: int = 2000
    ) -> Iterator[list[AlignResult]]:
        """Align in chunks (in worker processes when there is enough work)."""
        chunks = [tasks[i : i + chunk] for i in range(0, len(tasks), chunk)]
        if self.workers <= 1 or len(tasks) < 4 * 500:
            for c in chunks:
                yield align_tasks(c, min_tokens, max_gap)
            return
        with ProcessPoolExecutor(max_workers=self.workers) as pool:
            futures = [pool.submit(align_tasks, c, min_tokens, max_gap) for c in chunks]
            for f in futures:
                yield f.result()
