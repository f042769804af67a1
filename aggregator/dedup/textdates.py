"""When was a page written? Dates read from its text, for pages that state no publication date.

News text says when things happened: "Dec. 3, 2024", "3. Dezember 2024", "2024年12月3日", "12월 3일",
"le 3 décembre", "3 de diciembre de 2024", "2024-12-03", and the periods it reports on ("November
deliveries", "Q3 2024"). A page is (nearly always) written on or after the latest past day it names, and
soon after it: a report names the day of its event ("on Tuesday, Dec. 3"). So the latest *day* named
(:func:`day_mentions`) bounds the publication date from below, and the estimate is that day, give or take
:data:`SPREAD_DAYS`.

Two things make the latest day wrong, and are guarded against:

* a day in the future of the page ("deliveries start on March 1, 2025"): a day named after a future cue
  (will, ab, 将, 예정, ...) in the few words before it is not counted;
* a day without a year ("12月3日", "le 3 décembre", "Dec. 3"): its year is taken from the years the page
  names (the latest one within a year of the other dated days); with no year anywhere, it is not counted.

Reporting periods ("November 2024", "Q3 2024") are left to the story evidence (``periods_conflict``): as
a publication date they were wrong by months as often as not on the development set.

Patterns are ours, a compact set per language (en, de, fr, es, it, pt, zh, ja, ko): ``dateparser``'s
``search_dates`` was measured on the development set at ~40 ms a page and read "may", "March" (the month
in "March 2025 launch") and bare numbers as dates (see ``benchmarks/results.md``); dateutil parses a known
string, it does not find dates in prose.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from functools import lru_cache

#: the estimate from the latest named day is that day, give or take this many days (days a report trails
#: the event it names; chosen on half a of the development set's dated pages, see ``benchmarks/results.md``)
SPREAD_DAYS = 4.0

_MONTHS = {
    1: "january jan januar jänner janvier enero gennaio janeiro", 2: "february feb februar février fevrier febrero "
    "febbraio fevereiro", 3: "march mar märz maerz mars marzo março", 4: "april apr avril abril aprile",
    5: "may mai mayo maggio maio", 6: "june jun juni juin junio giugno junho",
    7: "july jul juli juillet julio luglio julho", 8: "august aug août aout agosto",
    9: "september sep sept septembre septiembre setiembre settembre setembro",
    10: "october oct okt oktober octobre octubre ottobre outubro", 11: "november nov novembre noviembre novembro",
    12: "december dec dez dezember décembre decembre diciembre dicembre dezembro",
}
_MONTH_OF = {w: m for m, ws in _MONTHS.items() for w in ws.split()}
_MON = "|".join(sorted(_MONTH_OF, key=len, reverse=True))
_Y = r"((?:19|20)\d\d)"
_D = r"(0?[1-9]|[12]\d|3[01])"
# (kind, pattern): the groups name year/month/day by the kind's order (see _parse)
_DAY_RES: tuple[tuple[str, re.Pattern[str]], ...] = (
    # 2024-12-03, 2024/12/03, 2024.12.03
    ("ymd", re.compile(rf"(?<![\d.])({_Y[1:-1]})[-/.](0?[1-9]|1[0-2])[-/.]{_D}(?![\d])")),
    # 03.12.2024 (day first: German, French, Russian... pages); 3/12/2024 is left out (US or not?)
    ("dmy_num", re.compile(rf"(?<![\d.]){_D}\.\s?(0?[1-9]|1[0-2])\.\s?{_Y}(?!\d)")),
    # Dec. 3, 2024 / December 3 / Dec 3rd
    ("md_en", re.compile(rf"(?<!\w)({_MON})\.?\s+{_D}(?:st|nd|rd|th)?(?!\d|:)(?:,?\s+{_Y}(?!\d))?",
                         re.IGNORECASE)),
    # 3 December 2024 / 3. Dezember 2024 / le 3 décembre / 3 de diciembre de 2024 / 3 dicembre
    ("dm", re.compile(rf"(?<![\w.]){_D}(?:er|\.)?\s+(?:de\s+)?({_MON})\.?(?!\w)(?:\s+(?:de\s+|del\s+)?{_Y}(?!\d))?",
                      re.IGNORECASE)),
    # 2024年12月3日 / 12月3日 / 12月3号 (zh, ja)
    ("cjk", re.compile(rf"(?:{_Y}\s*年\s*)?(1[0-2]|0?[1-9])\s*月\s*{_D}\s*[日号號]")),
    # 2024년 12월 3일 / 12월 3일 (ko)
    ("ko", re.compile(rf"(?:{_Y}\s*년\s*)?(1[0-2]|0?[1-9])\s*월\s*{_D}\s*일")),
)
# a day after one of these (within the few words before it) is a plan, a deadline or the end of a range (cars
# "produced between Feb. 6, 2024 and Aug. 30, 2025"), not the day of a past event
_FUTURE = re.compile(
    r"\b(?:will|would|shall|to be|expected|scheduled|planned|plans?|due|until|till|by|from|starting|begins?|"
    r"launch(?:es)? on|deadline|expir\w*|ends?|ending|slated|set to|before|through|between|produced|manufactured|"
    r"built|made|ab|bis|soll|sollen|wird|werden|geplant|ablauf|zwischen|gebaut|hergestellt|à partir du|"
    r"jusqu'au|prévue?s?|d'ici|avant|entre|fabriqu\w*|a partir del|hasta|antes|previst[oa]s?|entro|dal|prima)\b|"
    r"将|计划|预计|截止|到期|期间|生产|製造|起|까지|예정|부터|予定|まで|から",
    re.IGNORECASE)
_LAST_YEAR = re.compile(r"去年|昨年|작년|last year|vergangenen jahres|letzten jahres|l'an dernier|"
                        r"l'année dernière|el año pasado|l'anno scorso", re.IGNORECASE)
_YEAR_RE = re.compile(r"(?<!\d)((?:19|20)\d\d)(?!\d)")
_DAY = 86400.0


@dataclass(frozen=True)
class Mention:
    """A day named in a text: ``day``; ``year_said`` False when the year was taken from elsewhere in the
    text; ``future`` when a future cue comes right before it; ``pos`` its offset in the text."""

    day: date
    year_said: bool
    future: bool
    pos: int


@dataclass(frozen=True)
class Inferred:
    """A publication time read from a text: ``time`` (epoch seconds, UTC noon of the estimated day) give or
    take ``uncertainty_days``; ``not_before`` the latest past day it names (epoch seconds), a lower bound;
    ``source`` what it came from (``"day"``: a named day, ``"period"``: a reporting period)."""

    time: float
    uncertainty_days: float
    not_before: float
    source: str


def _year_default(text: str) -> int | None:
    """The year a day without one most likely belongs to: the year the text names most often (the later
    on a tie; 1995-2040), not the latest one (targets: "by 2030"; comparisons: "2021")."""
    counts: dict[int, int] = {}
    for y in _YEAR_RE.findall(text):
        if 1995 <= int(y) <= 2040:
            counts[int(y)] = counts.get(int(y), 0) + 1
    return max(counts, key=lambda y: (counts[y], y)) if counts else None


def day_mentions(text: str, year_default: int | None = None) -> list[Mention]:
    """Every day named in ``text``, in order of position (a day without a year gets ``year_default``,
    else the latest year in the text, else it is dropped)."""
    fallback = year_default if year_default is not None else _year_default(text)
    found: dict[int, Mention] = {}
    taken: list[tuple[int, int]] = []
    for kind, rx in _DAY_RES:
        if kind in ("cjk",) and "月" not in text or kind == "ko" and "월" not in text:
            continue
        for m in rx.finditer(text):
            if any(s < m.end() and m.start() < e for s, e in taken):
                continue
            g = m.groups()
            if kind == "ymd":
                y, mo, d = g[0], g[1], g[2]
            elif kind == "dmy_num":
                d, mo, y = g
            elif kind == "md_en":
                mo, d, y = _MONTH_OF[g[0].lower()], g[1], g[2]
            elif kind == "dm":
                d, mo, y = g[0], _MONTH_OF[g[1].lower()], g[2]
                if g[1].lower() in ("mar", "may", "jun", "jul") and not y and not g[1][0].isupper():
                    continue  # "3 may", "10 mar": words, not months
            else:  # cjk, ko
                y, mo, d = g
            if kind == "md_en" and g[0].lower() in ("may", "mar", "jun", "jul", "dec", "jan", "sep", "sept") \
                    and not g[0][0].isupper():
                continue  # "may 3" in prose: a verb
            year_said = bool(y)
            yy = int(y) if y else fallback
            if yy is None:
                continue
            if not y and _LAST_YEAR.search(text, max(0, m.start() - 12), m.start()):
                yy -= 1
            try:
                day = date(yy, int(mo), int(d))
            except ValueError:
                continue
            before = text[max(0, m.start() - 48):m.start()]
            future = bool(_FUTURE.search(before[-24:] if kind in ("cjk", "ko") else before))
            if kind in ("cjk", "ko"):
                after = text[m.end():m.end() + 6]
                future = future or bool(re.match(r"\s*(?:起|부터|から|까지|まで|前)", after))
            found[m.start()] = Mention(day, year_said, future, m.start())
            taken.append((m.start(), m.end()))
    out = [found[k] for k in sorted(found)]
    said = [m for m in out if m.year_said]
    if said:  # a day without a year belongs to the year of the nearest day before it stated with one
        fixed = []
        for m in out:
            if not m.year_said:
                prev = [s for s in said if s.pos < m.pos]
                y = (prev[-1] if prev else said[0]).day.year
                if _LAST_YEAR.search(text, max(0, m.pos - 12), m.pos):
                    y -= 1
                try:
                    m = Mention(m.day.replace(year=y), False, m.future, m.pos)
                except ValueError:
                    continue
            fixed.append(m)
        out = fixed
    elif year_default is None:  # no day states its year: the text's years are too loose an anchor
        out = []
    return out


def _noon(d: date) -> float:
    return datetime(d.year, d.month, d.day, 12, tzinfo=timezone.utc).timestamp()


def infer(text: str, *, month: str | None = None, horizon: float | None = None) -> Inferred | None:
    """The publication time ``text`` implies, or None when it names no usable past day.

    ``month``: a publication month already known (``"2024-11"``): only days of that month count;
    ``horizon``: days later than this (epoch seconds) are ignored (a typo, or the crawl's clock).
    Reporting periods ("November 2024") are not used: on the development set's dated pages a period
    named was as often a plan ("launch in March 2025") as the month reported on (see
    ``benchmarks/results.md``).
    """
    days = [m.day for m in day_mentions(text) if not m.future]
    if month:
        y, mo = (int(x) for x in month.split("-")[:2])
        days = [d for d in days if (d.year, d.month) == (y, mo)]
    if horizon is not None:
        days = [d for d in days if _noon(d) <= horizon + _DAY]
    if not days:
        return None
    days.sort()
    last = days[-1]
    if len(days) >= 3 and (last - days[-2]).days > 366:  # a stray day far after every other: a typo or a plan
        last = days[-2]
    t = _noon(last)
    return Inferred(t + SPREAD_DAYS / 2 * _DAY, SPREAD_DAYS / 2 + 0.5, t, "day")


def token(inf: Inferred) -> str:
    """``inf`` as one item of :func:`.story.pack_extra`'s string: ``e:2024-12-03`` (the latest day named)."""
    d = datetime.fromtimestamp(inf.not_before, tz=timezone.utc).date()
    return f"e:{d.isoformat()}"


@lru_cache(maxsize=65536)
def named_day(extra: str) -> float | None:
    """The day of the ``e:`` item in a :func:`.story.pack_extra` string (epoch seconds, noon UTC), or None."""
    i = extra.find("e:")
    while i > 0 and extra[i - 1] != " ":
        i = extra.find("e:", i + 1)
    if i < 0:
        return None
    j = extra.find(" ", i)
    try:
        return _noon(date.fromisoformat(extra[i + 2:j if j >= 0 else len(extra)]))
    except ValueError:
        return None


def days_after(named: float | None, t: float | None, unc: float) -> float:
    """How many days the day a text names (:func:`named_day`, a lower bound of its publication) lies after
    the latest moment another article, published at ``t`` ± ``unc`` days, can have appeared; 0 when not
    after or unknown. Far after: the text is a later follow-up, not a report of the other's event."""
    if named is None or t is None:
        return 0.0
    return max(0.0, (named - t) / _DAY - unc)


def pair_days_after(ta: float | None, unc_a: float, extra_a: str, tb: float | None, unc_b: float, extra_b: str
                    ) -> float:
    """:func:`days_after` of a pair, either way round: a stated date of one against the day the other's text
    names (read only for articles without a day stated, see :func:`.core.Deduplicator`)."""
    return max(days_after(named_day(extra_a), tb, unc_b), days_after(named_day(extra_b), ta, unc_a))


__all__ = ["SPREAD_DAYS", "Inferred", "Mention", "day_mentions", "days_after", "infer", "named_day", "pair_days_after",
           "token"]
