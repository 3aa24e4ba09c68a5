"""Hybrid claim matching: one calibrated probability from a semantic and a lexical score.

Two sentences state the same claim when they mean the same (embedding cosine) *and* share
the words that pin a claim down (names, numbers, places: BM25). A logistic model over the
two scores, fitted on CheckThat! 2022 2A train (tweets against fact-checked claims) by
``benchmarks/train_claim_matcher.py``, turns them into a probability; the two thresholds
on it are calibrated on the dev split (never dev-test) and stored with the weights:

- ``same``: reported as the same claim (precision on dev at least 0.9);
- ``review``: shown as a possible re-wording for a person to confirm (precision 0.5),
  like Meedan Check's suggested vs confirmed matches.

When the query has a date (a post to match against fact-checks, ``trace --near``), a
second set of weights adds how far apart in time the two are: a claim's fact-check is
written days after the post that made it spread, so a candidate published near the query
needs less textual evidence than one from years before. Those weights and thresholds are
fitted the same way, with the gap as a third score; they are used only when asked for,
because tracing a claim to its origin must not favour recent occurrences.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources

import numpy as np

SAME = "same"
REVIEW = "review"


@dataclass(frozen=True)
class Matcher:
    w_semantic: float
    w_lexical: float
    bias: float
    same: float  # probability at or above which a match is the same claim
    review: float  # probability at or above which a match is shown for review
    model: str = ""  # the embedding model the weights were fitted with
    trained_on: str = ""
    # time-aware weights: per log(1 + days apart), and for a candidate without a date
    w_gap: float = 0.0
    w_undated: float = 0.0
    # the time-aware variant's fields (a dict shaped like this class), when fitted
    timed: dict | None = None

    def probability(
        self, semantic: np.ndarray, lexical: np.ndarray, gap_days: np.ndarray | None = None
    ) -> np.ndarray:
        """``gap_days``: days between query and candidate (NaN where the candidate has no
        date); it counts only in a time-aware matcher (see ``with_time``)."""
        z = self.w_semantic * np.asarray(semantic, dtype=np.float64)
        z = z + self.w_lexical * np.asarray(lexical, dtype=np.float64) + self.bias
        if gap_days is not None and (self.w_gap or self.w_undated):
            gap = np.asarray(gap_days, dtype=np.float64)
            undated = np.isnan(gap)
            z = z + np.where(undated, self.w_undated, self.w_gap * np.log1p(np.abs(gap)))
        return 1.0 / (1.0 + np.exp(-z))

    def with_time(self) -> Matcher:
        """The time-aware variant, for queries with a date."""
        if not self.timed:
            raise ValueError(
                f"the matcher for {self.model or 'this model'} has no time-aware weights; "
                "fit them with benchmarks/train_claim_matcher.py"
            )
        fields = {k: v for k, v in self.timed.items() if k in Matcher.__dataclass_fields__}
        return Matcher(**(fields | {"model": self.model, "timed": None}))

    def status(self, probability: float) -> str | None:
        if probability >= self.same:
            return SAME
        if probability >= self.review:
            return REVIEW
        return None

    def semantic_floor(self) -> float:
        """The lowest cosine that can reach ``review`` even with every query word present
        (lexical scores rarely exceed 1.2): candidates below it need no lexical check."""
        p = min(max(self.review, 1e-9), 1 - 1e-9)
        z = np.log(p / (1 - p))
        best_time = max(0.0, self.w_undated)  # a gap never raises the score (w_gap <= 0)
        return float((z - self.bias - self.w_lexical * 1.2 - best_time) / self.w_semantic)

    def as_dict(self) -> dict:
        return (
            {
                "w_semantic": self.w_semantic,
                "w_lexical": self.w_lexical,
                "bias": self.bias,
                "same": self.same,
                "review": self.review,
                "model": self.model,
                "trained_on": self.trained_on,
            }
            | ({"w_gap": self.w_gap, "w_undated": self.w_undated} if self.w_gap else {})
            | ({"timed": self.timed} if self.timed else {})
        )


def any_sentence(probabilities) -> float:
    """The probability that a document states the claim, from its sentences' matches.

    Each matching sentence is independent evidence (noisy-or): a fact-check whose title
    and claim both match a tweet is likelier to be its fact-check than one matching in a
    single sentence as well. Chosen on CheckThat! train and dev (MAP@5 up 0.001 to 0.009
    over taking the best sentence, for both models), never on dev-test."""
    p = np.clip(np.asarray(probabilities, dtype=np.float64), 0.0, 1.0)
    return float(1.0 - np.prod(1.0 - p)) if p.size else 0.0


def load_matcher(path: str | None = None, model: str | None = None) -> Matcher:
    """Weights and thresholds from a JSON file, or the shipped ones fitted for ``model``.

    The shipped file holds one matcher per model it was fitted with (the scores of two
    models are on different scales); a model without its own gets the first, fitted for
    the default model.
    """
    if path:
        with open(path, encoding="utf-8") as fh:
            raw = json.load(fh)
    else:
        raw = json.loads(
            resources.files("echoscope.detect.claims").joinpath("data/matcher.json").read_text()
        )
    options = raw.get("matchers", [raw])
    chosen = next((m for m in options if model and m.get("model") == model), options[0])
    return Matcher(**{k: chosen[k] for k in Matcher.__dataclass_fields__ if k in chosen})
