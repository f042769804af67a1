"""The story tier's lexical evidence (aggregator/dedup/lexical.py): TF-IDF cosine and its boost."""

from __future__ import annotations

import numpy as np

from aggregator.dedup.lexical import DF_SPACE, LexicalIndex, terms
from aggregator.dedup.store import MemoryStore
from aggregator.dedup.story import FEATURES

RECALL_A = ("Ford recalls Kuga plug-in hybrids over battery fire risk",
            "Ford is recalling Kuga plug-in hybrid SUVs because the high-voltage battery cells can overheat "
            "and catch fire while charging; owners are told not to charge until dealers replace the modules.")
RECALL_B = ("Kuga plug-in hybrid recall: Ford warns owners not to charge",
            "Owners of the Kuga plug-in hybrid should stop charging: Ford says overheating battery cells "
            "may catch fire, and dealers will replace the modules under the recall.")
OTHER = ("Volvo opens charging hubs along Swedish motorways",
         "Volvo Cars and a utility opened fast-charging hubs on motorways between Stockholm and Gothenburg, "
         "with canopies, lounges and chargers rated for trucks.")
FILLER = [("Tesla price cut in Europe", "Tesla lowers Model Y prices in Germany and France this week."),
          ("Nio delivers vans", "Nio delivered more vans in the quarter, the startup told investors."),
          ("BYD opens plant", "BYD opened a plant in Hungary that will build compact hatchbacks.")]


def _index() -> LexicalIndex:
    lx = LexicalIndex(MemoryStore(), weight=5.0)
    for n, (title, body) in enumerate([*FILLER, RECALL_A, RECALL_B, OTHER], start=1):
        lx.index(n, f"{title}\n{body}")
    return lx


def test_terms_drop_stop_words_and_numbers_and_split_chinese_into_bigrams() -> None:
    assert terms("The recall and the 2024 fire") == terms("recall fire")
    assert len(terms("比亚迪召回")) == 4  # 比亚 亚迪 迪召 召回


def test_terms_keep_the_vowel_signs_of_a_word() -> None:
    # Devanagari and Thai vowel signs are combining marks: a word is no longer cut at each of them into
    # single letters (which the length bar dropped, leaving a Hindi page almost no terms)
    assert len(terms("आईपीओ लिस्टिंग के बाद शेयर")) == 5
    assert terms("लिस्टिंग") != terms("लस्टग")


def test_cosine_ranks_the_same_event_above_another_and_a_rerun_changes_nothing() -> None:
    lx = _index()
    same, other = lx.cosine(4, [5, 6]).tolist()
    assert same > 0.3 > other
    assert abs(lx.cosine(5, [4])[0] - same) < 1e-9  # symmetric
    n_before = lx.store.count_get(DF_SPACE, [1 << 20])[0]
    vec_before = lx.store.vec_get("lx", np.array([4]), 80).copy()
    lx.index(4, f"{RECALL_A[0]}\n{RECALL_A[1]}")  # the same article again: counted once, vector kept
    assert lx.store.count_get(DF_SPACE, [1 << 20])[0] == n_before == 6
    assert (lx.store.vec_get("lx", np.array([4]), 80) == vec_before).all()
    lx.forget(5)
    assert lx.cosine(4, [5])[0] == 0.0


def test_boost_raises_only_same_language_pairs_the_model_did_not_rule_out() -> None:
    lx = _index()
    p = np.array([0.5, 0.0, 0.5, 0.5, 0.5])
    x = np.zeros((5, len(FEATURES)))
    x[[0, 1, 3, 4], FEATURES.index("same_language")] = 1
    x[4, FEATURES.index("names_disjoint")] = 1  # two makers: a sign of another event
    out = lx.boost(p, x, 4, [5, 5, 5, 6, 5])
    assert out[0] > 0.9  # same event, same language: 0.5 -> sigmoid(5 * cos)
    assert out[1] == 0.0  # ruled out by the link model: stays out
    assert out[2] == 0.5  # another language: no lexical evidence
    assert 0.5 <= out[3] < out[0]  # same language, another event: little
    assert out[4] == 0.5  # a sign of another event: the words shared do not count
    assert (LexicalIndex(lx.store, weight=0.0).boost(p, x, 4, [5, 5, 5, 6, 5]) == p).all()
