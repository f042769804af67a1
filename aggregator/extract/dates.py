"""Publication dates: parse what pages state, keep the stated offset, refuse the impossible.

Pages state dates in every dialect (ISO with/without offset, RFC 822, "November 18, 2026 9:14 AM
EST"), so parsing is dateutil's; the choice among candidates is ours: stated metadata beats
text heuristics, and a feed date is only a prior.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from dateutil import parser as dateparser
from dateutil import tz

UTC = timezone.utc
_EARLIEST = datetime(1995, 1, 1, tzinfo=UTC)
# A few US/EU zone abbreviations news sites print; dateutil ignores unknown names otherwise.
_TZINFOS = {
    "EST": tz.tzoffset("EST", -5 * 3600), "EDT": tz.tzoffset("EDT", -4 * 3600),
    "CST": tz.tzoffset("CST", -6 * 3600), "CDT": tz.tzoffset("CDT", -5 * 3600),
    "MST": tz.tzoffset("MST", -7 * 3600), "MDT": tz.tzoffset("MDT", -6 * 3600),
    "PST": tz.tzoffset("PST", -8 * 3600), "PDT": tz.tzoffset("PDT", -7 * 3600),
    "GMT": UTC, "UTC": UTC, "Z": UTC, "BST": tz.tzoffset("BST", 3600),
    "CET": tz.tzoffset("CET", 3600), "CEST": tz.tzoffset("CEST", 7200),
}
_URL_DATE = re.compile(r"/((?:19|20)\d{2})[/-](0[1-9]|1[0-2])[/-](0[1-9]|[12]\d|3[01])(?:/|$|[-_])")
_URL_DATE_SUFFIX = re.compile(r"-((?:19|20)\d{2})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])/?$")


@dataclass(frozen=True)
class ParsedDate:
    value: datetime  # aware
    offset: str | None  # "+08:00" as stated, None if the page gave no zone
    has_time: bool


def format_offset(dt: datetime) -> str | None:
    off = dt.utcoffset()
    if off is None:
        return None
    minutes = int(off.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    minutes = abs(minutes)
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def parse_date(raw: str | datetime | None) -> ParsedDate | None:
    """Parse one stated date; naive values are taken as UTC with no offset recorded."""
    if raw is None:
        return None
    if isinstance(raw, datetime):
        dt, text = raw, ""
    else:
        text = str(raw).strip()
        if not text or len(text) > 80:
            return None
        try:
            dt = dateparser.isoparse(text)
        except (ValueError, OverflowError):
            try:
                dt = dateparser.parse(text, tzinfos=_TZINFOS)
            except (ValueError, OverflowError, TypeError):
                return None
    has_time = bool(dt.hour or dt.minute or dt.second) or bool(re.search(r"\d{1,2}:\d{2}", text))
    if isinstance(raw, datetime):
        has_time = True
    offset = format_offset(dt)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return ParsedDate(dt, offset, has_time)


def to_utc_iso(dt: datetime) -> str:
    return dt.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def url_date(url: str) -> ParsedDate | None:
    """A /2026/11/18/ (or -2026-11-18 slug suffix, Reuters-style) date in the URL, date-only."""
    m = _URL_DATE.search(url) or _URL_DATE_SUFFIX.search(url.split("?")[0])
    if not m:
        return None
    try:
        return ParsedDate(datetime(int(m[1]), int(m[2]), int(m[3]), tzinfo=UTC), None, False)
    except ValueError:
        return None


def plausible(parsed: ParsedDate, now: datetime) -> str | None:
    """None if acceptable, else the reason (``future`` / ``ancient``)."""
    if parsed.value > now + timedelta(minutes=2):
        return "future"
    if parsed.value < _EARLIEST:
        return "ancient"
    return None
