"""Language codes: normalise declared ones, and identify the language when nothing is declared.

Identification is py3langid's naive Bayes model over byte n-grams (bundled with the package, ~100
languages, about a millisecond per page sample). A stop-word vote over the few languages EV news comes in
was what we had: it has no answer for Romanian, Hungarian, Turkish, Bosnian or Catalan and labelled them
Spanish or Portuguese (``benchmarks/bench_language.py`` measures both on real pages). CJK text is told
apart by script first: the model is weak on short Chinese (it answers Wu for a headline).
"""

from __future__ import annotations

import re
import threading
from typing import Any

#: the beginning of a page's text is enough evidence; classifying costs time linear in its length
SAMPLE_CHARS = 5000
#: below this (probability with py3langid's length-calibrated softmax) the guess is not used
MIN_CONFIDENCE = 0.5
_MIN_WORDS = 5
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_identifier: Any = None
_identifier_lock = threading.Lock()


def _model() -> Any:
    """py3langid's identifier with normalised probabilities, loaded once (~0.5 s) on first use."""
    global _identifier
    if _identifier is None:
        with _identifier_lock:
            if _identifier is None:
                from py3langid.langid import MODEL_FILE, LanguageIdentifier

                _identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    return _identifier


def normalize_lang(value: str | None) -> str | None:
    """'en-US' / 'de_DE' / 'ZH-hans' -> 'en' / 'de' / 'zh'; None for junk."""
    if not value or not isinstance(value, str):
        return None
    code = re.split(r"[-_]", value.strip().lower(), maxsplit=1)[0]
    return code if re.fullmatch(r"[a-z]{2}", code) else None


_NON_LATIN = re.compile(r"[\u0370-\u1fff\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af]")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_KANA = re.compile(r"[\u3040-\u30ff]")
_HANGUL = re.compile(r"[\uac00-\ud7af]")
_LETTER = re.compile(r"[^\W\d_]")


def detect_script(text: str) -> str | None:
    """The language of a text mostly written in a non-Latin script (Chinese, Japanese, Korean, Cyrillic,
    Greek, Arabic, ...), else None: cheap for Latin text, which is all the caller needs to overrule."""
    sample = text[:SAMPLE_CHARS]
    found = _NON_LATIN.findall(sample)
    letters = len(_LETTER.findall(sample))
    if not letters or len(found) / letters <= 0.3:
        return None
    return detect_language(sample)


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of the language ``text`` is written in; None when the evidence is thin.

    Chinese, Japanese and Korean by script (kana means Japanese, hangul Korean); everything else by
    py3langid, trusted when it is at least :data:`MIN_CONFIDENCE` sure and the text has a few words.
    """
    sample = text[:SAMPLE_CHARS]
    if not sample.strip():
        return None
    cjk, kana, hangul = len(_CJK.findall(sample)), len(_KANA.findall(sample)), len(_HANGUL.findall(sample))
    letters = len(_LETTER.findall(sample))
    if letters and (cjk + kana + hangul) / letters > 0.3:
        if kana > cjk * 0.1:
            return "ja"
        if hangul > cjk:
            return "ko"
        return "zh"
    if len(_WORD.findall(sample)) < _MIN_WORDS:
        return None
    lang, confidence = _model().classify(sample)
    return normalize_lang(lang) if confidence >= MIN_CONFIDENCE else None
