"""Canonical URL choice and normalisation.

The canonical URL is the article's identity (its id is a hash of it), so normalisation errs on the
side of stability: tracking parameters and fragments go, everything else that could select
different content (path case, other query parameters, trailing slash) stays as published.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from w3lib.url import safe_url_string

_TRACKING = re.compile(
    r"^(?:utm_[a-z_]+|fbclid|gclid|dclid|gbraid|wbraid|msclkid|mc_cid|mc_eid|_ga|_gl|yclid|igshid"
    r"|ocid|cmpid|taid|icid|smid|ncid|ref|ref_src|ref_url|sr_share|guccounter|guce_referrer(?:_sig)?"
    r"|__twitter_impression|s_cid|amp|outputtype|mbid|cid_source|soc_src|soc_trk|spm|share_token)$",
    re.I,
)
_DEFAULT_PORTS = {"http": "80", "https": "443"}
_SECOND_LEVEL = {"co", "com", "org", "net", "ac", "gov", "edu", "ne", "or", "go"}


def normalize_url(url: str, base: str | None = None) -> str:
    """Absolute, tracking-free, fragment-free form of ``url`` (resolved against ``base``)."""
    url = url.strip()
    if base:
        if url.startswith("//"):
            url = (urlsplit(base).scheme or "https") + ":" + url
        url = urljoin(base, url)
    url = safe_url_string(url)
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    netloc = host
    if parts.port and str(parts.port) != _DEFAULT_PORTS.get(scheme):
        netloc = f"{host}:{parts.port}"
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING.match(k)]
    path = parts.path or "/"
    return urlunsplit((scheme, netloc, path, urlencode(query, doseq=True), ""))


def registrable_domain(host: str) -> str:
    """Cheap eTLD+1 (no public-suffix download): enough to tell syndication from same-site moves."""
    labels = host.lower().rstrip(".").split(".")
    if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def is_amp_url(url: str) -> bool:
    parts = urlsplit(url)
    segments = [s for s in parts.path.lower().split("/") if s]
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    return (
        "amp" in segments
        or (segments[-1].endswith(".amp") if segments else False)
        or parts.hostname is not None and parts.hostname.startswith("amp.")
        or "amp" in query
        or query.get("outputType") == "amp"
    )


def strip_amp(url: str) -> str:
    """Best-effort non-AMP twin of an AMP URL, for AMP pages that do not link their canonical."""
    parts = urlsplit(url)
    segments = parts.path.split("/")
    kept = [s for s in segments if s.lower() != "amp"]
    path = "/".join(kept) or "/"
    if path.endswith(".amp"):
        path = path[: -len(".amp")]
    if len(kept) != len(segments) and parts.path.endswith("/") and not path.endswith("/"):
        path += "/"
    host = parts.netloc[4:] if parts.netloc.startswith("amp.") else parts.netloc
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k.lower() not in ("amp",)]
    return urlunsplit((parts.scheme, host, path, urlencode(query), ""))


def acceptable_canonical(candidate: str, page_url: str) -> bool:
    """Reject canonicals that would merge distinct pages or hand our id to another site."""
    cand, page = urlsplit(candidate), urlsplit(page_url)
    if cand.scheme not in ("http", "https") or not cand.hostname:
        return False
    if page.scheme in ("http", "https") and page.hostname:
        if registrable_domain(cand.hostname) != registrable_domain(page.hostname):
            return False
        # A canonical pointing at the home page from a deep URL is a template bug, not a claim.
        if cand.path in ("", "/") and page.path not in ("", "/"):
            return False
    return True


def choose_canonical(candidates: list[tuple[str, str]], page_url: str) -> tuple[str, str]:
    """First acceptable ``(url, provenance)`` among candidates, else the (de-AMPed) page URL."""
    page_norm = normalize_url(page_url)
    for raw, how in candidates:
        if not raw or raw.startswith(("javascript:", "data:", "#")):
            continue
        try:
            cand = normalize_url(raw, page_url)
        except ValueError:
            continue
        if acceptable_canonical(cand, page_norm):
            return cand, how
    if is_amp_url(page_norm):
        return normalize_url(strip_amp(page_norm)), "url"
    return page_norm, "url"
