"""Parsing publication dates into naive UTC with a stated precision.

Every date that enters the store is UTC. A date without a zone is read in the zone the
user names (``--tz``, UTC by default) and that choice is kept in the run's options. An
impossible date is never guessed: the caller keeps the raw value and marks the time
unknown.

``parse_date`` raises ``DateError`` and nothing else, whatever the value (an offset of
24 hours, year 9999 moved west of UTC, a number that is not a time): every reader turns
that into an undated record with a warning, so one odd value never stops an ingest.

An all-numeric date whose day and month could be either way round (``01/02/03``,
``01/02/2003``) is left undated with a warning naming both readings: a date that is a
month off would put a copy before its source, which is worse for a journalist than no
date. A form that reads one way only (``13/02/2003``, ``2003-01-02``) is read as before;
a caller that knows the convention of its input passes ``dayfirst``.
"""

from __future__ import annotations

import email.utils
import re
from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from echoscope.model import TimePrecision

MIN_YEAR = 1800
MAX_FUTURE = timedelta(days=2)

_EPOCH = re.compile(r"^\d{9,13}(\.\d+)?$")
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_HAS_SECONDS = re.compile(r"\d{1,2}:\d{2}:\d{2}")
_HAS_MINUTES = re.compile(r"\d{1,2}:\d{2}")
# day and month as one or two digits each, then a year of two or four, and nothing else
# that could be part of the date (a time may follow)
_NUMERIC = re.compile(r"^(\d{1,2})([/.\-])(\d{1,2})\2(\d{2}|\d{4})(?=$|[\sT,])")
_OFFSET = re.compile(r"(?<=\d)\s*(?:UTC|GMT)?([+-])(\d{2}):?(\d{2})$")
_FOUR_DIGITS = re.compile(r"(?<![\d:+\-])\d{4}(?![\d:])")
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


class DateError(ValueError):
    """A date value that names no real moment."""


def get_zone(name: str | None) -> tzinfo:
    if not name or name.upper() == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"unknown time zone {name!r} (use an IANA name such as Europe/London)"
        ) from exc


def to_utc(value: datetime, default_tz: tzinfo = UTC) -> datetime:
    """Naive UTC from any datetime; naive input is read in ``default_tz``.

    May raise OverflowError at the ends of the calendar; ``checked_utc`` never does."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=default_tz)
    return value.astimezone(UTC).replace(tzinfo=None)


def checked_utc(value: datetime, default_tz: tzinfo = UTC) -> datetime:
    """``to_utc`` then ``check_plausible``, raising DateError only: for dates that come
    from a file's path or a wire header, which can name year 1 or 9999 like any other."""
    try:
        _check_year(value)
        return check_plausible(to_utc(value, default_tz))
    except DateError:
        raise
    except Exception as exc:  # OverflowError at the calendar's ends, a tzinfo that fails
        raise DateError(f"date {_shown(value)} cannot be moved to UTC: {exc}") from exc


def check_plausible(value: datetime, now: datetime | None = None) -> datetime:
    now = now or datetime.now(UTC).replace(tzinfo=None)
    if value.year < MIN_YEAR:
        raise DateError(f"date {value.isoformat()} is before {MIN_YEAR}")
    if value > now + MAX_FUTURE:
        raise DateError(f"date {value.isoformat()} is in the future")
    return value


def parse_date(
    raw: object, default_tz: tzinfo = UTC, *, dayfirst: bool | None = None
) -> tuple[datetime, TimePrecision]:
    """Parse ``raw`` into (naive UTC datetime, precision). Raises DateError, never any
    other exception: readers catch it to keep the record undated with a warning.

    ``dayfirst`` settles an all-numeric date such as ``01/02/2003`` when the caller knows
    its input's convention; by default such a date is refused as ambiguous."""
    try:
        return _parse(raw, default_tz, dayfirst)
    except DateError:
        raise
    except Exception as exc:  # OverflowError, an offset of 24 h, anything a parser throws
        raise DateError(f"cannot read date {_shown(raw)}: {exc}") from exc


def _parse(
    raw: object, default_tz: tzinfo, dayfirst: bool | None
) -> tuple[datetime, TimePrecision]:
    if isinstance(raw, datetime):
        return checked_utc(raw, default_tz), TimePrecision.SECOND
    if isinstance(raw, date):
        return check_plausible(datetime(raw.year, raw.month, raw.day)), TimePrecision.DAY
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        if not 1e8 <= abs(raw) < 1e14:
            raise DateError(
                f"number {raw!r} is not a Unix timestamp (expected seconds or milliseconds)"
            )
        return _from_epoch(float(raw)), TimePrecision.SECOND
    if not isinstance(raw, str):
        raise DateError(f"unsupported date value {_shown(raw)}")
    text = raw.strip()
    if not text:
        raise DateError("empty date")
    if len(text) > 64:
        raise DateError(f"date value too long ({len(text)} characters)")
    if _EPOCH.match(text):
        return _from_epoch(float(text)), TimePrecision.SECOND
    _check_offset(text)
    numeric = _NUMERIC.match(text)
    if numeric is not None and dayfirst is None:
        _refuse_ambiguous(text, numeric)
    precision = _precision_of(text)
    # Fast path: ISO 8601 and the "YYYY-MM-DD HH:MM:SS" form of most exports.
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        value = None
    if value is None and numeric is None:
        try:
            value = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError, OverflowError):
            value = None
        if value is not None:
            _check_email_year(text, value)
    if value is None:
        value = _dateutil(text, dayfirst)
    if _DATE_ONLY.match(text):
        precision = TimePrecision.DAY
    return checked_utc(value, default_tz), precision


def _check_year(value: datetime) -> None:
    """Refuse the calendar's ends before moving to UTC, where they would overflow."""
    if value.year < MIN_YEAR:
        raise DateError(f"date {value.date().isoformat()} is before {MIN_YEAR}")
    if value.year > datetime.now(UTC).year + 1:
        raise DateError(f"date {value.date().isoformat()} is in the future")


def _check_offset(text: str) -> None:
    m = _OFFSET.search(text)
    if m is not None and (int(m[2]) >= 24 or int(m[3]) >= 60):
        raise DateError(
            f"time zone offset {m[1]}{m[2]}:{m[3]} in {text!r} is not a real offset "
            "(offsets are under 24 hours)"
        )


def _refuse_ambiguous(text: str, m: re.Match[str]) -> None:
    """Raise when day and month of an all-numeric date could be either way round."""
    first, second, year = int(m[1]), int(m[3]), int(m[4])
    if first == second or first > 12 or second > 12 or not first or not second:
        return  # reads one way only (or not at all: left to the parsers' own message)
    shown_year = f"'{year:02d} (a two-digit year)" if len(m[4]) == 2 else str(year)
    raise DateError(
        f"ambiguous date {text!r}: {first} {_MONTHS[second - 1]} (day first) or "
        f"{_MONTHS[first - 1]} {second} (month first) {shown_year}; "
        "left undated rather than guessed"
    )


def _check_email_year(text: str, value: datetime) -> None:
    """The e-mail date parser reads year '0001' as 2001; a four-digit year must be kept."""
    years = _FOUR_DIGITS.findall(text)
    if years and str(value.year).zfill(4) not in years:
        raise DateError(f"cannot read date {text!r}: year {years[0]} is out of range")


def _shown(value: object) -> str:
    try:
        shown = repr(value)
    except Exception:  # a hostile object's __repr__
        shown = f"<{type(value).__name__}>"
    return shown if len(shown) <= 80 else shown[:77] + "..."


def _precision_of(text: str) -> TimePrecision:
    if _HAS_SECONDS.search(text):
        return TimePrecision.SECOND
    if _HAS_MINUTES.search(text):
        return TimePrecision.MINUTE
    return TimePrecision.DAY


def _from_epoch(seconds: float) -> datetime:
    if seconds > 1e11:  # milliseconds
        seconds /= 1000.0
    try:
        value = datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None)
    except (OverflowError, OSError, ValueError) as exc:
        raise DateError(f"timestamp {seconds} out of range") from exc
    return check_plausible(value)


def _dateutil(text: str, dayfirst: bool | None = None) -> datetime:
    """dateutil fills missing parts from a default; parse with two different defaults
    so a date without a day, month or year is refused instead of completed from today."""
    from dateutil import parser

    try:
        one = parser.parse(text, default=datetime(2001, 1, 1), dayfirst=bool(dayfirst))
        two = parser.parse(text, default=datetime(2002, 2, 2), dayfirst=bool(dayfirst))
    except (ValueError, OverflowError, parser.ParserError) as exc:
        raise DateError(f"cannot read date {text!r}: {exc}") from exc
    if (one.year, one.month, one.day) != (two.year, two.month, two.day):
        raise DateError(f"incomplete date {text!r}: no full day, month and year")
    return one
