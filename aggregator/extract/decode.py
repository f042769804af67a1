"""Bytes to text: HTTP charset, then BOM, then <meta>, then a guarded guess; a declared legacy charset
over bytes that are valid UTF-8 (with non-ASCII in them) is stale and reads as UTF-8.

Done with w3lib because it implements the browser-compatible precedence and maps legacy labels
(gb2312 -> gb18030, iso-8859-1 -> cp1252) the way browsers do, which is what publishers test with.
"""

from __future__ import annotations

from collections.abc import Mapping

from w3lib.encoding import html_to_unicode

from .errors import ExtractionError


def header(headers: Mapping[str, str] | None, name: str) -> str | None:
    """Case-insensitive header lookup tolerant of bytes and list values (Scrapy headers)."""
    if not headers:
        return None
    wanted = name.lower()
    for key, value in headers.items():
        k = key.decode("latin-1") if isinstance(key, bytes) else str(key)
        if k.lower() != wanted:
            continue
        if isinstance(value, (list, tuple)):
            value = value[0] if value else None
        if isinstance(value, bytes):
            value = value.decode("latin-1")
        return value
    return None


def _guess(data: bytes) -> str | None:
    """Used only when neither header, BOM nor meta declares a charset."""
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(data[:200_000]).best()
        if best is not None:
            return best.encoding
    except Exception:  # noqa: BLE001 - a guess must never break extraction
        pass
    return "cp1252"


_UTF = ("utf8", "utf16be", "utf16le", "utf16", "utf32be", "utf32le", "utf32")


def _utf8_multibyte(data: bytes) -> bool:
    """Has non-ASCII bytes, and all of them form valid UTF-8 sequences."""
    if data.isascii():
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def decode_html(data: bytes | str, headers: Mapping[str, str] | None = None) -> tuple[str, str]:
    """Return ``(text, encoding)``; raise ``ExtractionError('undecodable')`` for binary/garbled input."""
    if isinstance(data, str):
        return data, "unicode"
    if not data.strip():
        raise ExtractionError("empty_body", "the response body is empty")
    sample = data[:4096]
    if sample.count(b"\x00") > len(sample) // 20 and not sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ExtractionError("undecodable", "the body looks binary (NUL bytes), not HTML")
    encoding, text = html_to_unicode(header(headers, "Content-Type"), data, auto_detect_fun=_guess)
    if encoding.replace("-", "").lower() not in _UTF and _utf8_multibyte(data):
        # A declared legacy charset over bytes that are valid UTF-8 with multi-byte characters in them
        # is a stale declaration (a site moved to UTF-8 and kept its old header or <meta>; a page
        # re-saved by a tool): legacy text essentially never forms valid UTF-8 sequences by chance, and
        # read in the declared charset every character would be mojibake (a real page declaring gb2312
        # became unreadable, body F1 0.03). trafilatura's own decoding tries UTF-8 first for this reason.
        encoding, text = "utf-8", data.decode("utf-8")
    bad = text.count("\ufffd")
    if bad > 50 and bad > len(text) // 50:
        raise ExtractionError("undecodable", f"{bad} undecodable characters with encoding {encoding}")
    return text, encoding
