"""Parsing publication dates into naive UTC with a stated precision.

Every date that enters the store is UTC. A date without a zone is read in the zone the
user names (``--tz``, UTC by default) and that choice is kept in the run's options. An
impossible date is never guessed: the caller keeps the raw value and marks the time
unknown.
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
    """Naive UTC from any datetime; naive input is read in ``default_tz``."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=default_tz)
    return value.astimezone(UTC).replace(tzinfo=None)


def check_plausible(value: datetime, now: datetime | None = None) -> datetime:
    now = now or datetime.now(UTC).replace(tzinfo=None)
    if value.year < MIN_YEAR:
        raise DateError(f"date {value.isoformat()} is before {MIN_YEAR}")
    if value > now + MAX_FUTURE:
        raise DateError(f"date {value.isoformat()} is in the future")
    return value


def parse_date(raw: object, default_tz: tzinfo = UTC) -> tuple[datetime, TimePrecision]:
    """Parse ``raw`` into (naive UTC datetime, precision). Raises DateError."""
    if isinstance(raw, datetime):
        return check_plausible(to_utc(raw, default_tz)), TimePrecision.SECOND
    if isinstance(raw, date):
        return check_plausible(datetime(raw.year, raw.month, raw.day)), TimePrecision.DAY
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        if not 1e8 <= abs(raw) < 1e14:
            raise DateError(
                f"number {raw!r} is not a Unix timestamp (expected seconds or milliseconds)"
            )
        return _from_epoch(float(raw)), TimePrecision.SECOND
    if not isinstance(raw, str):
        raise DateError(f"unsupported date value {raw!r}")
    text = raw.strip()
    if not text:
        raise DateError("empty date")
    if len(text) > 64:
        raise DateError(f"date value too long ({len(text)} characters)")
    if _EPOCH.match(text):
        return _from_epoch(float(text)), TimePrecision.SECOND
    precision = _precision_of(text)
    # Fast path: ISO 8601 and the "YYYY-MM-DD HH:MM:SS" form of most exports.
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        value = None
    if value is None:
        try:
            value = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            value = None
    if value is None:
        value = _dateutil(text)
    if _DATE_ONLY.match(text):
        precision = TimePrecision.DAY
    return check_plausible(to_utc(value, default_tz)), precision


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


def _dateutil(text: str) -> datetime:
    """dateutil fills missing parts from a default; parse with two different defaults
    so a date without a day, month or year is refused instead of completed from today."""
    from dateutil import parser

    try:
        one = parser.parse(text, default=datetime(2001, 1, 1))
        two = parser.parse(text, default=datetime(2002, 2, 2))
    except (ValueError, OverflowError, parser.ParserError) as exc:
        raise DateError(f"cannot read date {text!r}: {exc}") from exc
    if (one.year, one.month, one.day) != (two.year, two.month, two.day):
        raise DateError(f"incomplete date {text!r}: no full day, month and year")
    return one
