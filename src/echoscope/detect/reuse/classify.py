"""What kind of reuse a link is, from its aligned passages.

- verbatim: the copy is (almost) all reused text, (almost) unchanged;
- near-verbatim: most of the copy is reused text with light edits;
- partial: some passages reused inside otherwise different text;
- paraphrase: reserved for the semantic (claims) stage; never produced here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from echoscope.detect.reuse.align import Passage

VERBATIM, NEAR_VERBATIM, PARTIAL, PARAPHRASE = "verbatim", "near-verbatim", "partial", "paraphrase"
KINDS = (VERBATIM, NEAR_VERBATIM, PARTIAL, PARAPHRASE)


@dataclass(frozen=True)
class LinkSummary:
    kind: str
    coverage_a: float  # share of A's tokens aligned word for word with B
    coverage_b: float
    identity: float  # matched tokens over all tokens in the passages, both sides
    matched: int
    passages: int


def _coverage(spans: list[tuple[int, int]], n: int) -> float:
    if n <= 0 or not spans:
        return 0.0
    mask = np.zeros(n, dtype=bool)
    for s, e in spans:
        mask[s:e] = True
    return float(mask.sum()) / n


def summarize(passages: list[Passage], n_a: int, n_b: int, target: str = "b") -> LinkSummary:
    """Classify a link; ``target`` names the side that copied (the later document)."""
    # Coverage counts the words that match exactly, not the edited stretches between them.
    cov_a = _coverage(
        [
            (sa, sa + n)
            for p in passages
            for sa, _, n in (p.blocks or ((p.a_tokens[0], 0, p.a_tokens[1] - p.a_tokens[0]),))
        ],
        n_a,
    )
    cov_b = _coverage(
        [
            (sb, sb + n)
            for p in passages
            for _, sb, n in (p.blocks or ((0, p.b_tokens[0], p.b_tokens[1] - p.b_tokens[0]),))
        ],
        n_b,
    )
    matched = sum(p.matched for p in passages)
    span = sum((p.a_tokens[1] - p.a_tokens[0]) + (p.b_tokens[1] - p.b_tokens[0]) for p in passages)
    identity = 2.0 * matched / span if span else 0.0
    cov_t = cov_b if target == "b" else cov_a
    if cov_t >= 0.85 and identity >= 0.97:
        kind = VERBATIM
    elif cov_t >= 0.5 and identity >= 0.8:
        kind = NEAR_VERBATIM
    else:
        kind = PARTIAL
    return LinkSummary(
        kind, round(cov_a, 4), round(cov_b, 4), round(min(identity, 1.0), 4), matched, len(passages)
    )
