"""Time you can trust: what a timestamp with a stated precision actually allows.

A newspaper dated by its folder (day precision) may have been published any time that
day; a wire story with a filing time (minute precision) at that minute. Comparing the
bounds, not the points, is what makes "A came before B" safe to say.
"""

from __future__ import annotations

from datetime import timedelta

import pandas as pd

PRECISION_WIDTH = {
    "second": timedelta(seconds=1),
    "minute": timedelta(minutes=1),
    "day": timedelta(days=1),
}


def latest_series(published: pd.Series, precision: pd.Series) -> pd.Series:
    """Vectorised upper bound (exclusive) of each publication time; NaT when unknown."""
    start = pd.to_datetime(pd.Series(published), errors="coerce").astype("datetime64[ns]")
    width = pd.to_timedelta(
        pd.Series(precision).map(PRECISION_WIDTH).astype(object), errors="coerce"
    )
    return start.reset_index(drop=True) + width.reset_index(drop=True).astype("timedelta64[ns]")
