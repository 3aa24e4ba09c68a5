"""Word n-gram shingles, hashed to 64 bits, for many documents at once, in NumPy.

Millions of posts cannot be tokenised one Python string at a time. A batch is joined,
encoded as UTF-32 and read as an array of code points; lookup tables give each code point
its class (word character, separator, a character of a script written without spaces, or
a mark that lives inside words and is ignored) and its folded form (lower case; Arabic
letter variants unified to the Persian forms; Arabic-Indic digits to ASCII). Token hashes
are polynomial hashes over the folded code points, computed with ``reduceat``; shingles
are hashes of ``k`` consecutive token hashes. No Python loop runs per token or shingle.

The folding matches ``echoscope.detect.text.normalize_token`` (which the aligner uses) for
all practical text; hashes are stable across runs, processes and machines.
"""

from __future__ import annotations

import functools
import itertools
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from echoscope.detect.text import _ARABIC, _NO_SPACE

SEP, WORD, SOLO, SKIP = 0, 1, 2, 3

_M1 = np.uint64(0x9E3779B97F4A7C15)
_M2 = np.uint64(0xBF58476D1CE4E5B9)
_M3 = np.uint64(0x94D049BB133111EB)
_MAX_TOKEN = 64  # characters of a token that enter its hash


def mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: spreads every input bit over the whole output word."""
    x = np.asarray(x, dtype=np.uint64).copy()
    x ^= x >> np.uint64(30)
    x *= _M2
    x ^= x >> np.uint64(27)
    x *= _M3
    x ^= x >> np.uint64(31)
    return x


@functools.lru_cache(maxsize=1)
def _tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Class and folded code point for every code point; powers for token hashing."""
    n = 0x110000
    cls = np.zeros(n, dtype=np.uint8)
    fold = np.arange(n, dtype=np.uint32)
    for cp in range(0x10000):
        if 0xD800 <= cp < 0xE000:
            continue
        ch = chr(cp)
        if ch.isalnum() or ch == "_":
            cls[cp] = SOLO if _NO_SPACE.match(ch) else WORD
            low = ch.lower()
            if len(low) == 1:
                fold[cp] = ord(low)
        elif not 0xFE00 <= cp <= 0xFE0F and unicodedata.category(ch) in ("Mn", "Mc", "Me"):
            cls[cp] = WORD  # combining marks belong to the word they are in
    for cp in range(0x10000, 0x20000):  # letters of historic and minority scripts
        if chr(cp).isalnum() or (
            unicodedata.category(chr(cp)) in ("Mn", "Mc") and not 0xE0100 <= cp <= 0xE01EF
        ):
            cls[cp] = WORD
    cls[0x20000:0x32000] = SOLO  # CJK extensions; other astral characters (emoji) separate
    for ch, repl in _ARABIC.items():
        cp = ord(ch)
        if repl is None:
            cls[cp] = SKIP
        else:
            cls[cp] = WORD
            fold[cp] = ord(repl)
    powers = np.empty(_MAX_TOKEN, dtype=np.uint64)
    acc = np.uint64(1)
    with np.errstate(over="ignore"):
        for i in range(_MAX_TOKEN):
            powers[i] = acc
            acc = acc * np.uint64(0x100000001B3)
    return cls, fold, powers


def token_hashes(texts: list[str], chunk_chars: int = 1 << 20) -> tuple[np.ndarray, np.ndarray]:
    """64-bit hashes of the normalised tokens of every text.

    Returns (hashes, offsets): text i has hashes[offsets[i]:offsets[i+1]]. Works in
    chunks of about a megabyte of text: the arrays then stay in cache, which is several
    times faster than one pass over a large batch.
    """
    pieces: list[list[str]] = []
    start = 0
    size = 0
    for i, text in enumerate(texts):
        size += len(text) + 1
        if size >= chunk_chars:
            pieces.append(texts[start : i + 1])
            start, size = i + 1, 0
    if start < len(texts) or not texts:
        pieces.append(texts[start:])
    results = _map(_token_hashes, pieces)
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(np.concatenate([np.diff(off) for _, off in results]), out=offsets[1:])
    return np.concatenate([h for h, _ in results]), offsets


def _map(fn, items: list, threads: int = 2) -> list:
    """Run ``fn`` over items on two threads: the work is NumPy, which releases the
    interpreter lock, so both cores are used."""
    if len(items) < 2 or threads < 2:
        return [fn(item) for item in items]
    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(fn, items))


def _token_hashes(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    cls_table, fold_table, powers = _tables()
    # casefold (not just lower) so that "straße" and "STRASSE" agree, as in the aligner
    parts = [t if t.isascii() else unicodedata.normalize("NFKC", t).casefold() for t in texts]
    # A separator between texts so no token spans two of them.
    big = "\n".join(parts)
    cps = np.frombuffer(big.encode("utf-32-le", errors="replace"), dtype=np.uint32)
    if len(cps) == 0:  # only empty texts
        return np.zeros(0, dtype=np.uint64), np.zeros(len(texts) + 1, dtype=np.int64)
    cls = cls_table[cps]
    in_word = (cls == WORD) | (cls == SKIP)
    solo = cls == SOLO
    # A token starts at a word char not preceded by a word char, and at every solo char.
    starts_mask = solo.copy()
    starts_mask[0] |= in_word[0]
    starts_mask[1:] |= in_word[1:] & ~in_word[:-1]
    tok_id = np.cumsum(starts_mask, dtype=np.int64)
    pos = np.flatnonzero((cls == WORD) | solo)  # characters that enter a token's hash
    if len(pos) == 0:
        return np.zeros(0, dtype=np.uint64), np.zeros(len(texts) + 1, dtype=np.int64)
    tids = tok_id[pos]
    first_of_tok = np.empty(len(pos), dtype=bool)
    first_of_tok[0] = True
    np.not_equal(tids[1:], tids[:-1], out=first_of_tok[1:])
    seg = np.flatnonzero(first_of_tok)
    # Rank of each character inside its token, for the polynomial weight.
    run_start = np.repeat(seg, np.diff(np.append(seg, len(pos))))
    rank = np.minimum(np.arange(len(pos)) - run_start, _MAX_TOKEN - 1)
    with np.errstate(over="ignore"):
        weighted = (fold_table[cps[pos]].astype(np.uint64) + np.uint64(1)) * powers[rank]
    hashes = mix64(np.add.reduceat(weighted, seg))
    # Texts are joined with one separator each: map a token's first character to its text.
    lens = np.fromiter((len(p) + 1 for p in parts), dtype=np.int64, count=len(parts))
    text_end = np.cumsum(lens)
    owner = np.searchsorted(text_end, pos[seg], side="right")
    counts = np.bincount(owner, minlength=len(texts))
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    return hashes, offsets


@dataclass
class Shingled:
    """Shingle hashes of a batch: doc i owns hashes[offsets[i]:offsets[i+1]] (sorted, unique)."""

    hashes: np.ndarray
    offsets: np.ndarray
    n_tokens: np.ndarray

    @property
    def n_docs(self) -> int:
        return len(self.offsets) - 1

    def doc(self, i: int) -> np.ndarray:
        return self.hashes[self.offsets[i] : self.offsets[i + 1]]

    def set_hashes(self) -> np.ndarray:
        """An order-free hash of each document's shingle set: equal sets, equal hash."""
        out = np.zeros(self.n_docs, dtype=np.uint64)
        counts = np.diff(self.offsets)
        nz = np.nonzero(counts)[0]
        if len(nz):
            with np.errstate(over="ignore"):
                sums = np.add.reduceat(mix64(self.hashes ^ _M3), self.offsets[nz])
            out[nz] = mix64(sums ^ counts[nz].astype(np.uint64))
        return out


def shingle_token_hashes(
    tok_hashes: np.ndarray, tok_offsets: np.ndarray, k: int, chunk_tokens: int = 200_000
) -> Shingled:
    """Hash every run of ``k`` consecutive tokens inside each document.

    A document shorter than ``k`` tokens gets one shingle of all its tokens, so short
    posts still have a signature. Each document's shingles are sorted and de-duplicated
    (a set, as MinHash and Jaccard need). Runs over chunks of documents (cache-sized).
    """
    if k < 1:
        raise ValueError("shingle size must be at least 1")
    n_docs = len(tok_offsets) - 1
    if len(tok_hashes) <= chunk_tokens or n_docs <= 1:
        return _shingle(tok_hashes, tok_offsets, k)
    bounds = [0]
    targets = np.arange(chunk_tokens, len(tok_hashes), chunk_tokens)
    cuts = np.searchsorted(tok_offsets, targets)
    for c in cuts:
        if bounds[-1] < c < n_docs:
            bounds.append(int(c))
    bounds.append(n_docs)

    def one(span: tuple[int, int]) -> Shingled:
        off = tok_offsets[span[0] : span[1] + 1]
        return _shingle(tok_hashes[off[0] : off[-1]], off - off[0], k)

    parts = _map(one, list(itertools.pairwise(bounds)))
    counts = np.concatenate([np.diff(p.offsets) for p in parts])
    offsets = np.zeros(n_docs + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    return Shingled(
        hashes=np.concatenate([p.hashes for p in parts]),
        offsets=offsets,
        n_tokens=np.concatenate([p.n_tokens for p in parts]),
    )


def _shingle(tok_hashes: np.ndarray, tok_offsets: np.ndarray, k: int) -> Shingled:
    n_docs = len(tok_offsets) - 1
    lengths = np.diff(tok_offsets)
    # Pad each document with k-1 zero tokens so every window stays inside one document.
    pad = k - 1
    padded_len = lengths + pad
    pstart = np.zeros(n_docs + 1, dtype=np.int64)
    np.cumsum(padded_len, out=pstart[1:])
    padded = np.zeros(int(pstart[-1]), dtype=np.uint64)
    doc_of_tok = np.repeat(np.arange(n_docs), lengths)
    within = np.arange(len(tok_hashes)) - tok_offsets[doc_of_tok]
    padded[pstart[doc_of_tok] + within] = tok_hashes
    total = len(padded)
    if total < k or len(tok_hashes) == 0:
        empty = np.zeros(n_docs + 1, dtype=np.int64)
        return Shingled(np.zeros(0, dtype=np.uint64), empty, lengths)
    with np.errstate(over="ignore"):
        acc = padded[: total - k + 1].copy()
        for j in range(1, k):
            acc = acc * _M1 + padded[j : total - k + 1 + j]
    acc = mix64(acc)
    # Windows that start at a real token and either end inside the document or start at
    # position 0 of a document shorter than k.
    n_windows = np.where(lengths >= k, lengths - k + 1, np.where(lengths > 0, 1, 0))
    w_doc = np.repeat(np.arange(n_docs), n_windows)
    w_rank = np.arange(len(w_doc)) - np.repeat(np.cumsum(n_windows) - n_windows, n_windows)
    w_pos = pstart[w_doc] + w_rank
    sh = acc[w_pos]
    # Sort by (doc, hash) and drop repeats inside a document.
    order = np.lexsort((sh, w_doc))
    sh, sh_doc = sh[order], w_doc[order]
    if len(sh):
        keep = np.ones(len(sh), dtype=bool)
        keep[1:] = (sh[1:] != sh[:-1]) | (sh_doc[1:] != sh_doc[:-1])
        sh, sh_doc = sh[keep], sh_doc[keep]
    counts = np.bincount(sh_doc, minlength=n_docs)
    offsets = np.zeros(n_docs + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    return Shingled(hashes=sh, offsets=offsets, n_tokens=lengths)


def shingle_texts(texts: list[str], k: int) -> Shingled:
    hashes, offsets = token_hashes(texts)
    return shingle_token_hashes(hashes, offsets, k)
