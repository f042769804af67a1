"""The article's own features, scanned faster: each shortcut against the plain form it replaces.

The dedup step's output must not change, so every faster scan (model codes found from their digits,
capitals and quarters matched by patterns that start with a character class, ASCII texts spared the
passes that need a character outside ASCII, the kinds' prefix lengths, the term hash cache) is compared
with its reference on the synthetic corpus, edge cases and random strings.
"""

from __future__ import annotations

import json
import random
import re
import unicodedata
from collections import Counter
from pathlib import Path

import xxhash

from aggregator.dedup import features as F
from aggregator.dedup import lexical as L
from aggregator.dedup import story as S
from aggregator.dedup import text as T

ROWS = [json.loads(line) for line in
        (Path(__file__).parent / "data" / "dedup_corpus.jsonl").read_text(encoding="utf-8").splitlines()]
EDGE = [
    "", "G6", "ID.4 ID-4 ID.4. x-1 -A1 A1- a.b1 AB.CD1 ABCDE1 A12345 A1B2 Q3/2024 3Q24 q4 2024Q3 2024 Q3",
    "THE BATTERY PLANT OPENS: CATL SAYS IT WILL BUILD\nBYD NIO XPENG G6 SU7\nFULL-YEAR – RESULTS",
    "ＢＹＤ ＳＥＡＬ ０６ 比亚迪 海豹06 2024年第三季度 20243季度 2024 Q3 Ｑ３",
    "Rückruf recalls Verkaufszahlen ventes tarifs Strafzölle Zölle rappel rappels", "Île-de-France ÉTATS-UNIS",
    "Subscribe to our newsletter\n© 2024 tous droits réservés\nà lire aussi\n版权所有 转载请注明",
]
TEXTS = EDGE + [r["title"] for r in ROWS] + [r["body"] for r in ROWS]
TEXTS += [F.nfkc(t) for t in TEXTS if not t.isascii()] + [t.upper() for t in TEXTS[:60]]


def _random_texts(n: int = 20000, seed: int = 3) -> list[str]:
    rng = random.Random(seed)
    alphabet = "aZbQ9-.1 x3D\n,é_ID.4年季度"
    return ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 24))) for _ in range(n)]


def test_codes_are_the_code_pattern_matches() -> None:
    found = 0
    for t in TEXTS + _random_texts():
        ref = [m.group(1) for m in F._CODE_RE.finditer(t)]
        assert F.codes(t) == ref, t[:80]
        found += len(ref)
    assert found > 1000


def test_fast_shout_and_quarter_patterns_match_the_plain_forms() -> None:
    shout = re.compile(r"[^\W\d_a-zß-ÿ]{4,}[\s:,.\-–]+[^\W\d_a-zß-ÿ]{4,}")
    quarter = re.compile(r"(?<![\w])Q([1-4])\s*[/ ]?\s*((?:19|20)?\d\d)(?!\d)", re.IGNORECASE)
    quarter_rev = re.compile(r"(?<!\d)((?:19|20)\d\d)\s*(?:年\s*)?(?:第)?\s*(?:Q([1-4])|([一二三四1-4])\s*季度)")
    rx = dict(F._PERIOD_RES)
    shouts = 0
    for t in TEXTS + _random_texts():
        if t.isascii():
            a, b = F._SHOUT_ASCII_RE.search(t), shout.search(t)
            assert (a and a.span()) == (b and b.span()), t[:80]
            shouts += a is not None
        for fast, ref in ((rx["q"], quarter), (rx["q_rev"], quarter_rev)):
            assert [(m.span(), m.groups()) for m in fast.finditer(t)] == \
                [(m.span(), m.groups()) for m in ref.finditer(t)], t[:80]
    assert shouts >= 10


def test_kind_prefixes_by_length_find_the_longest_form() -> None:
    def reference(text: str, lang: str) -> set[str]:  # the loop over every prefix length, longest first
        t = F.reader_text(text)
        found: set[str] = set()
        for key in ("*", lang) if lang else tuple(F._CONCEPTS):
            if key not in F._CONCEPTS:
                continue
            ix = F._CONCEPTS[key]
            starts = {p[:3] for p in ix.prefixes}
            # (`regex` on every text: `re` where no mark is, the same; unspaced scripts blanked for the words)
            for w in F._CONCEPT_WORD_RX.findall(F._UNSPACED_RE.sub(" ", t)):
                c = ix.words.get(w)
                if c is None and w[:3] in starts:
                    for n in range(len(w), 2, -1):
                        c = ix.prefixes.get(w[:n])
                        if c is not None:
                            break
                if c is not None:
                    found.add(c)
            found.update(c for ph, c in ix.phrases.items() if ph in t)
            if ix.unspaced_re is not None and not t.isascii():
                found.update(ix.unspaced[m.group(0)] for m in ix.unspaced_re.finditer(t))
        return found

    kinds = 0
    for t in TEXTS:
        for lang in ("", "en", "de", "fr"):
            assert F.concepts(t, lang) == reference(t, lang), t[:80]
        kinds += len(F.concepts(t))
    assert kinds > 100


def test_terms_equal_the_plain_reading() -> None:
    def reference(text: str) -> Counter[int]:
        t = text.lower() if text.isascii() else T.fold_chinese(unicodedata.normalize("NFKC", text).casefold())
        words = Counter(L._WORD_RE.findall(L._CJK_RE.sub(" ", t)))
        bigrams: Counter[str] = Counter()
        for run in L._CJK_RE.findall(t):
            bigrams.update(run[i:i + 2] for i in range(max(1, len(run) - 1)))
        for w in L._STOP.intersection(words):
            del words[w]
        h = xxhash.xxh32_intdigest
        out: Counter[int] = Counter({h(w.encode("utf-8")): n for w, n in words.items() if len(w) > 1})
        for w, n in bigrams.items():
            out[h(w.encode("utf-8"))] += n
        out.pop(0, None)
        return out

    for t in TEXTS:
        ref = reference(t)
        got = L.terms(t)
        assert got == ref and list(got) == list(ref), t[:80]  # the same counts, in the same order
        assert L.terms(t) == ref  # again, from the hash cache


def test_ascii_boilerplate_phrases_flag_the_same_units() -> None:
    flagged = 0
    for t in TEXTS:
        norm = [T.normalize(u) for u in T.units(t)]
        got = T.generic_boilerplate_units(norm)
        assert got == {i for i, u in enumerate(norm) if T.is_generic_boilerplate(u)}
        flagged += len(got)
    assert flagged >= 3


def test_model_codes_read_through_codes() -> None:
    for t in TEXTS[:200]:
        ref = set()
        for m in F._CODE_RE.finditer(t[:600]):
            code = m.group(1).lower().replace("-", "").replace(".", "")
            if "".join(c for c in code if c.isalpha()) not in S._NOT_MODEL:
                ref.add(code)
        assert S.model_codes(t[:600]) == ref


def test_keywords_of_ascii_text_skip_nothing() -> None:
    def reference(text: str) -> set[str]:
        t = T.fold_chinese(unicodedata.normalize("NFKC", text).casefold())
        out = {w for w in F._WORD_RE.findall(F._CJK_RE.sub(" ", t)) if len(w) > 2 and w not in F._STOP
               and not w.isdigit()}
        for run in F._CJK_RE.findall(t):
            out.update(run[i : i + 2] for i in range(len(run) - 1))
        return out

    for t in TEXTS:
        assert F.keywords(t) == reference(t), t[:80]
