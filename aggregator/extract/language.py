"""Language codes: normalise declared ones, and guess cheaply when nothing is declared.

A stop-word vote is enough to tell the handful of languages EV news comes in, costs microseconds
and needs no model download; script detection handles CJK, where stop-word voting cannot work.
"""

from __future__ import annotations

import re

_STOPWORDS = {
    "en": "the of and to in is that for on with as was by it at from are this be have has said will",
    "de": "der die und das ist nicht mit den ein eine auf für sich dem von des auch wird im bei zu",
    "fr": "le la les et des est une dans pour que sur pas par avec du au ce qui sont plus",
    "es": "el la los las y de que en un una es por con para del se al como más pero",
    "it": "il la di che e è per un una non sono con del della le gli anche nel",
    "nl": "de het een en van is dat op te in voor met zijn niet aan ook als bij",
    "pt": "o a os as de que e do da em um uma para com não por mais se",
    "no": "og i det som på er til en av for med har ikke den var",
    "sv": "och att det som en på är av för med till den har inte om",
}
_STOPSETS = {lang: set(words.split()) for lang, words in _STOPWORDS.items()}
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def normalize_lang(value: str | None) -> str | None:
    """'en-US' / 'de_DE' / 'ZH-hans' -> 'en' / 'de' / 'zh'; None for junk."""
    if not value or not isinstance(value, str):
        return None
    code = re.split(r"[-_]", value.strip().lower(), maxsplit=1)[0]
    return code if re.fullmatch(r"[a-z]{2}", code) else None


_NON_LATIN = re.compile(r"[\u0400-\u04ff\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af]")


def detect_script(text: str) -> str | None:
    """'zh' / 'ja' / 'ko' / 'ru' when the text is mostly in that script, else None (cheap)."""
    sample = text[:20000]
    if not _NON_LATIN.search(sample):
        return None
    found = detect_language(sample)
    return found if found in ("zh", "ja", "ko", "ru") else None


def detect_language(text: str) -> str | None:
    """Best-effort ISO 639-1 guess from text; None when the evidence is thin."""
    sample = text[:20000]
    if not sample.strip():
        return None
    cjk = len(re.findall(r"[\u4e00-\u9fff]", sample))
    kana = len(re.findall(r"[\u3040-\u30ff]", sample))
    hangul = len(re.findall(r"[\uac00-\ud7af]", sample))
    letters = len(re.findall(r"[^\W\d_]", sample))
    if letters and (cjk + kana + hangul) / letters > 0.3:
        if kana > cjk * 0.1:
            return "ja"
        if hangul > cjk:
            return "ko"
        return "zh"
    if letters and len(re.findall(r"[\u0400-\u04ff]", sample)) / letters > 0.3:
        return "ru"
    words = [w.lower() for w in _WORD.findall(sample)]
    if len(words) < 5:
        return None
    scores = {lang: sum(w in stops for w in words) for lang, stops in _STOPSETS.items()}
    lang, best = max(scores.items(), key=lambda kv: kv[1])
    return lang if best >= max(2, len(words) // 50) else None
