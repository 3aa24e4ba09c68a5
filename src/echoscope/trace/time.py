"""Time you can trust: what a timestamp with a stated precision actually allows.

A newspaper dated by its folder (day precision) may have been published any time that
day; a wire story with a filing time (minute precision) at that minute. Comparing the
bounds, not the points, is what makes "A came before B" safe to say.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

import pandas as pd

PRECISION_WIDTH = {
    "second": timedelta(seconds=1),
    "minute": timedelta(minutes=1),
    "day": timedelta(days=1),
}


def first_ties(
    first_id: str, first_at: datetime, precision: str, others: Iterable[tuple[str, datetime]]
) -> tuple[list[str], bool]:
    """Which of ``others`` (id, time) may have come before the earliest document, because
    they start before its time interval ends (a post timed 09:00 vs a paper dated that
    day), and whether the earliest is certain: no such document and a known precision."""
    end = first_at + PRECISION_WIDTH.get(precision, timedelta(0))
    ties = sorted({doc for doc, at in others if at < end and doc != first_id})
    return ties, not ties and precision in PRECISION_WIDTH


def latest_series(published: pd.Series, precision: pd.Series) -> pd.Series:
    """Vectorised upper bound (exclusive) of each publication time; NaT when unknown."""
    start = pd.to_datetime(pd.Series(published), errors="coerce").astype("datetime64[ns]")
    width = pd.to_timedelta(
        pd.Series(precision).map(PRECISION_WIDTH).astype(object), errors="coerce"
    )
    return start.reset_index(drop=True) + width.reset_index(drop=True).astype("timedelta64[ns]")
