"""CSV cells that a spreadsheet would run as formulas, made inert.

Document text and account names are hostile: a post that opens "=HYPERLINK(...)" or
"@SUM(...)" becomes a live formula when a journalist opens an exported CSV in Excel or
Google Sheets. Such a cell is written with a leading apostrophe, which spreadsheets read
as "this is text" and do not show. Plain numbers ("-3", "+44") and bare handles ("@bbc")
start with the same characters but cannot run anything, so they are left as they are.
CSV meant for machines can be written raw (``echoscope export --csv-raw``); Parquet and
JSON Lines are never changed.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

# what opens a formula: = + - @, and tab / carriage return (which some importers strip)
_STARTS = "=+-@\t\r"
_INERT = r"^(?:[+-]?[0-9][0-9.,]*|@[A-Za-z0-9_.]+)$"
_INERT_RE = re.compile(_INERT)


def guard(value: object) -> object:
    """A cell as it may safely appear in a spreadsheet."""
    if isinstance(value, str) and value[:1] in _STARTS and not _INERT_RE.match(value):
        return "'" + value
    return value


def guard_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with every text cell guarded."""
    from pandas.api.types import is_string_dtype

    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or is_string_dtype(out[col]):
            out[col] = out[col].map(guard)
    return out


def guard_sql(column: str) -> str:
    """A DuckDB expression for ``column`` (a quoted identifier) guarded like ``guard``."""
    starts = " OR ".join(f"starts_with({column}, chr({ord(c)}))" for c in _STARTS)
    return (
        f"CASE WHEN ({starts}) AND NOT regexp_matches({column}, '{_INERT}') "
        f"THEN '''' || {column} ELSE {column} END"
    )
