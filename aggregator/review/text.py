"""Word-level text comparison for the review page: similarity numbers and shared-passage highlighting.

Scraped text is hostile, so :func:`highlight_shared` never trusts its input: every character of the
article is HTML-escaped first and only the ``<mark>`` tags it inserts itself are raw markup. The result
is a :class:`markupsafe.Markup` so templates can print it without ``|safe`` on scraped text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from markupsafe import Markup, escape

# Letters and digits of any script; apostrophes inside words stay, so "Tesla's" is one token.
_WORD = re.compile(r"\w+(?:['’]\w+)*", re.UNICODE)

#: Run length (in words) that counts as a shared passage: short enough to catch rewritten wire copy,
#: long enough that "the electric vehicle market" alone does not light up every paragraph.
DEFAULT_N = 5


@dataclass(frozen=True)
class Token:
    norm: str
    start: int
    end: int


def tokenize(text: str | None) -> list[Token]:
    """Words with their character spans; ``norm`` is case-folded so comparison ignores case."""
    return [Token(m.group(0).casefold(), m.start(), m.end()) for m in _WORD.finditer(text or "")]


def ngrams(tokens: list[Token], n: int = DEFAULT_N) -> set[tuple[str, ...]]:
    """Every run of ``n`` consecutive normalised words."""
    words = [t.norm for t in tokens]
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def similarity(a: str | None, b: str | None, n: int = 3) -> float:
    """Jaccard similarity of word ``n``-gram shingles: the same measure MinHash estimates, computed exactly.

    Used when a story's member lacks the dedup stage's similarity (e.g. after an editor's split
    changed the canonical article), so the page always has a number to show.
    """
    sa, sb = ngrams(tokenize(a), n), ngrams(tokenize(b), n)
    if not sa or not sb:
        return 0.0
    return len(sa & sb) / len(sa | sb)


def shared_spans(text: str | None, reference: Iterable[str | None], n: int = DEFAULT_N,
                 max_words: int | None = None) -> list[tuple[int, int]]:
    """Character spans of ``text`` covered by word ``n``-grams that also occur in any ``reference`` text.

    Overlapping and adjacent n-gram hits merge into one run, so a copied paragraph is one span rather
    than a stutter of five-word pieces. ``max_words`` limits the scan to the first words of ``text``.
    """
    tokens = tokenize(text)
    if max_words is not None:
        tokens = tokens[:max_words]
    grams: set[tuple[str, ...]] = set()
    for ref in reference:
        grams |= ngrams(tokenize(ref), n)
    if not grams or len(tokens) < n:
        return []
    covered = [False] * len(tokens)
    words = [t.norm for t in tokens]
    for i in range(len(tokens) - n + 1):
        if tuple(words[i : i + n]) in grams:
            for j in range(i, i + n):
                covered[j] = True
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(tokens):
        if not covered[i]:
            i += 1
            continue
        j = i
        while j + 1 < len(tokens) and covered[j + 1]:
            j += 1
        spans.append((tokens[i].start, tokens[j].end))
        i = j + 1
    return spans


def highlight_shared(text: str | None, reference: Iterable[str | None], n: int = DEFAULT_N,
                     max_chars: int | None = None) -> Markup:
    """``text`` escaped, with the passages it shares with ``reference`` wrapped in ``<mark>``.

    Escaping happens piecewise on the original string between and inside the spans, so no scraped
    character ever reaches the page unescaped. ``max_chars`` trims long bodies (at a word boundary)
    and appends an ellipsis.
    """
    text = text or ""
    truncated = False
    if max_chars is not None and len(text) > max_chars:
        cut = text.rfind(" ", 0, max_chars)
        text = text[: cut if cut > max_chars // 2 else max_chars]
        truncated = True
    out: list[str] = []
    pos = 0
    for start, end in shared_spans(text, reference, n):
        out.append(str(escape(text[pos:start])))
        out.append("<mark>" + str(escape(text[start:end])) + "</mark>")
        pos = end
    out.append(str(escape(text[pos:])))
    if truncated:
        out.append(" …")
    return Markup("".join(out))


def shared_fraction(text: str | None, reference: Iterable[str | None], n: int = DEFAULT_N) -> float:
    """Share of ``text``'s characters (inside words) that fall in shared passages: "how much is copied"."""
    tokens = tokenize(text)
    if not tokens:
        return 0.0
    spans = shared_spans(text, reference, n)
    covered, k = 0, 0
    for t in tokens:  # tokens and spans are both in text order: one pass
        while k < len(spans) and spans[k][1] < t.end:
            k += 1
        if k < len(spans) and spans[k][0] <= t.start:
            covered += 1
    return covered / len(tokens)
