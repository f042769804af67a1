"""Language-light event features for the story tier: numbers, names, title keywords.

Two outlets reporting one event in their own words share few body shingles, and an English
and a Chinese report share none. What they do share is *facts*: amounts ("300,000",
"30万" and "300.000" are one value), percentages, and Latin-script names and model codes
("BYD", "Seal 06", "EX30", "CATL"). Numbers are parsed with locale heuristics (``25.000`` and
``25 000`` are thousands, ``1,2 Milliarden`` is 1.2e9, ``30.5万`` is 305,000) and rounded to
three significant digits; years, day numbers and small counts are dropped because every story
of a week shares them. A table kept as data (``names.json``) maps the Chinese (both scripts), Korean,
Japanese, Thai, Cyrillic, German and French names of makers, bodies and places to one Latin name, so "比亚迪" meets
"BYD", and names the *kind* of news (recall, sales, results, tariffs...) in each language.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

import regex
import xxhash

from .text import _PINYIN_GLOSS, T2S, fold_chinese

# importlib.resources, not a path: under scrapyd the package is a zipped egg
_TABLE = json.loads(resources.files(__package__).joinpath("names.json").read_text(encoding="utf-8"))
#: spelling -> canonical Latin name (Chinese in both scripts, German/French forms): data, in names.json
ALIASES: dict[str, str] = dict(_TABLE["names"])
# Makers and places the EV beat names constantly; spelled like ordinary capitalised words, but
# as specific as an acronym.
KNOWN_NAMES = set(ALIASES.values()) | set(_TABLE["known"])
# Places: shared by every story filed from there, so never the specific name that links two.
PLACES = set(_TABLE["places"])

# A word after a figure that multiplies it ("30万", "3,5 Mrd.", "1조", "1.500 millones"): data, in names.json
_SCALE: dict[str, float] = {w.lower(): float(f) for lang, table in _TABLE["scales"].items() if lang != "_doc"
                            for w, f in table.items()}
_CJK_SCALES = {w for w in _SCALE if not w.isascii()}
# Languages that write a decimal comma ("3,5 Mrd.", "1.500 millones" is 1,500 millions); the rest a point.
_DECIMAL_COMMA = {"de", "fr", "es", "it", "pt", "ro", "id", "sv", "ru", "nl", "da", "is", "tr", "pl", "cs", "fi",
                  "nb", "no", "hu", "el", "uk", "vi"}
_PERCENT = {"%", "percent", "per cent", "prozent", "pour cent", "pourcent", "％", "por ciento", "per cento",
            "por cento", "procent", "퍼센트",
            # Hindi, Telugu, Thai, Arabic and Vietnamese write a word after the figure ("10 प्रतिशत", "10శాతం"):
            # the share is the English page's "10%" (NFKC forms: the text is read after NFKC)
            *(unicodedata.normalize("NFKC", w) for w in ("प्रतिशत", "फीसदी", "फ़ीसदी", "శాతం", "เปอร์เซ็นต์", "في المئة",
                                                         "في المائة", "بالمئة", "phần trăm"))}
_SCALE_ALT = "|".join(re.escape(w).replace(r"\ ", r"\s") for w in sorted(_SCALE, key=len, reverse=True))
_PCT_ALT = "|".join(re.escape(w).replace(r"\ ", r"\s") for w in sorted(_PERCENT, key=len, reverse=True))

# The look-behinds ("not after a letter, digit or a decimal point") come *after* the first digit, written
# one character wider: the same matches, but the pattern then starts with a digit class, which lets the
# regex engine skip to the next digit instead of trying the pattern at every position (3-4x faster; the
# equality with the plain form is tested in tests/test_dedup_fastpath.py).
# A scale glyph that starts a unit is the unit's ("350千瓦" is 350 kW, not 350 thousand).
_NUM_RE = re.compile(
    r"(\d(?<![A-Za-z0-9]\d)(?<![0-9][.,]\d)(?:\d{0,2}(?:(?:[.,]|\s|\u202f|\u00a0)\d{3})+|\d*))(?:[.,](\d+))?"
    r"(?:\s?(" + _PCT_ALT + "|(?:" + _SCALE_ALT + r")\.?)(?![A-Za-zÀ-ÿ]|[瓦米克]))?(?![0-9]|[.,][0-9])",
    re.IGNORECASE,
)
# East Asian amounts count in steps of 10^4: "8조7471억" is 8.7471조 and "3亿5000万" 3.5亿, one figure each; so is
# a count in 만/万 with its remainder ("20만8000대", "12万5000台", "3만5천명": 208,000, 125,000 and 35,000 as the
# English reports of the same recall or sales state them; read apart, the 만 was lost and 8,000 taken as the figure)
_COMPOUND_RE = re.compile(r"(?<![\d.,])(\d{1,4})\s?(?:([조兆])\s?(\d{1,4})\s?(?:억|億|亿)"
                          r"|([억億亿])\s?(\d{1,4})\s?(?:만|万|萬)"
                          r"|([만万萬])\s?(\d{1,4}|[1-9](?=[천千]))([천千])?(?![\d.,]?\d))")


def _compound(m: re.Match[str]) -> str:
    if m.group(6):  # 만 and its remainder (in thousands after 천/千)
        small = int(m.group(7)) * (1000 if m.group(8) else 1)
        return f"{m.group(1)}.{small:04d}{m.group(6)}"
    big, small = (m.group(2), m.group(3)) if m.group(2) else (m.group(4), m.group(5))
    return f"{m.group(1)}.{int(small):04d}{big}"


# words that count people right after a figure: "2000명", "2000名员工", "2000 employees" name no year (not "jobs",
# "Stellen": "bis 2030 Stellen abbauen" names the year)
_COUNT_RE = re.compile(r"\s?(?:명|名|人|位|员工|員工|직원|(?:employees|workers|staff|people|mitarbeiter\w*|"
                       r"beschäftigte\w*|salariés|employés|empleados|trabajadores|dipendenti|lavoratori)(?![^\W\d_]))",
                       re.IGNORECASE)
# What follows a time of day ("um 4.53 Uhr", "à 14h30", "9.30 a.m."): not a figure of the story
_CLOCK_RE = re.compile(r"\s?(?:uhr\b|h(?:\d\d)?\b|[ap]\.m\.)", re.IGNORECASE)


def _unspaced_alias(k: str) -> bool:
    """An alias matched as a substring: one in a script outside Latin (Hangul, kana, Chinese, Thai,
    Cyrillic), capitalised or not ("LG新能源", "SK온", "Тесла"); Latin forms go through the capitalised words."""
    return not k.isascii() and (not k[0].isupper() or any(ord(c) > 0x24F for c in k))


# The forms in other scripts (_unspaced_alias) are found inside runs, leftmost-longest and non-overlapping, as
# one alternation of them all, longest first, would find them (tested against it in tests/test_dedup_names.py)
# without such an alternation of ~2,700 literals, which the engine tries one by one at every position (and which
# took ~16 ms to compile at import): the forms by their first character, longest first, tried only where a
# character that starts one stands (found by one character class).
_ALIAS_BY_FIRST: dict[str, tuple[str, ...]] = {}
for _k in sorted(filter(_unspaced_alias, ALIASES), key=len, reverse=True):
    _ALIAS_BY_FIRST[_k[0]] = _ALIAS_BY_FIRST.get(_k[0], ()) + (_k,)
_ALIAS_FIRST_RE = re.compile("[" + "".join(re.escape(c) for c in sorted(_ALIAS_BY_FIRST)) + "]")
_ARABIC_FORMS = frozenset(k for k in ALIASES if "\u0600" <= k[0] <= "\u06ff")
# Katakana runs are words: a form of two katakana sits inside longer words ("キア" (Kia) in "スロバキア" (Slovakia),
# "ニオ" (NIO) in "ユニオン" (union)); such a form matches only where no katakana stands before or after it. Longer
# forms keep matching inside runs: Japanese writes a maker into katakana compounds ("トヨタグループ", "ソニーグループ").
_KATAKANA = "\u30a1-\u30fa\u30fc-\u30fe"
_KANA_SHORT = frozenset(k for k in ALIASES if len(k) <= 2 and re.fullmatch(f"[{_KATAKANA}]+", k))
_KANA_RE = re.compile(f"[{_KATAKANA}]")


def _kana_bounded(text: str, i: int, end: int) -> bool:
    """Whether the short katakana form at ``text[i:end]`` is a run of its own (no katakana next to it)."""
    return not (i > 0 and _KANA_RE.match(text, i - 1) or end < len(text) and _KANA_RE.match(text, end))


# Arabic writes a word's clitics and endings onto it: a name may follow "و", "ب", "ل", "ال"... ("وتسلا", "لتسلا")
# and take a nisba or pronoun ending ("الصينية", "تسلاها"), but inside another word it is no name: "تسلا" (Tesla) is in
# "استسلام" (surrender), "كيا" (Kia) ends "تركيا" (Turkey). An Arabic form matches only between those bounds.
_AR_LETTER_RE = re.compile(r"[\u0620-\u064a\u066e-\u06d3\u06fa-\u06ff]")
_AR_PREFIXES = frozenset("و ف ب ل ك ال وال بال فال كال لل ول وب فب فل".split())
_AR_SUFFIXES = frozenset("ي ية يه يين يون ها هم هما".split())


def _arabic_bounded(text: str, i: int, end: int) -> bool:
    """Whether the Arabic form at ``text[i:end]`` stands as a word, its clitic prefix and ending allowed."""
    j = i
    while j > 0 and _AR_LETTER_RE.match(text, j - 1):
        j -= 1
    if j < i and text[j:i] not in _AR_PREFIXES:
        return False
    e = end
    while e < len(text) and _AR_LETTER_RE.match(text, e):
        e += 1
    return e == end or text[end:e] in _AR_SUFFIXES


def alias_matches(text: str) -> list[tuple[str, int]]:
    """``(form, end)`` of every unspaced alias found in ``text``, in order."""
    out: list[tuple[str, int]] = []
    pos = 0
    search = _ALIAS_FIRST_RE.search
    while (m := search(text, pos)) is not None:
        i = m.start()
        for k in _ALIAS_BY_FIRST[text[i]]:
            if text.startswith(k, i) and (k not in _ARABIC_FORMS or _arabic_bounded(text, i, i + len(k))) and \
                    (k not in _KANA_SHORT or _kana_bounded(text, i, i + len(k))):
                out.append((k, i + len(k)))
                pos = i + len(k)
                break
        else:
            pos = i + 1
    return out


# names of several words or with a hyphen ("General Motors", "EU-Kommission"): matched as phrases
_PHRASES = tuple(sorted((k for k in ALIASES if k[0].isupper() and (" " in k or "-" in k)), key=len, reverse=True))
# the phrases by their first word: only those whose first word is a word of the text can be in it
_PHRASES_BY_WORD: dict[str, tuple[str, ...]] = {}
for _k in _PHRASES:
    _w = regex.match(r"\w+", _k).group(0)  # words as names() reads them (marks kept)
    _PHRASES_BY_WORD[_w] = _PHRASES_BY_WORD.get(_w, ()) + (_k,)


@lru_cache(maxsize=256)
def _phrase_re(present: tuple[str, ...]) -> re.Pattern[str]:
    """The phrases in ``present`` (in :data:`_PHRASES`' order, longest first) as whole words: over the phrases
    of the text only, since a phrase that is not in the text cannot match; the matches are those of the
    alternation of every phrase (tested), and a text naming none (most) costs a few substring tests instead of
    a regex pass that tries every position."""
    return re.compile(r"(?<!\w)(" + "|".join(re.escape(k) for k in present) + r")(?!\w)")

# Capitalised words that are not names: sentence starts, months, days, generic nouns.
_NOT_NAMES = set("""
the a an this that these those it its in on at for from with by of to and or but as after before
while when where what who which how why he she they we our their his her there here new also
monday tuesday wednesday thursday friday saturday sunday january february march april may june
july august september october november december jan feb mar apr jun jul aug sep sept oct nov dec
der die das ein eine einer eines den dem des im am um auf für mit von zu und oder aber als nach
vor bei wie wenn was wer es sie er wir ihr unser dieser diese dieses zudem laut auch noch
januar februar märz mai juni juli oktober dezember montag dienstag mittwoch donnerstag freitag
le la les un une des du de au aux et ou mais pour par avec dans sur selon ce cette ces il elle
ils elles nous on en lundi mardi mercredi jeudi vendredi samedi dimanche janvier février mars
avril juin juillet août septembre octobre novembre décembre
el los las una uno del al con por para según tras entre sin sobre este esta estos estas su sus lo
il gli della delle dello degli nel nella negli dal dalla alla alle agli per che non una secondo dopo
os um uma dos das na nos nas pela pelo ao aos segundo após
enero febrero marzo mayo junio julio agosto septiembre octubre noviembre diciembre lunes martes miércoles
jueves viernes sábado domingo gennaio febbraio aprile maggio giugno luglio settembre ottobre dicembre
ceo cfo chief ev evs electric vehicle vehicles car cars company group inc ltd co corp
update exclusive breaking analysis report net gross follow share subscribe
linkedin facebook youtube twitter instagram tiktok whatsapp telegram weibo wechat x threads bluesky
q1 q2 q3 q4 h1 h2 km kwh mph usd eur rmb yuan euro euros dollars
""".split())

_STOP = _NOT_NAMES | set("""
is are was were be been has have had will would can could said says say its not no more most
than into over about up down out per year years month week day ist sind war wurde werden hat haben
wird nicht mehr sich est sont été sera ont pas plus qui que sa son ses leur
""".split())

# Latin names inside CJK text have no \b boundary (both sides are \w): bound on ASCII instead.
# (the look-behind after the first capital, one character wider: see _NUM_RE)
# A name may start with any Latin capital ("Škoda", "Ørsted", "Łódź", "Đà Nẵng"): the classes hold Latin-1,
# Latin Extended-A and Vietnamese letters, lower and upper case alike, and _cap_entries drops a lower-case start.
# (Latin Extended-B holds Vietnamese ơ and ư: without it "Phạm Nhật Vượng" read "nhật v", a strong name of one page)
_LATIN = "A-Za-z0-9À-ÖØ-öø-ÿĀ-ɏḀ-ỿ"
_CAP1 = "A-ZÀ-ÖØ-ÞĀ-ɏḀ-ỿ"
# The look-ahead that keeps a model suffix from cutting a longer figure or word ("Seal 06", not "Tesla 202" of
# "Tesla 2024", nor "Ola K" of "Ola Källenius") is the suffix's own: the name before a year or a figure ("BYD 2025
# target", "Tesla 1,000 cars") is still read, which a look-ahead after the whole match dropped with the suffix.
_CAP_RE = re.compile(r"([" + _CAP1 + r"](?<![" + _LATIN + r"][" + _CAP1 + r"])(?:[" + _LATIN + r"\-]*["
                     + _LATIN + r"])?)"
                     r"(?:\s?(\d{1,3}[A-Za-z]?|[A-Z]{1,3}\d*|[IVX]{1,3})(?![" + _LATIN + r"]|[\s\u202f.,]\d))?"
                     r"(?![" + _LATIN + r"]|[.,]\d)")  # ("ID.3" is a code: "ID" before ".3" is no name)
_ROMAN_RE = re.compile(r"[IVX]+")
_CODE_RE = re.compile(r"(?<![A-Za-z0-9])([A-Za-z]{1,4}[\-.]?\d{1,4}[A-Za-z]?)(?![A-Za-z0-9])")
# Every _CODE_RE match holds a digit right after a letter, or after a letter and "-"/".": this finds those
# digits with a pattern that starts with a digit class (the engine skips to the next digit), and
# :func:`codes` runs _CODE_RE only over the runs of code characters around them (~6x faster on news text)
_CODE_HINT_RE = re.compile(r"\d(?:(?<=[A-Za-z]\d)|(?<=[A-Za-z][\-.]\d))")
_CODE_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-.")


def codes(text: str) -> list[str]:
    """``group(1)`` of every :data:`_CODE_RE` match in ``text``, in order (the model codes ``ID.3``, ``G6``).

    A match consists of code characters (letters, digits, ``-``, ``.``) and is bounded by characters that
    are no letter or digit, so it lies inside one maximal run of code characters, and the run's own
    bounds satisfy the pattern's look-arounds exactly as the text around it does: the matches over the
    runs that hold a hint are the matches over the whole text (tested)."""
    out: list[str] = []
    end = 0
    n = len(text)
    for h in _CODE_HINT_RE.finditer(text):
        p = h.start()
        if p < end:  # inside the run just read
            continue
        s = p
        while s > 0 and text[s - 1] in _CODE_CHARS:
            s -= 1
        end = p + 1
        while end < n and text[end] in _CODE_CHARS:
            end += 1
        out.extend(m.group(1) for m in _CODE_RE.finditer(text, s, end))
    return out

# A word is letters *with their combining marks*: Thai vowel and tone signs, Devanagari and other Brahmic
# vowel signs and viramas, accents of decomposed (NFD) text are category M, which `re`'s \w leaves out (it
# cut "ไฟไหม้" after "ไฟไหม" and "लिस्टिंग" into "ल", "स", "ट", "ग"); the `regex` module's \w is Unicode's
# (letters, marks, digits, connectors). ASCII text has no marks: there `re` reads the same words, faster.
_WORD_RE = regex.compile(r"\w+")
_ASCII_WORD_RE = re.compile(r"\w+")
# a text without any mark (most, ~99 % of our pages) reads the same words with `re`, ~1.5x faster
_MARK_RE = regex.compile(r"\p{M}")
_CJK_RE = re.compile(r"[\u3400-\u9fff]+")


@dataclass
class StoryFeatures:
    """What the story tier compares. ``strong`` names are acronyms, codes and known brands."""

    numbers: frozenset[str] = frozenset()
    names: dict[str, float] = field(default_factory=dict)  # name -> specificity weight (0..1]
    keywords: frozenset[str] = frozenset()

    def hashes(self) -> list[int]:
        """uint32 hashes of the feature set that story-tier MinHash/LSH indexes."""
        items = [f"n:{x}" for x in self.numbers] + [f"e:{x}" for x in self.names]
        items += [f"k:{x}" for x in self.keywords]
        return [xxhash.xxh32_intdigest(x.encode("utf-8")) for x in items]


def specific_number(x: str) -> bool:
    """A figure with >= 2 significant digits and no percent sign (``14,881``, not ``300,000``/``2.3%``).

    Round numbers and percentages recur across unrelated stories; an exact count rarely does.
    """
    if x.startswith("p:"):  # a percentage is specific with three significant digits (38.1%, not 10%)
        return len(x[2:].split("e")[0].replace(".", "").lstrip("0").rstrip("0")) >= 3
    if x.startswith("u:"):  # a figure with its unit: specific unless round ("400 kW" is every charger's)
        x = re.match(r"u:([0-9.e+]+)", x).group(1)  # type: ignore[union-attr]
    elif "." not in x and "e" not in x and len(x) <= 3:
        return False  # a bare count below 1,000 ("120", "410"): too common to tie two reports together
    mant = x.split("e")[0].replace(".", "").lstrip("0").rstrip("0")
    return len(mant) >= 2


@lru_cache(maxsize=4096)  # figures are diverse: a small cache catches the recurring ones (~1 MB)
def _parse_value(whole: str, frac: str | None, unit: str | None, lang: str) -> tuple[float, bool] | None:
    """``(value, is a percentage)`` of one matched figure, or None for a day, a small count or a year."""
    unit_l = re.sub(r"\s+", " ", (unit or "").lower()).rstrip(".")
    grp = re.fullmatch(r"(\d{1,3})([.,])(\d{3})", whole) if unit_l in _SCALE and frac is None else None
    # "3.299万", "3,5 Mrd.", "1.25 billion": one group before a scale word is a decimal when its separator is
    # the language's decimal mark ("1.500 millones" and "1,500 million" are 1.5 billion); unknown: a decimal
    if grp and (not lang or unit_l in _CJK_SCALES or grp.group(2) == ("," if lang in _DECIMAL_COMMA else ".")):
        whole, frac = grp.group(1), grp.group(3)
    digits = re.sub(r"[.,\s\u202f\u00a0]", "", whole)
    # a figure written in thousands groups ("2,000", "2.000", "2 000") is a count, never a year
    grouped = len(digits) != len(whole)
    if frac is not None and len(frac) == 3 and unit_l not in _SCALE:
        # "1,500" / "1.500": a thousands group, not a decimal
        digits += frac
        frac = None
        grouped = True
    try:
        value = float(digits + ("." + frac if frac else ""))
    except ValueError:
        return None
    is_pct = unit_l in _PERCENT or unit in ("%", "％")
    scale = _SCALE.get(unit_l, 1.0) if not is_pct else 1.0
    if unit_l in ("m", "b") and lang not in ("en", ""):
        scale = 1.0  # "m" is metres, "b" anything outside English money talk ("$2.5b")
    if not is_pct and scale == 1.0 and frac is None:
        if value <= 31 or (1990 <= value <= 2040 and not grouped):
            return None  # day numbers, small counts and years: shared by every story
    value *= scale
    if value == 0:
        return None
    return value, is_pct


def _near_forms(value: float, is_pct: bool) -> tuple[str, ...]:
    """The form another report gives one exact figure: "over 116,000" or "11.6万" for 116,887, cut to three
    significant digits where the token rounds it to 1.17e+05. Added beside the token, so one fact shares a
    figure however each outlet rounds it. Not for percentages: whole percents beside "66.5%" cost precision
    on the development set (half b) and gained nothing on half a."""
    if is_pct:
        return ()
    exp = math.floor(math.log10(value)) - 2
    if exp <= 0:
        return ()
    cut = math.floor(value / 10 ** exp + 1e-9) * 10 ** exp
    return (f"{cut:.3g}",) if abs(cut - value) > 1e-9 * value else ()


# Units that make a figure a fact ("200 Wh/kg", "200 Wattstunden pro Kilogramm", "200瓦时/公斤"
# are one), spelled in the four languages we crawl; the canonical unit follows the value.
_UNITS = (
    ("wh/kg", r"wh\s?/\s?kg|watt-?hours? per kilo(?:gram|gramme)s?|wattstunden pro kilogramm|瓦时/(?:公斤|千克)"),
    ("kwh", r"kwh|kilowatt-?hours?|kilowattstunden|kilowattheures?|千瓦时|度电"),
    ("gwh", r"gwh|gigawatt-?hours?|gigawattstunden|gigawattheures?|吉瓦时|吉瓦時|기가와트시|ギガワット時"),
    ("km", r"km|kilomet(?:er|re)(?:n|s)?|kilomètres?|公里|千米"),
    ("kw", r"kw|kilowatts?|千瓦"),
)
_UNIT_RE = re.compile(r"\s?(?:" + "|".join(f"(?P<u{i}>{pat})" for i, (_, pat) in enumerate(_UNITS))
                      + r")(?![A-Za-zÀ-ÿ])", re.IGNORECASE)


@lru_cache(maxsize=4096)
def _figure(whole: str, frac: str | None, unit: str | None, lang: str) -> tuple[str, tuple[str, ...]] | None:
    """``(token, near forms)`` of one matched figure, or None (see :func:`numbers`); pure, so cached."""
    parsed = _parse_value(whole, frac, unit, lang)
    if not parsed:
        return None
    return ("p:" if parsed[1] else "") + f"{parsed[0]:.3g}", _near_forms(*parsed)


def numbers(text: str, lang: str = "") -> set[str]:
    """Normalised figures; a figure followed by a known unit also as ``u:<value><unit>``.

    A figure with its unit is specific evidence even when round ("200 Wh/kg" and "200 Wattstunden
    pro Kilogramm" are one fact; a bare "200" is not).
    """
    out: set[str] = set()
    if not text.isascii() and _COMPOUND_RE.search(text):  # (its big units are Hangul or Chinese)
        text = _COMPOUND_RE.sub(_compound, text)
    for m in _NUM_RE.finditer(text):
        whole, frac, unit = m.groups()
        if not unit and _CLOCK_RE.match(text, m.end()):
            continue  # a time of day
        if not unit and frac is None and len(whole) == 4 and whole[:2] in ("19", "20") and \
                _COUNT_RE.match(text, m.end()):
            whole = f"{whole[0]},{whole[1:]}"  # "2000명", "2000 employees": a count of people, not a year
        fig = _figure(whole, frac, unit, lang)
        if fig:
            v, near = fig
            out.add(v)
            out.update(near)
            if not v.startswith("p:") and not unit:
                u = _UNIT_RE.match(text, m.end())
                if u:
                    out.add(f"u:{v}{_UNITS[int(u.lastgroup[1:])][0]}")
    return out


@lru_cache(maxsize=16384)  # capitalised vocabulary repeats; bounded (~3 MB)
def _cap_entries(word: str, suffix: str, lang: str) -> tuple[tuple[str, float, bool], ...]:
    """What one capitalised word (and its model suffix) contributes to :func:`names`, in order:
    ``(name, weight, take the max with an earlier weight)``; pure, so cached (vocabularies repeat)."""
    if not word[0].isupper():  # (Latin Extended-A alternates upper and lower case: the class takes both)
        return ()
    low = ALIASES.get(word, word).lower()
    if not low.isascii() and low not in KNOWN_NAMES and low not in PLACES:
        # "Škoda" is the table's "skoda": letters beyond Latin-1 lose their marks; Latin-1's stay, they tell
        # words apart in German and French ("Über" is no "Uber") and the table spells them where it needs them
        bare = "".join(c for c in unicodedata.normalize("NFKD", low) if not unicodedata.combining(c)
                       ) if any(ord(c) > 0xFF for c in low) else low
        if bare in KNOWN_NAMES or bare in PLACES:
            low = bare
    if low not in KNOWN_NAMES and word[-1] == "s" and len(word) > 3:
        # a known name's genitive or plural ("BYDs Absatz", "Teslas Marktanteil", "two Teslas", "VWs") is that
        # name: read whole it was another name (or a weak word) and the page lost its maker
        stem = ALIASES.get(word[:-1], word[:-1]).lower()
        if stem in KNOWN_NAMES:
            low = stem
    if low in _NOT_NAMES or len(word) < 2 or _ROMAN_RE.fullmatch(word):
        # (a Roman numeral alone, "봉고III 2814대", names no one: only a name's suffix, "MOVES III", reads it)
        return ()
    if low in PLACES:
        return ((low, 0.5, False),)
    strong = (low in KNOWN_NAMES or word.isupper() or any(c.isupper() for c in word[1:])
              or any(c.isdigit() for c in word))
    if not strong and not word[0].isascii():
        # German nouns ("Übernahme", "Änderung") would become weak names too, which cost near misses on half
        # a: a capital outside A-Z starts a name only when the name is known or spelled like an acronym/code
        return ()
    out = [(low, 1.0 if strong else (0.3 if lang == "de" else 0.6), True)]
    if suffix:
        # a plain word before a bare number names no model ("Kills 22", "Over 20" in a title-case headline): as
        # weak as the word; a name's ("Seal 06", "Polestar 2") or a code suffix ("Model Y") stays strong ("Model 3"
        # made strong because the table knows "모델3" cost 2 right pairs on b and added 2 wrong ones on a without
        # dates: y17models)
        out.append((f"{low} {suffix.lower()}", 1.0 if strong or not suffix.isdigit() else out[0][1], False))
        # "Autohersteller GAC" ("German VW": Volkswagen); a Roman numeral ("MOVES III", "Roadster II") is no
        # acronym: alone it names nothing, and every page of the compound would share a second name
        # ("EV" of "Kona EV", "Nexon EV" is no maker's acronym: a word of _NOT_NAMES names no one as a suffix either)
        if suffix.isupper() and suffix.isalpha() and len(suffix) >= 2 and not _ROMAN_RE.fullmatch(suffix) \
                and ALIASES.get(suffix, suffix).lower() not in _NOT_NAMES:
            out.append((ALIASES.get(suffix, suffix).lower(), 1.0, False))
    if "-" in word:  # German compounds: "CLTC-Zyklus", "LFP-Zellen" name CLTC and LFP, "VW-Werk" and
        # "Tesla-Konkurrent" name Volkswagen and Tesla (the part through the alias table, as a word alone would be)
        for part in word.split("-"):
            name = ALIASES.get(part, part).lower()
            if len(part) >= 2 and (part.isupper() and part.isalpha() or name in KNOWN_NAMES) and name not in _NOT_NAMES:
                out.append((name, 1.0, True))
    return tuple(out)


def names(text: str, lang: str = "") -> dict[str, float]:
    """Latin-script names and model codes with a specificity weight; CJK aliases mapped."""
    out: dict[str, float] = {}
    for code in codes(text):
        out[code.lower().replace("-", "").replace(".", "")] = 1.0
    for word, suffix in _CAP_RE.findall(text):
        for key, weight, take_max in _cap_entries(word, suffix, lang):
            out[key] = max(out.get(key, 0.0), weight) if take_max else weight
    firsts = set((_ASCII_WORD_RE if text.isascii() else _WORD_RE).findall(text)).intersection(_PHRASES_BY_WORD)
    cands = {k for w in firsts for k in _PHRASES_BY_WORD[w]}
    present = tuple(k for k in _PHRASES if k in cands and k in text) if cands else ()
    for m in (_phrase_re(present).finditer(text) if present else ()):
        name = ALIASES[m.group(0)]
        out[name] = 0.5 if name in PLACES else 1.0
    # (every alias of that pattern holds a non-ASCII character: an ASCII text cannot match it)
    for form, end in (alias_matches(text) if not text.isascii() else ()):
        name = ALIASES[form]
        out[name] = 0.5 if name in PLACES else 1.0
        code = re.match(r"\s?(\d{1,3})(?![\d月年日号명人名位台辆輛대일월년원개%])", text[end:])
        if code:  # 海豹06 -> "seal 06"
            out[f"{name} {code.group(1)}"] = 1.0
    return out


def keywords(text: str) -> set[str]:
    """Content words of a headline/lead (casefolded); CJK runs as character bigrams."""
    t = unicodedata.normalize("NFKC", text).casefold()
    if t.isascii():  # (no CJK run to cut out or to read bigrams from)
        return {w for w in _ASCII_WORD_RE.findall(t) if len(w) > 2 and w not in _STOP and not w.isdigit()}
    t = fold_chinese(t)
    word_re = _WORD_RE if _MARK_RE.search(t) else _ASCII_WORD_RE
    out = {w for w in word_re.findall(_CJK_RE.sub(" ", t)) if len(w) > 2 and w not in _STOP
           and not w.isdigit()}
    for run in _CJK_RE.findall(t):
        out.update(run[i : i + 2] for i in range(len(run) - 1))
    return out


def nfkc(text: str) -> str:
    """Unicode NFKC (ASCII text is already in that form)."""
    return text if text.isascii() else unicodedata.normalize("NFKC", text)


_LETTERS_RE = re.compile(r"[^\W\d_]+")


_SHOUT_RE = re.compile(r"[^\W\d_a-zß-ÿ]{4,}[\s:,.\-–]+[^\W\d_a-zß-ÿ]{4,}")
# the same in ASCII text, where the class is [A-Z]: a pattern that starts with a plain character class lets
# the engine skip to the next capital (~2x faster)
_SHOUT_ASCII_RE = re.compile(r"[A-Z][A-Z]{3,}[\s:,.\-–]+[A-Z]{4,}")


def deshout(text: str) -> str:
    """Lines written in capitals (an all-caps headline or lead), with their ordinary words lower-cased.

    In such a line every word looks like an acronym, so every word would become a strong name and a
    re-cased republication would share almost no names with its original. Words of up to three
    letters (``BYD``, ``NIO``, ``EU``), known makers, and codes with digits (``SU7``) keep their case.
    """
    # no two capitalised words of 4+ letters in a row: nothing to do
    if (_SHOUT_ASCII_RE if text.isascii() else _SHOUT_RE).search(text) is None:
        return text
    out = []
    for line in text.split("\n"):
        words = _LETTERS_RE.findall(line)
        cased = [w for w in words if len(w) > 3 and not w.isascii() or (len(w) > 3 and w.isalpha())]
        if len(cased) >= 2 and sum(w.isupper() for w in cased) >= 0.7 * len(cased):
            line = _LETTERS_RE.sub(lambda m: m.group(0) if len(m.group(0)) <= 3 or
                                   m.group(0).lower() in KNOWN_NAMES else m.group(0).lower(), line)
        out.append(line)
    return "\n".join(out)


def extract(title: str, lead: str, body: str, lang: str = "", body_chars: int = 1500,
            source: str = "") -> StoryFeatures:
    """Features of an article: numbers and names from title + lead + the top of the body.

    The outlet's own name (``source`` split on punctuation, e.g. ``autonews-daily``) is not a
    feature: it appears in every one of its articles' bylines and footers.
    """
    title, lead = deshout(title), deshout(lead)
    head = deshout(nfkc("\n".join((title, lead, body[:body_chars]))))
    own = {w for w in re.split(r"[\W_]+", source.lower()) if w} | {re.sub(r"[\W_]+", "", source.lower())}
    found = {k: v for k, v in names(head, lang).items() if k.replace(" ", "") not in own}
    return StoryFeatures(
        numbers=frozenset(numbers(head, lang)),
        names=found,
        keywords=frozenset(keywords(title + " " + lead)),
    )


def idf_weight(df: int, n_docs: int) -> float:
    """Down-weight names most documents share ("Tesla" in a Tesla-heavy feed); 1.0 while young."""
    if n_docs < 30 or df <= 1:
        return 1.0
    return max(0.15, min(1.0, math.log((n_docs + 1) / df) / math.log(20)))


# -- periods: the month, quarter and year a report is about ---------------------------------------------
# Monthly sales, quarterly results and annual figures of one maker read alike; the period they are about
# tells them apart in any language, dated or not.
_MONTHS = {
    1: "january jan januar janvier enero gennaio janeiro", 2: "february feb februar février febrero febbraio",
    3: "march mar märz mars marzo março", 4: "april apr avril abril aprile",
    5: "may mai mayo maggio maio", 6: "june jun juni juin junio giugno junho",
    7: "july jul juli juillet julio luglio julho", 8: "august aug août agosto",
    9: "september sep sept septembre septiembre settembre setembro",
    10: "october oct oktober octobre octubre ottobre outubro", 11: "november nov novembre noviembre novembro",
    12: "december dec dezember décembre diciembre dicembre dezembro",
}
_MONTH_OF = {w: m for m, ws in _MONTHS.items() for w in ws.split()}
_MONTH_RE = "|".join(sorted(_MONTH_OF, key=len, reverse=True))
_CN_NUM = {"一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4}
_ORD = {"first": 1, "second": 2, "third": 3, "fourth": 4, "ersten": 1, "zweiten": 2, "dritten": 3,
        "vierten": 4, "premier": 1, "deuxième": 2, "troisième": 3, "quatrième": 4}
_PERIOD_RES = (
    # "November 2023", "Nov. 2023", "im Oktober 2024"
    # (found by its year first: see periods())
    ("ym", re.compile(rf"(?<!\w)({_MONTH_RE})\.?\s+(?:of\s+)?$", re.IGNORECASE)),
    # "2023年11月", "2023-11" style in CJK text
    ("ym_cjk", re.compile(r"((?:19|20)\d\d)\s*年\s*(\d{1,2})\s*月")),
    # "Q3 2024", "3Q24", "Q3/2024", "2024 Q3", "third quarter of 2024", "3. Quartal 2024", "2024年第三季度"
    # (the look-behinds of these two after their first characters, one character wider: see _NUM_RE)
    ("q", re.compile(r"Q(?<![\w]Q)([1-4])\s*[/ ]?\s*((?:19|20)?\d\d)(?!\d)", re.IGNORECASE)),
    ("q_rev", re.compile(r"((?:19|20)(?<!\d..)\d\d)\s*(?:年\s*)?(?:第)?\s*(?:Q([1-4])|([一二三四1-4])\s*季度)")),
    ("q_word", re.compile(r"(?<![\w])(first|second|third|fourth|ersten|zweiten|dritten|vierten|premier|"
                          r"deuxième|troisième|quatrième)\s+(?:quarter|quartal|trimestre)(?:s)?"
                          r"(?:\s+(?:of\s+|des\s+jahres\s+|de\s+)?((?:19|20)\d\d))?", re.IGNORECASE)),
    ("q_de", re.compile(r"(?<!\d)([1-4])\.\s*Quartal(?:\s+((?:19|20)\d\d))?", re.IGNORECASE)),
    ("q_cjk", re.compile(r"第?([一二三四])季度")),
    ("m_cjk", re.compile(r"(?<![\d年])(\d{1,2})\s*月份?(?!\d)")),
    # half years: "first half of 2024", "H1 2024", "1. Halbjahr 2024", "2024年上半年"
    ("h", re.compile(r"(?<![\w])(?:(first|second)\s+half|H([12])|([12])\.\s*Halbjahr|(erste|zweite)n?\s+Halbjahr)"
                     r"(?:\s+(?:of\s+|des\s+jahres\s+)?((?:19|20)\d\d))?", re.IGNORECASE)),
    ("h_cjk", re.compile(r"(?:((?:19|20)\d\d)\s*年\s*)?([上下])半年")),
    ("q_cum_cjk", re.compile(r"(?:((?:19|20)\d\d)\s*年\s*)?前三季度")),
    # Korean: "2024년 11월", "11월 판매" (a month; "12월 3일" is a day, left to textdates), "3분기", "상반기";
    # Japanese quarters: "第3四半期", "2024年4～6月期" is left to the months
    ("ym_ko", re.compile(r"((?:19|20)\d\d)\s*년\s*(\d{1,2})\s*월(?!\s*\d)")),
    ("m_ko", re.compile(r"(?<![\d년])(?<!년\s)(\d{1,2})\s*월(?!\s*\d)")),
    ("q_ko", re.compile(r"(?:((?:19|20)\d\d)\s*년\s*)?(?<!\d)([1-4])\s*분기")),
    ("h_ko", re.compile(r"(?:((?:19|20)\d\d)\s*년\s*)?([상하])반기")),
    ("q_ja", re.compile(r"(?:((?:19|20)\d\d)\s*年\s*)?(?:度\s*)?第?\s*([1-4一二三四])\s*四半期")),
)
_HALF = {"first": 1, "second": 2, "erste": 1, "zweite": 2, "上": 1, "下": 2, "1": 1, "2": 2, "상": 1, "하": 2}
_ANY_YEAR_RE = re.compile(r"(?:19|20)\d\d")
# (?<!\d)(?:19|20)\d\d(?!\d), the look-behind after the century (see _NUM_RE)
_YEAR4_RE = re.compile(r"(?:19|20)(?<!\d..)\d\d(?!\d)")
# cheap tests that let a pattern be skipped (each regex costs a pass over the text)
def _q_digit(t: str) -> bool:
    """A "q" right before a quarter digit (both quarter patterns need one; a bare "q" is in most texts)."""
    return "q1" in t or "q2" in t or "q3" in t or "q4" in t


_PERIOD_HINTS = {
    "ym": lambda t, y: y, "ym_cjk": lambda t, y: y and "年" in t, "q": lambda t, y: _q_digit(t),
    "q_rev": lambda t, y: y and ("季度" in t or _q_digit(t)), "q_word": lambda t, y: "quart" in t or "trimestre" in t,
    "q_de": lambda t, y: "quartal" in t, "q_cjk": lambda t, y: "季度" in t, "m_cjk": lambda t, y: "月" in t,
    "h": lambda t, y: "half" in t or "halbjahr" in t or "h1" in t or "h2" in t,
    "h_cjk": lambda t, y: "半年" in t, "q_cum_cjk": lambda t, y: "前三季度" in t,
    "ym_ko": lambda t, y: y and "월" in t, "m_ko": lambda t, y: "월" in t, "q_ko": lambda t, y: "분기" in t,
    "h_ko": lambda t, y: "반기" in t, "q_ja": lambda t, y: "四半期" in t,
}


def periods(text: str) -> set[str]:
    """Report periods named in ``text``: ``ym:2023-11`` (a month of a year), ``q:2024-3`` (a quarter),
    ``q:?-3`` (a quarter, year not said), ``q:2024-h1`` (a half year), ``m:11`` (a month, year not
    said; only as the month of a figure in Chinese, "11月份"). Day dates are left out: a follow-up a
    day later names other days."""
    out: set[str] = set()
    low = text.casefold()
    has_year = _ANY_YEAR_RE.search(text) is not None
    for kind, rx in _PERIOD_RES:
        if not _PERIOD_HINTS[kind](low, has_year):
            continue
        if kind == "ym":  # a month name right before a year: look back from each year, not at every position
            for y in _YEAR4_RE.finditer(text):
                m = rx.search(text, max(0, y.start() - 16), y.start())
                if m:
                    out.add(f"ym:{y.group(0)}-{_MONTH_OF[m.group(1).lower()]:02d}")
            continue
        for m in rx.finditer(text):
            g = m.groups()
            if kind == "ym_cjk":
                if 1 <= int(g[1]) <= 12:
                    out.add(f"ym:{g[0]}-{int(g[1]):02d}")
            elif kind == "q":
                y = g[1] if len(g[1]) == 4 else "20" + g[1]
                out.add(f"q:{y}-{g[0]}")
            elif kind == "q_rev":
                out.add(f"q:{g[0]}-{_CN_NUM[g[1] or g[2]]}")
            elif kind == "q_word":
                out.add(f"q:{g[1] or '?'}-{_ORD[g[0].lower()]}")
            elif kind == "q_de":
                out.add(f"q:{g[1] or '?'}-{g[0]}")
            elif kind == "q_cjk":
                out.add(f"q:?-{_CN_NUM[g[0]]}")
            elif kind == "m_cjk" and 1 <= int(g[0]) <= 12:
                out.add(f"m:{int(g[0])}")
            elif kind == "h":
                half = _HALF[(g[0] or g[1] or g[2] or g[3]).lower()]
                out.add(f"q:{g[4] or '?'}-h{half}")
            elif kind == "h_cjk":
                out.add(f"q:{g[0] or '?'}-h{_HALF[g[1]]}")
            elif kind == "q_cum_cjk":
                out.add(f"q:{g[0] or '?'}-3")
            elif kind == "ym_ko" and 1 <= int(g[1]) <= 12:
                out.add(f"ym:{g[0]}-{int(g[1]):02d}")
            elif kind == "m_ko" and 1 <= int(g[0]) <= 12:
                out.add(f"m:{int(g[0])}")
            elif kind in ("q_ko", "q_ja"):
                out.add(f"q:{g[0] or '?'}-{_CN_NUM[g[1]]}")
            elif kind == "h_ko":
                out.add(f"q:{g[0] or '?'}-h{_HALF[g[1]]}")
    # a quarter whose year is said elsewhere is the same quarter
    dated_q = {x.split("-")[1] for x in out if x.startswith("q:") and "?" not in x}
    return {x for x in out if not (x.startswith("q:?-") and x.split("-")[1] in dated_q)}


@lru_cache(maxsize=65536)
def _period_parts(s: frozenset[str]) -> tuple[frozenset[object], ...] | None:
    """What :func:`periods_conflict` compares of one set, read once per set: ``(months, their month numbers,
    those of year-less months, quarters, their quarter parts, those of year-less quarters)``; None when an
    entry does not read as a month or quarter (the caller falls back to :func:`periods_conflict`)."""
    months = frozenset(x for x in s if x.startswith(("ym:", "m:")))
    quarters = frozenset(x for x in s if x.startswith("q:"))
    try:
        m_all, m_free, q_all, q_free = set(), set(), set(), set()
        for x in months:
            kind, v = x.split(":", 1)
            month = int(v.split("-")[-1])
            m_all.add(month)
            if kind == "m":
                m_free.add(month)
        for x in quarters:
            year, part = x.split(":", 1)[1].split("-")
            q_all.add(part)
            if year == "?":
                q_free.add(part)
    except ValueError:
        return None
    return months, frozenset(m_all), frozenset(m_free), quarters, frozenset(q_all), frozenset(q_free)


@lru_cache(maxsize=65536)  # articles of one week name the same few periods: pairs of sets repeat
def periods_conflict_cached(a: frozenset[str], b: frozenset[str]) -> bool:
    """:func:`periods_conflict` of two frozensets, cached, from each set's :func:`_period_parts`: a match
    is an equal entry, or one month (quarter) number where either side names no year."""
    pa, pb = _period_parts(a), _period_parts(b)
    if pa is None or pb is None:
        return periods_conflict(set(a), set(b))
    for i in (0, 3):  # months, then quarters
        sa, all_a, free_a, sb, all_b, free_b = pa[i], pa[i + 1], pa[i + 2], pb[i], pb[i + 1], pb[i + 2]
        if sa and sb and sa.isdisjoint(sb) and free_a.isdisjoint(all_b) and all_a.isdisjoint(free_b):
            return True
    return False


def periods_conflict(a: set[str], b: set[str]) -> bool:
    """Both name the period they report on, and no period of one matches one of the other.

    Months are compared as months (a year-less Chinese "11月" matches ``ym:2023-11``), quarters as
    quarters; a month never conflicts with a quarter (November lies in Q4, and reports mix both).
    """
    def months(s: set[str]) -> set[str]:
        return {x for x in s if x.startswith(("ym:", "m:"))}

    def quarters(s: set[str]) -> set[str]:
        return {x for x in s if x.startswith("q:")}

    def match(x: str, y: str) -> bool:
        if x == y:
            return True
        kx, vx = x.split(":", 1)
        ky, vy = y.split(":", 1)
        if kx == "q" and ky == "q":
            (yx, qx), (yy, qy) = vx.split("-"), vy.split("-")
            return qx == qy and "?" in (yx, yy)
        mx = int(vx.split("-")[-1])
        my = int(vy.split("-")[-1])
        return mx == my and "m" in (kx, ky)

    for sel in (months, quarters):
        sa, sb = sel(a), sel(b)
        if sa and sb and not any(match(x, y) for x in sa for y in sb):
            return True
    return False


# -- concepts: the kind of news ---------------------------------------------------------------------------

# forms in a script written without spaces between words (Chinese, Japanese kana, Thai, Lao, Myanmar, Khmer)
# or whose words take particles, clitics and compounds without a space (Korean; Arabic's al-, wa-, bi-): found
# inside longer runs, not as whole words
_UNSPACED_RE = re.compile(r"[\u0600-\u06ff\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u9fff"
                          r"\uac00-\ud7af\uf900-\ufaff]")
# a word of the kinds' reader: a letter, then letters, marks, digits, apostrophes and hyphens ("anti-subsidy",
# "d'affaires"); `regex` in a text with marks (see _WORD_RE)
_CONCEPT_WORD_RE = re.compile(r"[^\W\d_][\w'-]*")
_CONCEPT_WORD_RX = regex.compile(r"[^\W\d_][\w'-]*")


def form_key(form: str) -> str:
    """A ``names.json`` form of a kind or a stage as the readers compare it with a text: NFKC, casefolded."""
    return unicodedata.normalize("NFKC", form).casefold()


def reader_text(text: str) -> str:
    """``text`` as the kinds' and stages' readers see it: NFKC (decomposed accents composed, full-width
    letters plain), casefolded, without the pinyin glosses some mirror sites put after each Chinese
    character ("預(yù)期": see :func:`.text.fold_chinese`)."""
    if text.isascii():
        return text.casefold()
    t = unicodedata.normalize("NFKC", text).casefold()
    return _PINYIN_GLOSS.sub("", t) if "(" in t else t


def has_marks(t: str) -> bool:
    """``t`` holds a combining mark (Thai, Devanagari...): its words need `regex`'s \\w (see _WORD_RE)."""
    return not t.isascii() and _MARK_RE.search(t) is not None


# simplified Chinese character -> its traditional spellings (OpenCC's table, inverted)
_S2T: dict[str, list[str]] = {}
for _trad, _simp in T2S.items():
    _S2T.setdefault(chr(_simp), []).append(chr(_trad))


def spellings(form: str, limit: int = 256) -> list[str]:
    """``form`` and, for each simplified Chinese character in it, its traditional spellings: "销售" is also
    "銷售", so a form written in simplified Chinese only is found in a Hong Kong or Taiwan report. A character
    already traditional or Japanese keeps its spelling (folding "進出" to simplified would read "进出", "in
    and out", as market entry). Over ``limit`` spellings: the form alone."""
    out = [""]
    for c in form:
        out = [o + v for o in out for v in (c, *_S2T.get(c, ()))]
        if len(out) > limit:
            return [form]
    return out


@dataclass
class _Forms:
    """One language's forms of the kinds (``names.json`` ``concepts``), each casefolded -> its kind."""

    words: dict[str, str] = field(default_factory=dict)  # read off the words of the text
    prefixes: dict[str, str] = field(default_factory=dict)  # "rückruf*": a word starting so
    phrases: dict[str, str] = field(default_factory=dict)  # "job cuts", "plant closure*": found as written
    unspaced: dict[str, str] = field(default_factory=dict)  # "召回", "召囘", "ไฟไหม้": found inside runs
    unspaced_re: re.Pattern[str] | None = None
    starts: dict[str, tuple[int, ...]] = field(default_factory=dict)  # prefix's first 3 letters -> its lengths


def _concept_index() -> dict[str, _Forms]:
    """Per language (``*`` for any): its forms from names.json, each put where the reader can find it: a
    word the word reader reads whole (a letter, then letters, marks, digits, ``'`` and ``-``) among the
    words; a prefix of 3+ letters among the prefixes; a form in an unspaced script among the unspaced; any
    other form (spaces, a leading digit, a prefix under 3 letters) as a phrase. So every form can match
    (tested). Word lookups in dicts, not one regex per concept: this runs for every article."""
    out: dict[str, _Forms] = {}
    for concept, per_lang in _TABLE["concepts"].items():
        if concept.startswith("_"):  # (the table's notes)
            continue
        for lang, forms in per_lang.items():
            ix = out.setdefault(lang, _Forms())
            for form in forms:
                f = form_key(form)
                stem, open_end = (f[:-1], True) if f.endswith("*") else (f, False)
                if _UNSPACED_RE.search(stem):
                    ix.unspaced.update((spelling, concept) for spelling in spellings(stem))
                elif _CONCEPT_WORD_RX.fullmatch(stem) and (not open_end or len(stem) >= 3):
                    (ix.prefixes if open_end else ix.words)[stem] = concept
                else:  # found as written, within words too: a starred phrase's stem is the same search
                    ix.phrases[stem] = concept
    for ix in out.values():
        if ix.unspaced:
            ix.unspaced_re = re.compile("|".join(re.escape(f) for f in sorted(ix.unspaced, key=len, reverse=True)))
        # the only prefix lengths a word starting with those three letters can have, longest first
        for p in ix.prefixes:
            ix.starts[p[:3]] = tuple(sorted({len(q) for q in ix.prefixes if q[:3] == p[:3]}, reverse=True))
    return out


_CONCEPTS = _concept_index()


def concepts(text: str, lang: str = "") -> set[str]:
    """The kinds of news ``text`` speaks of (``recall``, ``sales``, ``results``, ``tariffs``...), in
    any language the table covers: language-independent evidence of *what happened* that tells a
    recall from a sales report about the same maker in the same week."""
    t = reader_text(text)
    # (one pass of a character class tells whether a form in an unspaced script can be there at all: most
    # texts outside ASCII are in Latin script, with a curly quote or an accent)
    unspaced = not t.isascii() and _UNSPACED_RE.search(t) is not None
    # a Latin word inside a Chinese or Japanese run ("特斯拉ceo", "小米ota升级") has no space around it: the
    # words are read with the unspaced scripts blanked (their forms are sought in the runs themselves)
    words = (_CONCEPT_WORD_RX if has_marks(t) else _CONCEPT_WORD_RE).findall(
        _UNSPACED_RE.sub(" ", t) if unspaced else t)
    found: set[str] = set()
    for key in ("*", lang) if lang else tuple(_CONCEPTS):
        ix = _CONCEPTS.get(key)
        if ix is None:
            continue
        exact, prefixes, starts = ix.words, ix.prefixes, ix.starts
        for w in words:
            c = exact.get(w)
            if c is None and w[:3] in starts:
                for n in starts[w[:3]]:  # the longest prefix first
                    if n <= len(w):
                        c = prefixes.get(w[:n])
                        if c is not None:
                            break
            if c is not None:
                found.add(c)
        for ph, c in ix.phrases.items():  # (a starred phrase's stem is among them: found so, it may go on)
            if c not in found and ph in t:
                found.add(c)
        if ix.unspaced_re is not None and unspaced:
            found.update(ix.unspaced[m.group(0)] for m in ix.unspaced_re.finditer(t))
    return found
