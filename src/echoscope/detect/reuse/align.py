"""Local alignment of two texts: every reused passage with exact character offsets.

Seed-and-chain, as passim and BLAST do: shared token trigrams seed exact-match blocks on
diagonals; blocks are extended while tokens agree; nearby blocks in the same order are
chained into one passage across small edits (an inserted clause, a changed word), and
blocks out of order start a new passage (a reordered paragraph). Tokens are compared in
normalised form; offsets index the original texts, so every passage is an exact slice.
"""

from __future__ import annotations

import difflib
import itertools
from dataclasses import dataclass

import numpy as np

from echoscope.detect.text import tokens_with_offsets

SEED = 3


@dataclass(frozen=True)
class Passage:
    a_begin: int  # character offsets into text A
    a_end: int
    b_begin: int  # character offsets into text B
    b_end: int
    a_tokens: tuple[int, int]  # token span [start, end) in A
    b_tokens: tuple[int, int]
    matched: int  # tokens aligned identically
    identity: float  # 2 * matched / (tokens in both spans)
    blocks: tuple[tuple[int, int, int], ...] = ()  # exact runs (a_start, b_start, length)


@dataclass
class Tokenized:
    ids: list[int]
    starts: np.ndarray
    ends: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)


def tokenize(text: str, vocab: dict[str, int]) -> Tokenized:
    toks, starts, ends = tokens_with_offsets(text)
    ids = [vocab.setdefault(t, len(vocab)) for t in toks]
    return Tokenized(ids, starts, ends)


def _blocks(a: list[int], b: list[int], seed: int) -> list[tuple[int, int, int]]:
    """Maximal exact-match blocks (a_start, b_start, length) seeded by shared n-grams."""
    if len(a) < seed or len(b) < seed:
        seed = max(1, min(len(a), len(b)))
    index: dict[tuple[int, ...], list[int]] = {}
    for i in range(len(a) - seed + 1):
        key = tuple(a[i : i + seed])
        positions = index.setdefault(key, [])
        if len(positions) < 32:
            positions.append(i)
    covered: set[tuple[int, int]] = set()  # (diag, a position) already inside a block
    blocks: list[tuple[int, int, int]] = []
    for j in range(len(b) - seed + 1):
        for i in index.get(tuple(b[j : j + seed]), ()):
            diag = j - i
            if (diag, i) in covered:
                continue
            # extend left and right while tokens agree
            s_a, s_b = i, j
            while s_a > 0 and s_b > 0 and a[s_a - 1] == b[s_b - 1]:
                s_a -= 1
                s_b -= 1
            e_a, e_b = i + seed, j + seed
            while e_a < len(a) and e_b < len(b) and a[e_a] == b[e_b]:
                e_a += 1
                e_b += 1
            for p in range(s_a, e_a):
                covered.add((diag, p))
            blocks.append((s_a, s_b, e_a - s_a))
    return blocks


def _gap_matches(a: list[int], b: list[int]) -> int:
    if not a or not b:
        return 0
    if len(a) * len(b) > 40_000:
        return 0
    return sum(
        m.size for m in difflib.SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks()
    )


def align_tokens(
    a: Tokenized,
    b: Tokenized,
    *,
    min_tokens: int = 10,
    max_gap: int = 20,
    seed: int = SEED,
    min_identity: float = 0.5,
) -> list[Passage]:
    """All passages of A reused in B (or vice versa), longest first."""
    blocks = _blocks(a.ids, b.ids, seed)
    if not blocks:
        return []
    blocks.sort(key=lambda x: (-x[2], x[0]))
    # Greedy: keep the longest blocks first, drop blocks that reuse tokens already taken on
    # either side (a sentence repeated in one text maps to its best counterpart only).
    used_a = np.zeros(len(a), dtype=bool)
    used_b = np.zeros(len(b), dtype=bool)
    kept: list[tuple[int, int, int]] = []
    for sa, sb, n in blocks:
        if used_a[sa : sa + n].any() or used_b[sb : sb + n].any():
            # trim to the free part if a long enough piece remains
            free = ~(used_a[sa : sa + n] | used_b[sb : sb + n])
            if free.sum() < seed:
                continue
            # longest free run
            best_len, best_start, run = 0, 0, 0
            for k, f in enumerate(free):
                run = run + 1 if f else 0
                if run > best_len:
                    best_len, best_start = run, k - run + 1
            if best_len < seed:
                continue
            sa, sb, n = sa + best_start, sb + best_start, best_len
        used_a[sa : sa + n] = True
        used_b[sb : sb + n] = True
        kept.append((sa, sb, n))
    kept.sort()
    # Chain blocks that follow each other closely on both sides into passages.
    chains: list[list[tuple[int, int, int]]] = []
    active: list[list[tuple[int, int, int]]] = []  # chains that may still be extended
    for blk in kept:
        sa, sb, n = blk
        best = None
        # blocks arrive in A order: a chain ending more than max_gap before this block
        # can never be extended again, so it leaves the scan (keeps long texts linear)
        active = [c for c in active if c[-1][0] + c[-1][2] >= sa - max_gap]
        for chain in active:
            la, lb, ln = chain[-1]
            gap_a = sa - (la + ln)
            gap_b = sb - (lb + ln)
            if 0 <= gap_a <= max_gap and 0 <= gap_b <= max_gap:
                score = gap_a + gap_b
                if best is None or score < best[0]:
                    best = (score, chain)
        if best is None:
            chains.append([blk])
            active.append(chains[-1])
        else:
            best[1].append(blk)
    passages: list[Passage] = []
    short_side = min(len(a), len(b))
    for chain in chains:
        matched = sum(n for _, _, n in chain)
        for (la, lb, ln), (sa, sb, _) in itertools.pairwise(chain):
            matched += _gap_matches(a.ids[la + ln : sa], b.ids[lb + ln : sb])
        a0, b0 = chain[0][0], chain[0][1]
        a1 = chain[-1][0] + chain[-1][2]
        b1 = chain[-1][1] + chain[-1][2]
        identity = 2.0 * matched / ((a1 - a0) + (b1 - b0))
        # Keep passages of min_tokens, or nearly all of a short text (a copied post); a
        # chain of scattered stock phrases ("told the court") is not a passage.
        whole_short = matched >= 3 and matched >= 0.8 * short_side and identity >= 0.8
        if identity < min_identity or (matched < min_tokens and not whole_short):
            continue
        passages.append(
            Passage(
                a_begin=int(a.starts[a0]),
                a_end=int(a.ends[a1 - 1]),
                b_begin=int(b.starts[b0]),
                b_end=int(b.ends[b1 - 1]),
                a_tokens=(a0, a1),
                b_tokens=(b0, b1),
                matched=matched,
                identity=round(min(1.0, identity), 4),
                blocks=tuple(chain),
            )
        )
    passages.sort(key=lambda p: -p.matched)
    return passages


def align(text_a: str, text_b: str, **kwargs) -> list[Passage]:
    """Convenience: tokenise and align two texts."""
    vocab: dict[str, int] = {}
    return align_tokens(tokenize(text_a, vocab), tokenize(text_b, vocab), **kwargs)
