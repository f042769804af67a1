"""Language identification on real pages: :func:`aggregator.extract.language.detect_language` (py3langid)
vs the stop-word vote it replaced, same pages, same run.

    python -m benchmarks.bench_language [--texts /work/scratch/searchset/pages.jsonl ...]

The pages are the search set's (``benchmarks/devsets/searchset.jsonl``) and ``devsets/languageset.jsonl``
(Romanian, Hungarian, Turkish, Catalan, Croatian, Czech, Italian and Portuguese pages about EVs): facts
only, the texts stay outside the repository (``--texts``: JSON lines with ``url`` and ``text``). A page
counts as right when the detector names its labelled language; None (no guess) counts as wrong.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEVSETS = [ROOT / "benchmarks" / "devsets" / "searchset.jsonl", ROOT / "benchmarks" / "devsets" / "languageset.jsonl"]
TEXTS = [Path("/work/scratch/searchset/pages.jsonl"), Path("/work/scratch/searchset/langpages.jsonl")]

# The baseline: the stop-word vote that decided `language` before py3langid (script check for CJK and
# Cyrillic first, then the language whose stop words occur most often), reproduced as it was.
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


def stopword_vote(text: str) -> str | None:
    sample = text[:20000]
    if not sample.strip():
        return None
    cjk = len(re.findall(r"[\u4e00-\u9fff]", sample))
    kana = len(re.findall(r"[\u3040-\u30ff]", sample))
    hangul = len(re.findall(r"[\uac00-\ud7af]", sample))
    letters = len(re.findall(r"[^\W\d_]", sample))
    if letters and (cjk + kana + hangul) / letters > 0.3:
        return "ja" if kana > cjk * 0.1 else "ko" if hangul > cjk else "zh"
    if letters and len(re.findall(r"[\u0400-\u04ff]", sample)) / letters > 0.3:
        return "ru"
    words = [w.lower() for w in _WORD.findall(sample)]
    if len(words) < 5:
        return None
    scores = {lang: sum(w in stops for w in words) for lang, stops in _STOPSETS.items()}
    lang, best = max(scores.items(), key=lambda kv: kv[1])
    return lang if best >= max(2, len(words) // 50) else None


def load(devsets: list[Path], texts: list[Path]) -> list[dict]:
    by_url = {}
    for path in texts:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                by_url[row["url"]] = row
    pages = []
    for path in devsets:
        for line in path.read_text(encoding="utf-8").splitlines():
            fact = json.loads(line) if line.strip() else {}
            if fact.get("kind") == "page" and fact["url"] in by_url:
                row = by_url[fact["url"]]
                pages.append({"url": fact["url"], "language": fact["language"],
                              "text": f"{row.get('title') or fact.get('title') or ''}\n{row['text']}".strip()})
    return pages


def evaluate(pages: list[dict]) -> dict[str, dict]:
    from aggregator.extract.language import detect_language

    detect_language("warm the model up: load it once before timing anything")
    out = {}
    for name, fn in (("py3langid (detect_language)", detect_language), ("stop-word vote (before)", stopword_vote)):
        t0 = time.perf_counter()
        got = [fn(p["text"]) for p in pages]
        ms = (time.perf_counter() - t0) / len(pages) * 1e3
        wrong = Counter((p["language"], g) for p, g in zip(pages, got, strict=True) if g != p["language"])
        per_lang: dict[str, list[int]] = {}
        for p, g in zip(pages, got, strict=True):
            per_lang.setdefault(p["language"], [0, 0])
            per_lang[p["language"]][0] += g == p["language"]
            per_lang[p["language"]][1] += 1
        out[name] = {"right": sum(g == p["language"] for p, g in zip(pages, got, strict=True)), "pages": len(pages),
                     "ms_per_page": ms, "per_language": per_lang,
                     "confusions": {f"{a}->{b}": n for (a, b), n in wrong.most_common()}}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--texts", type=Path, nargs="*", default=TEXTS)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    pages = load(DEVSETS, [t for t in args.texts if t.exists()])
    if not pages:
        print("no page texts found: see the module docstring", file=sys.stderr)
        return 2
    results = evaluate(pages)
    if args.json:
        print(json.dumps(results, indent=2, ensure_ascii=False))
        return 0
    langs = sorted({p["language"] for p in pages})
    print("| detector | right | ms/page | " + " | ".join(langs) + " | wrong (label->guess) |")
    print("|" + "---|" * (len(langs) + 4))
    for name, r in results.items():
        cells = [f"{r['per_language'][lang][0]}/{r['per_language'][lang][1]}" for lang in langs]
        confusions = ", ".join(f"{k} {v}" for k, v in r["confusions"].items()) or "-"
        print(f"| {name} | {r['right']}/{r['pages']} | {r['ms_per_page']:.2f} | " + " | ".join(cells)
              + f" | {confusions} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
