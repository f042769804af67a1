"""Publication dates: parse what pages state, keep the stated offset, refuse the impossible.

Pages state dates in every dialect (ISO with/without offset, RFC 822, "November 18, 2026 9:14 AM
EST"), so parsing is dateutil's; the choice among candidates is ours: stated metadata beats
text heuristics, and a feed date is only a prior.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil import parser as dateparser
from dateutil import tz

UTC = timezone.utc
_EARLIEST = datetime(1995, 1, 1, tzinfo=UTC)
#: Abbreviations read the same way whatever the outlet's zone (unless the zone itself uses the name).
#: The ambiguous ones get their most common reading on English-language news pages: CST is US Central,
#: IST India, BST British Summer Time; an outlet in Beijing or Dublin overrides that through its zone.
_FIXED = {
    "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7,
    "AKST": -9, "AKDT": -8, "HST": -10, "GMT": 0, "UTC": 0, "UT": 0, "Z": 0, "WET": 0, "WEST": 1,
    "BST": 1, "IST": 5.5, "CET": 1, "CEST": 2, "MEZ": 1, "MESZ": 2, "EET": 2, "EEST": 3,
    "MSK": 3, "HKT": 8, "SGT": 8, "JST": 9, "KST": 9, "AEST": 10, "AEDT": 11,
}
#: Zone names without standard/daylight, which only a real zone can resolve (US pages print "ET").
_GENERIC = {"ET": "America/New_York", "CT": "America/Chicago", "MT": "America/Denver",
            "PT": "America/Los_Angeles", "BJT": "Asia/Shanghai"}
_URL_DATE = re.compile(r"/((?:19|20)\d{2})[/-](0[1-9]|1[0-2])[/-](0[1-9]|[12]\d|3[01])(?:/|$|[-_])")
_URL_DATE_SUFFIX = re.compile(r"-((?:19|20)\d{2})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])/?$")
# 2026年11月18日 09:14 -> 2026-11-18 09:14 (dateutil has no CJK date words)
_CJK_DATE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]")
# 18.11.2026: a dotted date is day-first wherever it is printed (German, Russian, ... pages)
_DOTTED = re.compile(r"\b\d{1,2}\.\s?\d{1,2}\.\s?\d{2,4}\b")
_NOISE = re.compile(r"\b(?:Uhr|um|Stand|Veröffentlicht(?: am)?|Aktualisiert(?: am)?|Published(?: on)?|"
                    r"Updated(?: on)?|Posted(?: on)?|at)\b[:.]?|[|–—]", re.I)


class _Months(dateparser.parserinfo):
    """English plus German month and weekday names (electrive.net and other German outlets)."""

    MONTHS = [
        ("Jan", "January", "Januar", "Jän", "Jänner"), ("Feb", "February", "Februar"),
        ("Mar", "March", "März", "Mär", "Maerz"), ("Apr", "April"), ("May", "Mai"),
        ("Jun", "June", "Juni"), ("Jul", "July", "Juli"), ("Aug", "August"),
        ("Sep", "Sept", "September"), ("Oct", "October", "Okt", "Oktober"), ("Nov", "November"),
        ("Dec", "December", "Dez", "Dezember"),
    ]
    WEEKDAYS = [
        ("Mon", "Monday", "Montag", "Mo"), ("Tue", "Tuesday", "Dienstag", "Di"),
        ("Wed", "Wednesday", "Mittwoch", "Mi"), ("Thu", "Thursday", "Donnerstag", "Do"),
        ("Fri", "Friday", "Freitag", "Fr"), ("Sat", "Saturday", "Samstag", "Sa"),
        ("Sun", "Sunday", "Sonntag", "So"),
    ]


_PARSERINFO = _Months()


@dataclass(frozen=True)
class ParsedDate:
    value: datetime  # aware
    offset: str | None  # "+08:00": stated, or the outlet zone's offset for a zone-less time; else None
    has_time: bool
    #: how the zone was settled: "stated" (offset or known abbreviation), "outlet" (read in the
    #: outlet's zone), "unknown_zone" (a zone name nobody knows, read in the outlet's zone) or "" (no
    #: zone and no outlet zone: UTC)
    zone: str = ""


def format_offset(dt: datetime) -> str | None:
    off = dt.utcoffset()
    if off is None:
        return None
    minutes = int(off.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    minutes = abs(minutes)
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


@lru_cache(maxsize=64)
def zone_info(name: str | None) -> tzinfo | None:
    """The IANA zone called ``name`` (None for None); raises ``ValueError`` for an unknown name."""
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


@lru_cache(maxsize=64)
def zone_abbreviations(name: str | None) -> dict[str, tzinfo]:
    """The abbreviations the zone ``name`` itself prints ("CST" for Asia/Shanghai, "CET"/"CEST" for
    Europe/Berlin), each as the fixed offset it stands for there; they beat the global readings."""
    zone = zone_info(name)
    if zone is None:
        return {}
    found: dict[str, tzinfo] = {}
    for year in (2010, 2026):
        for month in range(1, 13):
            moment = datetime(year, month, 15, 12, tzinfo=zone)
            abbr, offset = moment.tzname(), moment.utcoffset()
            if abbr and offset is not None and abbr[0].isalpha():
                found.setdefault(abbr.upper(), tz.tzoffset(abbr, offset))
    return found


def _reader(zone_name: str | None, unknown: list[str]):
    """A dateutil ``tzinfos`` callable: the outlet zone's abbreviations, then the global table.

    A callable (not a dict) so that dateutil never warns: an unknown name is noted in ``unknown`` and
    the time read in the outlet's zone, like a time printed without a zone.
    """
    own = zone_abbreviations(zone_name)

    def tzinfos(name: str | None, offset: int | None):
        if name:
            key = name.upper()
            if key in own:
                return own[key]
            if key in _FIXED:
                return tz.tzoffset(key, int(_FIXED[key] * 3600))
            if key in _GENERIC:
                return zone_info(_GENERIC[key])
        if offset is not None:
            return tz.tzoffset(name, offset)  # "+08:00" as stated: always wins
        if name:
            unknown.append(name)
        return None

    return tzinfos


def _prepare(text: str) -> tuple[str, bool]:
    text = _CJK_DATE.sub(lambda m: f"{m[1]}-{int(m[2]):02d}-{int(m[3]):02d} ", text)
    text = text.replace("时", ":").replace("分", "") if "时" in text else text
    dayfirst = bool(_DOTTED.search(text))
    text = _NOISE.sub(" ", text)
    return " ".join(text.split()), dayfirst


def parse_date(raw: str | datetime | None, zone: str | None = None) -> ParsedDate | None:
    """Parse one stated date; a time without a zone is read in ``zone`` (the outlet's IANA zone).

    A stated offset ("+08:00", "Z") always wins; an abbreviation is read as the outlet's zone uses it
    (CST in Asia/Shanghai is UTC+8), else by the global table; without ``zone`` a zone-less time is
    UTC with no offset recorded. A date with no time keeps its day: midnight UTC, whatever the zone.
    """
    if raw is None:
        return None
    unknown: list[str] = []
    if isinstance(raw, datetime):
        dt, text = raw, ""
    else:
        text = str(raw).strip()
        if not text or len(text) > 80:
            return None
        try:
            dt = dateparser.isoparse(text)
        except (ValueError, OverflowError):
            cleaned, dayfirst = _prepare(text)
            try:
                dt = dateparser.parse(cleaned, parserinfo=_PARSERINFO, dayfirst=dayfirst,
                                      tzinfos=_reader(zone, unknown))
            except (ValueError, OverflowError, TypeError, LookupError):
                return None
    has_time = bool(dt.hour or dt.minute or dt.second) or bool(re.search(r"\d{1,2}[:时]\d{2}", text))
    if isinstance(raw, datetime):
        has_time = True
    how = "stated" if dt.tzinfo is not None else ""
    if dt.tzinfo is None:
        outlet = zone_info(zone)
        if outlet is not None and has_time:
            dt = dt.replace(tzinfo=outlet)
            how = "outlet"
        else:
            dt = dt.replace(tzinfo=UTC)
        if unknown:
            how = "unknown_zone"
    offset = format_offset(dt) if how != "" else None
    return ParsedDate(dt, offset, has_time, how)


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
