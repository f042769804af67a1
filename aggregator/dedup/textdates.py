"""When was a page written? Dates read from its text, for pages that state no publication day.

News text says when things happened: "Dec. 3, 2024", "3. Dezember 2024", "2024年12月3日", "12월 3일",
"le 3 décembre", "3 de diciembre de 2024", "2024-12-03", "23/05/2025" (day and month told apart only when one of
them exceeds 12) (:func:`day_mentions`). Two readings of them:

* the **named day**, the latest past day the text names: a page is written on or after it, so it bounds
  the publication from below -- and only from below: a report also names days long past (the accident a
  recall follows, the last day of a quarter);
* the **lead day**, the latest past day named in the opening (title, dateline, first sentence;
  :data:`LEAD_CHARS`): the day of the event reported, an *estimate* of the publication, give or take
  days. On the development set's half a (dated pages, the stated date cut from the text) the lead day
  was within 3 days of the stated one on 22 of 27 pages, and of the pairs ``aggregator dedup`` linked
  with both pages dated this way, the 30 right ones lay 0-7 days apart, the 10 wrong ones over 60.

What would make a day wrong is guarded against: a day after a cue of the future, a deadline or a range
(will, until, before, produced between, ab, bis, 将, 截止, 예정, まで...) in the few words before it is not
counted; a day without a year ("12月3日", "le 3 décembre") takes the year of the nearest day before it
that states one, the year before after "last year"/去年. "3月31日付" (the day a change takes effect) and "原定于8月8日"
(originally scheduled) are plans too -- except right after a publication label ("Published:", "Updated: 7:15pm,",
"发布时间:", "Veröffentlicht am", "기사입력"): the page's own dateline, whatever word stands before the label (a
headline's "计划" above it, "recall due to ... Date: 2025-04-14");
a day that starts a range ("since Jan. 1", "desde el 1 de enero", seit, depuis)
still bounds the publication from below but is no lead day (aid "retroactive from 1 January" in an April report).
A text about a reporting period that ends after the day its opening names, or a quarter or half that ends on it
(the Q3 figures under "Report Published: Sep 30, 2024"), was not written that day: it then has no lead day.
When no day states a year, the years a text names are no anchor (targets and comparisons as often as the
present): only the first day of the opening is kept, as month and day (``l:--12-03``), and compared in the
year nearest the other article's time.
Korean, Japanese and Chinese reports often name the event's day alone ("14일 밝혔다", "日産は13日"): when the
opening names no other day, that day of the month is kept (``l:----14``) and placed in the month nearest the
other article's time (on clusterset3 it was within a day of the event on 59 of 68 such pages, within 3 on 65):
it can only tell days about half a month apart. A photo caption's day ("FILE - ... Feb. 13, 2020 file photo",
"is displayed at ... Nov. 8, 2020") is the picture's, often years old: not counted.

Reporting periods ("November 2024", "Q3 2024") are left to the story evidence (``periods_conflict``): as
a publication date they were wrong by months as often as not on the development set.

Patterns are ours, a compact set per language (en, de, fr, es, it, pt, zh, ja, ko). ``dateparser``'s
``search_dates`` was measured on 60 development pages at ~850 ms a page (these patterns: ~0.3 ms) and
read "50%", "a 31%", "9866" and bare month names as dates; dateutil parses a known string, it does not
find dates in prose.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache

from . import features as F

#: the opening a lead day is read from (title, dateline, first sentence), in characters
LEAD_CHARS = 300
#: a lead day estimates the publication give or take this many days (a report trails its event by a day or
#: two; an estimate, not a bound)
LEAD_UNCERTAINTY_DAYS = 3.0

# the month names of the period reader (features), plus spellings a dateline uses and a period rarely does
# (Austrian Jänner, ASCII-folded forms, abbreviations with a day after them)
_MORE_MONTHS = {1: "jänner", 2: "fevrier fevereiro", 3: "maerz", 8: "aout", 9: "setiembre", 10: "okt outubro",
                12: "dez decembre dezembro"}
_MONTH_OF = {**F._MONTH_OF, **{w: m for m, ws in _MORE_MONTHS.items() for w in ws.split()}}
_Y = r"((?:19|20)\d\d)"
_D = r"(0?[1-9]|[12]\d|3[01])"
# (kind, pattern): the groups name year/month/day by the kind's order (see _parse)
_DAY_RES: tuple[tuple[str, re.Pattern[str]], ...] = (
    # 2024-12-03, 2024/12/03, 2024.12.03
    ("ymd", re.compile(rf"(?<![\d.])({_Y[1:-1]})[-/.](0?[1-9]|1[0-2])[-/.]{_D}(?![\d])")),
    # 03.12.2024 (day first: German, French, Russian... pages); 3/12/2024 is left out (US or not?)
    ("dmy_num", re.compile(rf"(?<![\d.]){_D}\.\s?(0?[1-9]|1[0-2])\.\s?{_Y}(?!\d)")),
    # Dec. 3, 2024 / December 3 / Dec 3rd (any word, then looked up in the month names: one alternation of
    # ~80 names at every position is 6x slower)
    ("md_en", re.compile(rf"(?<!\w)([^\W\d_]{{3,10}})\.?\s+{_D}(?:st|nd|rd|th)?(?!\d|:)(?:,?\s+{_Y}(?!\d))?")),
    # 3 December 2024 / 3. Dezember 2024 / le 3 décembre / 3 de diciembre de 2024 / 3 dicembre
    ("dm", re.compile(rf"(?<![\w.]){_D}(?:er|\.)?\s+(?:de\s+)?([^\W\d_]{{3,10}})\.?(?!\w)"
                      rf"(?:,?\s+(?:de\s+|del\s+)?{_Y}(?!\d))?")),
    # 23/05/2025 or 5/23/2025: read only when one of the two numbers cannot be a month (the other is then the
    # month; 02/10/2024 is left out: day first in most of Europe, month first in the US)
    ("slash", re.compile(rf"(?<![\d./])(0?[1-9]|[12]\d|3[01])/(0?[1-9]|[12]\d|3[01])/{_Y}(?![\d/])")),
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
    r"built|made|after|effective|ab|bis|soll|sollen|wird|werden|geplant|ablauf|zwischen|gebaut|hergestellt|à partir du|"
    r"jusqu'au|prévue?s?|d'ici|avant|entre|fabriqu\w*|a partir del|hasta|antes|previst[oa]s?|entro|dal|prima|"
    r"fino|dès)\b|"
    r"将|计划|预计|截止|到期|期间|生产|製造|起|까지|예정|부터|予定|まで|から|原定|原计划|原計劃",
    re.IGNORECASE)
# a photo caption's day ("FILE - This Thursday, Feb. 13, 2020 file photo shows...", "...is displayed at a
# dealership Sunday, Nov. 8, 2020"): when the picture was taken, often years before the report it stands above
_CAPTION_BEFORE = re.compile(r"\bFILE\b|\b(?:file photo|photo|pictured|displayed|on display|seen)\b|"
                             r"\b(?:Foto|Archivbild|Archivfoto|photo d'archive)\b", re.IGNORECASE)
_CAPTION_AFTER = re.compile(r"[,\s]{0,3}(?:file photo|photo)\b", re.IGNORECASE)
# the end of a sentence (not "Feb." before a day): a caption cue before it belongs to another sentence
_SENTENCE_END = re.compile(r"(?<!\b[A-Z][a-z])(?<!\b[A-Z][a-z]{2})(?<!\b[A-Z][a-z]{3})[.!?]\s(?!\s*\d)|[。！？\n|]")
# a day of the month alone, as Korean, Japanese and Chinese reports date their event ("14일 밝혔다", "日産は13日",
# "本月24日"): not after a month, a year or a digit, not a count of days ("3일간", "7日間", "3일 만에") nor Japan
_DAY_ONLY = re.compile(r"(?<![\d월月年년./\-])(?:本月|今月|이달\s?|지난\s?)?(0?[1-9]|[12]\d|3[01])\s?[일日号]"
                       r"(?![本元間间간째\d]|\s?만에|\s?동안|\s?이내)")
# a publication label right before a day: the page states its own date there ("Published: May 31, 2024",
# "Updated: 7:15pm, 28 Jun, 2023", "发布时间:2024-06-01", "Veröffentlicht am 3. Dezember 2024", "기사입력 2024.11.14");
# read as the page's day even where a plan's word stands a few words before it (a headline's "计划" above the
# dateline, "recall due to ... Date: 2025-04-14")
_PUBLISHED = re.compile(
    r"(?:\b(?:published|posted|updated|last updated|date|dated|veröffentlicht|aktualisiert|publiziert|stand|"
    r"publié|mis à jour|publicado|actualizado|pubblicato|aggiornato)(?:\s+(?:on|am|le|el|il|em))?|"
    r"发布时间|發布時間|发布日期|發布日期|发布于|發佈於|发表于|發表於|更新时间|更新時間|公開日|更新日|配信日|"
    r"기사입력|입력|수정|등록|게재)\s*[:：]?\s*(?:\d{1,2}:\d\d\s*(?:[ap]\.?m\.?)?,?\s*)?$",
    re.IGNORECASE)
_LAST_YEAR = re.compile(r"去年|昨年|작년|last year|vergangenen jahres|letzten jahres|l'an dernier|"
                        r"l'année dernière|el año pasado|l'anno scorso", re.IGNORECASE)
_WORDS = {"may", "mar", "jun", "jul", "dec", "jan", "sep", "sept", "mai", "mars"}  # also words in prose
# (付: "3月31日付で退任" is the day a change takes effect, announced before it)
_AFTER_CJK = re.compile(r"\s*(?:起|부터|から|까지|まで|前|付)")
# the start of a range ("desde el 1 de enero", "seit dem 1. Januar", "since Jan. 1"): a true lower bound of the
# publication, but no estimate of it (aid "retroactive from 1 January" in an April report): not a lead day
_SINCE = re.compile(r"\b(?:since|desde|seit|depuis)\b", re.IGNORECASE)
_ANY_YEAR = 2000  # a leap year: where a day without a year is parsed (29 February included)
_YEAR_RE = re.compile(r"(?<!\d)((?:19|20)\d\d)(?!\d)")
_DAY = 86400.0


@dataclass(frozen=True)
class Mention:
    """A day named in a text: ``day``; ``year_said`` False when the year was taken from elsewhere in the
    text; ``future`` when a future cue comes right before it; ``pos`` its offset in the text; ``since`` when it
    starts a range (a lower bound, not the day of the event)."""

    day: date
    year_said: bool
    future: bool
    pos: int
    since: bool = False


@dataclass(frozen=True)
class Inferred:
    """What a text says of its publication: ``named`` the latest past day it names (epoch seconds, noon UTC),
    a lower bound; ``lead`` the latest past day named in its opening (or None), an estimate; ``lead_md``
    ``(month, day)`` of the first day named in its opening when no day in the text states a year (then
    ``named`` and ``lead`` are None): an estimate whose year is the nearest one (:func:`pair_days_after`)."""

    named: float | None
    lead: float | None
    lead_md: tuple[int, int] | None = None
    lead_dom: int | None = None  # the day of the month alone ("14일", "13日"), when the opening names no other day


@lru_cache(maxsize=16)  # infer() reads a text twice when no day states a year
def _scan(text: str) -> tuple[tuple[int, int | None, int, int, bool, bool], ...]:
    """``(position, year or None, month, day, future, since)`` of every day-like match, in order of position."""
    found: dict[int, tuple[int, int | None, int, int, bool, bool]] = {}
    taken: list[tuple[int, int]] = []
    for kind, rx in _DAY_RES:
        if kind == "cjk" and "月" not in text or kind == "ko" and "월" not in text:
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
                mo = _MONTH_OF.get(g[0].lower())
                if mo is None or g[0].lower() in _WORDS and not g[0][0].isupper():
                    continue  # "may 3" in prose: a verb
                d, y = g[1], g[2]
            elif kind == "slash":
                a, b, y = int(g[0]), int(g[1]), g[2]
                if (a > 12) == (b > 12):
                    continue  # both could be the month (or neither): which is the day is not said
                d, mo = (a, b) if a > 12 else (b, a)
            elif kind == "dm":
                mo = _MONTH_OF.get(g[1].lower())
                if mo is None or g[1].lower() in _WORDS and not g[2] and not g[1][0].isupper():
                    continue  # "3 may", "10 mar": words, not months
                d, y = g[0], g[2]
            else:  # cjk, ko
                y, mo, d = g
            if not 1 <= int(mo) <= 12 or not 1 <= int(d) <= 31:
                continue
            before = text[max(0, m.start() - 48):m.start()]
            future = bool(_FUTURE.search(before[-24:] if kind in ("cjk", "ko") else before))
            # a caption's day (cue in the words of its own sentence before it): not the day of the event
            # reported, counted as a plan is (not at all)
            sentence = text[max(0, m.start() - 120):m.start()]
            ends = [e.end() for e in _SENTENCE_END.finditer(sentence)]
            future = future or bool(_CAPTION_BEFORE.search(sentence, ends[-1] if ends else 0) or
                                    _CAPTION_AFTER.match(text, m.end()))
            if kind in ("cjk", "ko"):
                future = future or bool(_AFTER_CJK.match(text, m.end()))
            since = not future and bool(_SINCE.search(before[-24:]))
            if _PUBLISHED.search(before[-28:]):  # the page's own dateline ("Published: ...", "发布时间:"): no plan,
                future = since = False  # no range, no caption
            found[m.start()] = (m.start(), int(y) if y else None, int(mo), int(d), future, since)
            taken.append((m.start(), m.end()))
    return tuple(found[k] for k in sorted(found))


def day_mentions(text: str, year_default: int | None = None) -> list[Mention]:
    """Every day named in ``text``, in order of position. A day without a year takes the year of the nearest
    day before it that states one (the first such day when none is before it), one less after "last year";
    when no day states a year it gets ``year_default``, or is dropped when that is None."""
    found: dict[int, Mention] = {}
    for pos, y, mo, d, future, since in _scan(text):
        yy = y if y is not None else year_default if year_default is not None else 2000
        try:
            found[pos] = Mention(date(yy, mo, d), y is not None, future, pos, since)
        except ValueError:
            continue
    out = [found[k] for k in sorted(found)]
    said = [m for m in out if m.year_said]
    if said:  # a day without a year belongs to the year of the nearest day before it stated with one
        fixed = []
        for m in out:
            if not m.year_said:
                prev = [x for x in said if x.pos < m.pos]
                y = (prev[-1] if prev else said[0]).day.year
                if _LAST_YEAR.search(text, max(0, m.pos - 12), m.pos):
                    y -= 1
                try:
                    m = Mention(m.day.replace(year=y), False, m.future, m.pos, m.since)
                except ValueError:
                    continue
            fixed.append(m)
        out = fixed
    elif year_default is None:  # no day states its year: the text's years are too loose an anchor
        out = []
    return out


def _day_only(lead: str) -> int | None:
    """The first day of the month named alone in ``lead`` (Korean, Japanese, Chinese), not a plan or a range."""
    if "일" not in lead and "日" not in lead and "号" not in lead:
        return None
    for m in _DAY_ONLY.finditer(lead):
        before = lead[max(0, m.start() - 24):m.start()]
        if _FUTURE.search(before) or _AFTER_CJK.match(lead, m.end()):
            continue
        return int(m.group(1))
    return None


def _noon(d: date) -> float:
    return datetime(d.year, d.month, d.day, 12, tzinfo=timezone.utc).timestamp()


def period_end(period: str) -> date | None:
    """The last day of a reporting period of :func:`.features.periods` (``ym:2024-11``, ``q:2024-4``,
    ``q:2024-h1``), or None (no year said, or another kind)."""
    try:
        kind, rest = period.split(":", 1)
        y, part = rest.split("-", 1)
        year = int(y)
        if kind == "ym":
            mo = int(part)
        elif kind == "q":
            mo = 6 * int(part[1:]) if part.startswith("h") else 3 * int(part)
        else:
            return None
        return date(year + mo // 12, mo % 12 + 1, 1) - timedelta(days=1)
    except (ValueError, IndexError):
        return None


def infer(text: str, *, month: str | None = None, horizon: float | None = None,
          periods: frozenset[str] | set[str] = frozenset()) -> Inferred | None:
    """The named day and lead day of ``text`` (see the module docstring), or None when it names no past day.

    ``month``: a publication month already known (``"2024-11"``): only days of that month count;
    ``horizon``: days later than this (epoch seconds) are ignored (a typo, or the crawl's clock);
    ``periods``: the reporting periods it names (:func:`.features.periods`): a text about a period that
    ends after its lead day (the Q4 figures, a photo caption of an October event above them) was not
    written on that day, so it then has no lead day.
    """
    ms = [m for m in day_mentions(text) if not m.future]
    if month:
        y, mo = (int(x) for x in month.split("-")[:2])
        ms = [m for m in ms if (m.day.year, m.day.month) == (y, mo)]
    if horizon is not None:
        ms = [m for m in ms if _noon(m.day) <= horizon + _DAY]
    if not ms:
        if month or horizon is not None:
            return None
        # no day states its year: the first day named in the opening, its year left open
        md = [m.day for m in day_mentions(text, year_default=_ANY_YEAR)
              if not m.future and not m.since and m.pos < LEAD_CHARS]
        if md:
            return Inferred(None, None, (md[0].month, md[0].day))
        dom = _day_only(text[:LEAD_CHARS])
        return Inferred(None, None, None, dom) if dom is not None else None
    days = sorted(m.day for m in ms)
    last = days[-1]
    if len(days) >= 3 and (last - days[-2]).days > 366:  # a stray day far after every other: a typo or a plan
        last = days[-2]
    lead = max((m.day for m in ms if m.pos < LEAD_CHARS and m.day <= last and not m.since), default=None)
    # (a quarter's or a half's figures are never out on its last day; a month's can be: "July sales" on 31 July)
    if lead is not None and any((e := period_end(p)) is not None and (e > lead or e == lead and p.startswith("q:"))
                                for p in periods):
        lead = None
    return Inferred(_noon(last), _noon(lead) if lead is not None else None)


def token(inf: Inferred) -> str:
    """``inf`` as items of :func:`.story.pack_extra`'s string: ``e:2024-12-03`` (the named day) and, if there
    is one, ``l:2024-12-02`` (the lead day)."""
    if inf.named is None:
        if inf.lead_md:
            return f"l:--{inf.lead_md[0]:02d}-{inf.lead_md[1]:02d}"
        return f"l:----{inf.lead_dom:02d}" if inf.lead_dom else ""
    out = f"e:{datetime.fromtimestamp(inf.named, tz=timezone.utc).date().isoformat()}"
    if inf.lead is not None:
        out += f" l:{datetime.fromtimestamp(inf.lead, tz=timezone.utc).date().isoformat()}"
    return out


def _item(extra: str, key: str) -> str | None:
    i = extra.find(key)
    while i > 0 and extra[i - 1] != " ":
        i = extra.find(key, i + 1)
    if i < 0:
        return None
    j = extra.find(" ", i)
    return extra[i + 2:j if j >= 0 else len(extra)]


def _item_day(extra: str, key: str) -> float | None:
    v = _item(extra, key)
    if v is None or v.startswith("--"):
        return None
    try:
        return _noon(date.fromisoformat(v))
    except ValueError:
        return None


@lru_cache(maxsize=65536)
def lead_md(extra: str) -> tuple[int, int] | None:
    """``(month, day)`` of a lead day without a year (``l:--12-03``) in a :func:`.story.pack_extra` string."""
    v = _item(extra, "l:")
    if v is None or not v.startswith("--"):
        return None
    try:
        return int(v[2:4]), int(v[5:7])
    except ValueError:
        return None


@lru_cache(maxsize=65536)
def lead_dom(extra: str) -> int | None:
    """The day of the month of a lead day named without its month (``l:----14``), or None."""
    v = _item(extra, "l:")
    if v is None or not v.startswith("----"):
        return None
    try:
        return int(v[4:6])
    except ValueError:
        return None


def _nearest_dom(dom: int, t: float) -> float:
    """Noon of the ``dom``-th day in the month that puts it nearest to ``t``."""
    d = datetime.fromtimestamp(t, tz=timezone.utc).date()
    best, out = math.inf, t
    for k in (-1, 0, 1):
        y, mo = divmod(d.year * 12 + d.month - 1 + k, 12)
        try:
            c = _noon(date(y, mo + 1, dom))
        except ValueError:
            continue
        if abs(c - t) < best:
            best, out = abs(c - t), c
    return out


def _nearest(md: tuple[int, int], t: float) -> float:
    """Noon of the day ``md`` in the year that puts it nearest to ``t``."""
    y = datetime.fromtimestamp(t, tz=timezone.utc).year
    best = math.inf
    out = t
    for yy in (y - 1, y, y + 1):
        try:
            c = _noon(date(yy, *md))
        except ValueError:
            continue
        if abs(c - t) < best:
            best, out = abs(c - t), c
    return out


@lru_cache(maxsize=65536)
def named_day(extra: str) -> float | None:
    """The named day (``e:``) of a :func:`.story.pack_extra` string (epoch seconds, noon UTC), or None."""
    return _item_day(extra, "e:")


@lru_cache(maxsize=65536)
def lead_day(extra: str) -> float | None:
    """The lead day (``l:``) of a :func:`.story.pack_extra` string (epoch seconds, noon UTC), or None."""
    return _item_day(extra, "l:")


def days_after(named: float | None, t: float | None, unc: float) -> float:
    """How many days the day a text names (:func:`named_day`, a lower bound of its publication) lies after
    the latest moment another article, published at ``t`` ± ``unc`` days, can have appeared; 0 when not
    after or unknown. Far after: the text is a later follow-up, not a report of the other's event."""
    if named is None or t is None:
        return 0.0
    return max(0.0, (named - t) / _DAY - unc)


def pair_days_after(ta: float | None, unc_a: float, extra_a: str, tb: float | None, unc_b: float, extra_b: str
                    ) -> float:
    """How far apart in days two articles lie by what their texts say, beyond what their stated dates say
    (0: nothing known against them being close). Each is a stated date ``t`` ± ``unc`` days (``t`` None: no
    date), with the ``e:``/``l:`` items of its :func:`.story.pack_extra` string (present only for articles
    without a day stated). Two readings, the larger counts: a named day after the other's stated date or
    lead day (a lower bound, one way); the lead days of both, or a lead day and a stated date (estimates,
    either way, less :data:`LEAD_UNCERTAINTY_DAYS` per lead day)."""
    na, nb = named_day(extra_a), named_day(extra_b)
    la, lb = lead_day(extra_a), lead_day(extra_b)
    da, db = lead_dom(extra_a), lead_dom(extra_b)
    if da is not None or db is not None:  # a day of the month alone: in the month nearest the other's time
        if da is not None and db is not None:
            return 0.0  # (two days of a month are never more than half a month apart)
        dom, t, unc = (da, tb, unc_b) if da is not None else (db, ta, unc_a)
        if t is None or unc:
            t, unc = (lb, LEAD_UNCERTAINTY_DAYS) if da is not None else (la, LEAD_UNCERTAINTY_DAYS)
        if t is None:
            return 0.0
        return max(0.0, abs(_nearest_dom(dom, t) - t) / _DAY - unc - LEAD_UNCERTAINTY_DAYS)
    ma, mb = lead_md(extra_a), lead_md(extra_b)
    if ma is not None or mb is not None:  # a lead day without a year: placed in the year nearest the other's
        if ma is not None and mb is not None:
            if ta is None and tb is None:
                doy = abs(_noon(date(_ANY_YEAR, *ma)) - _noon(date(_ANY_YEAR, *mb))) / _DAY
                return max(0.0, min(doy, 366 - doy) - 2 * LEAD_UNCERTAINTY_DAYS)
            return 0.0
        md, t, unc, named = (ma, tb, unc_b, nb) if ma is not None else (mb, ta, unc_a, na)
        t, unc = (t, unc) if t is not None and not (unc and (lb if ma is not None else la)) else \
            ((lb if ma is not None else la), LEAD_UNCERTAINTY_DAYS)
        if t is None:
            return 0.0
        return max(0.0, abs(_nearest(md, t) - t) / _DAY - unc - LEAD_UNCERTAINTY_DAYS)
    if na is None and nb is None:
        return 0.0
    # what each side's time is at its latest: a stated date, else a lead day (an estimate)
    ha, hua = (ta, unc_a) if ta is not None else (la, LEAD_UNCERTAINTY_DAYS) if la is not None else (None, 0.0)
    hb, hub = (tb, unc_b) if tb is not None else (lb, LEAD_UNCERTAINTY_DAYS) if lb is not None else (None, 0.0)
    gap = max(days_after(na, hb, hub), days_after(nb, ha, hua))
    # estimates both ways: a lead day against the other's stated date or lead day
    lead_a = la is not None and (ta is None or unc_a > 0)  # (a month-only date: its lead day is closer)
    lead_b = lb is not None and (tb is None or unc_b > 0)
    ea, eua = (la, LEAD_UNCERTAINTY_DAYS) if lead_a else (ta, unc_a)
    eb, eub = (lb, LEAD_UNCERTAINTY_DAYS) if lead_b else (tb, unc_b)
    if (lead_a or lead_b) and ea is not None and eb is not None:
        gap = max(gap, abs(ea - eb) / _DAY - eua - eub)
    return gap


__all__ = ["LEAD_CHARS", "LEAD_UNCERTAINTY_DAYS", "Inferred", "Mention", "day_mentions", "days_after", "infer",
           "lead_day", "lead_dom", "lead_md", "named_day", "pair_days_after", "period_end", "token"]
