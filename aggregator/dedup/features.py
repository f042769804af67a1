"""Language-light event features for the story tier: numbers, names, title keywords.

Two outlets reporting one event in their own words share few body shingles, and an English
and a Chinese report share none. What they do share is *facts*: amounts ("300,000",
"30万" and "300.000" are one value), percentages, and Latin-script names and model codes
("BYD", "Seal 06", "EX30", "CATL"). Numbers are parsed with locale heuristics (``25.000`` and
``25 000`` are thousands, ``1,2 Milliarden`` is 1.2e9, ``30.5万`` is 305,000) and rounded to
three significant digits; years, day numbers and small counts are dropped because every story
of a week shares them. A small alias table maps the Chinese names of the big EV makers to
their Latin names, so "比亚迪" meets "BYD".
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

import xxhash

_SCALE = {
    "thousand": 1e3, "tausend": 1e3, "k": 1e3, "mille": 1e3,
    "million": 1e6, "millions": 1e6, "millionen": 1e6, "mio": 1e6, "mn": 1e6, "m": 1e6,
    "billion": 1e9, "billions": 1e9, "milliarde": 1e9, "milliarden": 1e9, "mrd": 1e9,
    "milliard": 1e9, "milliards": 1e9, "bn": 1e9, "md": 1e9,
    "万": 1e4, "亿": 1e8, "千": 1e3, "萬": 1e4, "億": 1e8,
}
_PERCENT = {"%", "percent", "per cent", "prozent", "pour cent", "pourcent", "％"}

_NUM_RE = re.compile(
    r"(?<![A-Za-z0-9])(?<![0-9][.,])(\d{1,3}(?:(?:[.,]|\s|\u202f|\u00a0)\d{3})+|\d+)(?:[.,](\d+))?"
    r"(?:\s?(%|％|per cent|percent|prozent|pour cent|"
    r"thousand|tausend|millions?|millionen|mio\.?|mn|milliarden?|milliards?|mrd\.?|md|billions?|bn|k|m|"
    r"万|亿|千|萬|億)(?![A-Za-zÀ-ÿ]))?(?![0-9]|[.,][0-9])",
    re.IGNORECASE,
)

ALIASES = {
    "比亚迪": "byd", "特斯拉": "tesla", "宁德时代": "catl", "蔚来": "nio", "小鹏": "xpeng",
    "理想汽车": "li auto", "大众": "volkswagen", "宝马": "bmw", "奔驰": "mercedes",
    "吉利": "geely", "极氪": "zeekr", "小米": "xiaomi", "华为": "huawei", "长城汽车": "great wall",
    "上汽": "saic", "广汽": "gac", "零跑": "leapmotor", "欧盟": "eu", "丰田": "toyota",
    "本田": "honda", "日产": "nissan", "现代": "hyundai", "起亚": "kia", "福特": "ford",
    "通用汽车": "gm", "沃尔沃": "volvo", "雷诺": "renault", "斯特兰蒂斯": "stellantis",
    "宝腾": "proton", "奇瑞": "chery", "长安": "changan", "东风": "dongfeng", "岚图": "voyah",
    "海豹": "seal", "海豚": "dolphin", "海鸥": "seagull", "汉": "han", "唐": "tang",
    "匈牙利": "hungary", "德国": "germany", "法国": "france", "墨西哥": "mexico", "泰国": "thailand",
    "巴西": "brazil", "土耳其": "turkey", "印度尼西亚": "indonesia", "西班牙": "spain",
    "VW": "volkswagen", "Mercedes-Benz": "mercedes", "GM": "gm",
    "Ungarn": "hungary", "Hongrie": "hungary", "Deutschland": "germany", "Allemagne": "germany",
    "Frankreich": "france", "Mexiko": "mexico", "Mexique": "mexico", "Thaïlande": "thailand",
    "Brasilien": "brazil", "Brésil": "brazil", "Türkei": "turkey", "Turquie": "turkey",
    "Spanien": "spain", "Espagne": "spain", "Thailand": "thailand", "Indonesien": "indonesia",
    "Indonésie": "indonesia", "EU": "eu", "UE": "eu",
}
# Makers and places the EV beat names constantly; spelled like ordinary capitalised words, but
# as specific as an acronym.
KNOWN_NAMES = set(ALIASES.values()) | {
    "tesla", "nio", "xpeng", "volkswagen", "geely", "volvo", "xiaomi", "hyundai", "polestar", "rivian",
    "lucid", "zeekr", "leapmotor", "renault", "stellantis", "toyota", "honda", "nissan", "kia", "ford",
    "mercedes", "audi", "porsche", "skoda", "seat", "cupra", "lotus", "smart", "ionity", "northvolt",
}
# Places: shared by every story filed from there, so never the specific name that links two.
PLACES = {"hungary", "germany", "france", "mexico", "thailand", "brazil", "turkey", "indonesia", "spain",
          "eu", "china", "europe", "us", "u.s", "usa", "india", "japan", "korea", "uk", "britain",
          "california", "shanghai", "beijing", "shenzhen", "berlin", "paris", "norway", "italy"}

_CJK_ALIAS_RE = re.compile("|".join(sorted((k for k in ALIASES if not k.isascii()
                                            and not k[0].isupper()), key=len, reverse=True)))

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
_CAP_RE = re.compile(r"(?<![A-Za-z0-9])([A-Z][A-Za-z0-9À-ÿ\-]*[A-Za-z0-9À-ÿ]|[A-Z])"
                     r"(?:\s?(\d{1,3}[A-Za-z]?|[A-Z]{1,3}\d*|[IVX]{1,3}))?(?![A-Za-z0-9]|[\s\u202f.,]\d)")
_CODE_RE = re.compile(r"(?<![A-Za-z0-9])([A-Za-z]{1,4}[\-.]?\d{1,4}[A-Za-z]?)(?![A-Za-z0-9])")
_WORD_RE = re.compile(r"\w+")
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
    if x.startswith("p:"):
        return False
    if x.startswith("u:"):
        return True
    mant = x.split("e")[0].replace(".", "").lstrip("0").rstrip("0")
    return len(mant) >= 2


@lru_cache(maxsize=4096)  # figures are diverse: a small cache catches the recurring ones (~1 MB)
def _parse_number(whole: str, frac: str | None, unit: str | None, lang: str) -> str | None:
    unit_l = (unit or "").lower().rstrip(".")
    if unit_l in _SCALE and re.fullmatch(r"\d{1,3}[.,]\d{3}", whole) and frac is None:
        whole, frac = whole[:-4], whole[-3:]  # "3.299万", "1,250 Mrd.": a decimal before a scale word
    digits = re.sub(r"[.,\s\u202f\u00a0]", "", whole)
    if frac is not None and len(frac) == 3 and unit_l not in _SCALE:
        # "1,500" / "1.500": a thousands group, not a decimal
        digits += frac
        frac = None
    try:
        value = float(digits + ("." + frac if frac else ""))
    except ValueError:
        return None
    is_pct = unit_l in _PERCENT or unit in ("%", "％")
    scale = _SCALE.get(unit_l, 1.0) if not is_pct else 1.0
    if unit_l == "m" and lang not in ("en", ""):
        scale = 1.0  # "m" is metres outside English money talk
    if not is_pct and scale == 1.0 and frac is None:
        if value <= 31 or 1990 <= value <= 2040:
            return None  # day numbers, small counts and years: shared by every story
    value *= scale
    if value == 0:
        return None
    digits3 = f"{value:.3g}"
    return ("p:" if is_pct else "") + digits3


# Units that make a figure a fact ("200 Wh/kg", "200 Wattstunden pro Kilogramm", "200瓦时/公斤"
# are one), spelled in the four languages we crawl; the canonical unit follows the value.
_UNITS = (
    ("wh/kg", r"wh\s?/\s?kg|watt-?hours? per kilo(?:gram|gramme)s?|wattstunden pro kilogramm|瓦时/(?:公斤|千克)"),
    ("kwh", r"kwh|kilowatt-?hours?|kilowattstunden|kilowattheures?|千瓦时|度电"),
    ("km", r"km|kilomet(?:er|re)(?:n|s)?|kilomètres?|公里|千米"),
    ("kw", r"kw|kilowatts?|千瓦"),
)
_UNIT_RE = re.compile(r"\s?(?:" + "|".join(f"(?P<u{i}>{pat})" for i, (_, pat) in enumerate(_UNITS))
                      + r")(?![A-Za-zÀ-ÿ])", re.IGNORECASE)


def numbers(text: str, lang: str = "") -> set[str]:
    """Normalised figures; a figure followed by a known unit also as ``u:<value><unit>``.

    A figure with its unit is specific evidence even when round ("200 Wh/kg" and "200 Wattstunden
    pro Kilogramm" are one fact; a bare "200" is not).
    """
    out: set[str] = set()
    for m in _NUM_RE.finditer(text):
        v = _parse_number(m.group(1), m.group(2), m.group(3), lang)
        if v:
            out.add(v)
            if not v.startswith("p:") and not m.group(3):
                u = _UNIT_RE.match(text, m.end())
                if u:
                    out.add(f"u:{v}{_UNITS[int(u.lastgroup[1:])][0]}")
    return out


@lru_cache(maxsize=16384)  # capitalised vocabulary repeats; bounded (~3 MB)
def _cap_entries(word: str, suffix: str, lang: str) -> tuple[tuple[str, float, bool], ...]:
    """What one capitalised word (and its model suffix) contributes to :func:`names`, in order:
    ``(name, weight, take the max with an earlier weight)``; pure, so cached (vocabularies repeat)."""
    low = ALIASES.get(word, word).lower()
    if low in _NOT_NAMES or len(word) < 2:
        return ()
    if low in PLACES:
        return ((low, 0.5, False),)
    strong = (low in KNOWN_NAMES or word.isupper() or any(c.isupper() for c in word[1:])
              or any(c.isdigit() for c in word))
    out = [(low, 1.0 if strong else (0.3 if lang == "de" else 0.6), True)]
    if suffix:
        out.append((f"{low} {suffix.lower()}", 1.0, False))
        if suffix.isupper() and suffix.isalpha() and len(suffix) >= 2:  # "Autohersteller GAC"
            out.append((suffix.lower(), 1.0, False))
    if "-" in word:  # German compounds: "CLTC-Zyklus", "LFP-Zellen" name CLTC and LFP
        for part in word.split("-"):
            if len(part) >= 2 and part.isupper() and part.isalpha() and part.lower() not in _NOT_NAMES:
                out.append((part.lower(), 1.0, True))
    return tuple(out)


def names(text: str, lang: str = "") -> dict[str, float]:
    """Latin-script names and model codes with a specificity weight; CJK aliases mapped."""
    out: dict[str, float] = {}
    for m in _CODE_RE.finditer(text):
        out[m.group(1).lower().replace("-", "").replace(".", "")] = 1.0
    for word, suffix in _CAP_RE.findall(text):
        for key, weight, take_max in _cap_entries(word, suffix, lang):
            out[key] = max(out.get(key, 0.0), weight) if take_max else weight
    for m in _CJK_ALIAS_RE.finditer(text):
        name = ALIASES[m.group(0)]
        out[name] = 0.5 if name in PLACES else 1.0
        code = re.match(r"\s?(\d{1,3})(?![\d月年日号])", text[m.end() :])
        if code:  # 海豹06 -> "seal 06"
            out[f"{name} {code.group(1)}"] = 1.0
    return out


def keywords(text: str) -> set[str]:
    """Content words of a headline/lead (casefolded); CJK runs as character bigrams."""
    t = unicodedata.normalize("NFKC", text).casefold()
    out = {w for w in _WORD_RE.findall(_CJK_RE.sub(" ", t)) if len(w) > 2 and w not in _STOP
           and not w.isdigit()}
    for run in _CJK_RE.findall(t):
        out.update(run[i : i + 2] for i in range(len(run) - 1))
    return out


def nfkc(text: str) -> str:
    """Unicode NFKC (ASCII text is already in that form)."""
    return text if text.isascii() else unicodedata.normalize("NFKC", text)


_LETTERS_RE = re.compile(r"[^\W\d_]+")


def deshout(text: str) -> str:
    """Lines written in capitals (an all-caps headline or lead), with their ordinary words lower-cased.

    In such a line every word looks like an acronym, so every word would become a strong name and a
    re-cased republication would share almost no names with its original. Words of up to three
    letters (``BYD``, ``NIO``, ``EU``), known makers, and codes with digits (``SU7``) keep their case.
    """
    if not any(c.isupper() for c in text):
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
