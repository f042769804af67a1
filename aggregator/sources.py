"""The outlet registry: ``sources.toml`` loaded into validated :class:`Source` objects.

The registry is data, not code, so that adding an outlet never means writing a spider class.
Validation happens at load time because a typo in a regex or a domain would otherwise surface
hours later as a crawl that silently finds nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

try:  # Python 3.11+
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

DEFAULT_PATH = Path(__file__).with_name("sources.toml")

_NAME_RE = re.compile(r"^[a-z0-9_]+$")
_DOMAIN_RE = re.compile(r"^(?=.{1,253}$)[a-z0-9-]+(?:\.[a-z0-9-]+)+$")
_LANG_RE = re.compile(r"^[a-z]{2}$")
_REQUIRED = ("name", "title", "domains", "language")
_KNOWN = set(_REQUIRED) | {"wire", "feeds", "sitemaps", "listing_pages", "article_patterns", "timezone"}


class SourceConfigError(ValueError):
    """The registry file is invalid; the message names the source and the field."""


@dataclass(frozen=True)
class Source:
    """One outlet (or one language edition of an outlet)."""

    name: str
    title: str
    domains: tuple[str, ...]
    language: str
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    listing_pages: tuple[str, ...] = ()
    article_patterns: tuple[re.Pattern[str], ...] = ()
    wire: bool = False
    #: IANA zone the outlet prints its times in: zone-less times and its own abbreviations (CST in
    #: Asia/Shanghai) are read in it; a stated offset always wins.
    timezone: str = "UTC"

    @property
    def primary_domain(self) -> str:
        return self.domains[0]

    @property
    def start_urls(self) -> tuple[str, ...]:
        """Every URL a crawl of this source starts from."""
        return self.feeds + self.sitemaps + self.listing_pages

    def owns_host(self, host: str) -> bool:
        """True if ``host`` is one of the domains or a subdomain of one."""
        host = host.lower().rstrip(".")
        return any(host == d or host.endswith("." + d) for d in self.domains)

    def is_article_url(self, url: str) -> bool:
        """True if ``url`` matches one of the article patterns (query and fragment ignored)."""
        parts = urlsplit(url)
        bare = f"{parts.scheme}://{parts.netloc.lower()}{parts.path}"
        return any(p.search(bare) for p in self.article_patterns)


def _valid_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _str_list(raw: dict, key: str, where: str) -> tuple[str, ...]:
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise SourceConfigError(f"{where}: `{key}` must be a list of non-empty strings")
    return tuple(value)


def _urls(raw: dict, key: str, where: str, domains: tuple[str, ...]) -> tuple[str, ...]:
    urls = _str_list(raw, key, where)
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise SourceConfigError(f"{where}: `{key}` entry {url!r} is not an absolute http(s) URL")
        host = parts.hostname
        if not any(host == d or host.endswith("." + d) for d in domains):
            raise SourceConfigError(f"{where}: `{key}` entry {url!r} is outside the source's domains")
    return urls


def _parse_source(raw: dict, index: int) -> Source:
    where = f"source #{index + 1}"
    if not isinstance(raw, dict):
        raise SourceConfigError(f"{where}: must be a table")
    missing = [k for k in _REQUIRED if k not in raw]
    if missing:
        raise SourceConfigError(f"{where}: missing {', '.join(missing)}")
    name = raw["name"]
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise SourceConfigError(f"{where}: name {name!r} must match [a-z0-9_]+")
    where = f"source {name!r}"
    unknown = set(raw) - _KNOWN
    if unknown:
        raise SourceConfigError(f"{where}: unknown keys {sorted(unknown)}")
    domains = tuple(d.lower() for d in _str_list(raw, "domains", where))
    if not domains:
        raise SourceConfigError(f"{where}: `domains` must not be empty")
    for domain in domains:
        if not _DOMAIN_RE.match(domain):
            raise SourceConfigError(f"{where}: {domain!r} is not a bare host name")
    language = raw["language"]
    if not isinstance(language, str) or not _LANG_RE.match(language):
        raise SourceConfigError(f"{where}: language {language!r} must be an ISO 639-1 code")
    wire = raw.get("wire", False)
    if not isinstance(wire, bool):
        raise SourceConfigError(f"{where}: `wire` must be true or false")
    patterns = []
    for pattern in _str_list(raw, "article_patterns", where):
        try:
            patterns.append(re.compile(pattern))
        except re.error as exc:
            raise SourceConfigError(f"{where}: bad article pattern {pattern!r}: {exc}") from exc
    title = raw["title"]
    if not isinstance(title, str) or not title.strip():
        raise SourceConfigError(f"{where}: `title` must be a non-empty string")
    zone = raw.get("timezone", "UTC")
    if not isinstance(zone, str) or not _valid_zone(zone):
        raise SourceConfigError(f"{where}: timezone {zone!r} is not an IANA zone name (e.g. Asia/Shanghai)")
    return Source(
        name=name,
        title=title,
        domains=domains,
        language=language,
        feeds=_urls(raw, "feeds", where, domains),
        sitemaps=_urls(raw, "sitemaps", where, domains),
        listing_pages=_urls(raw, "listing_pages", where, domains),
        article_patterns=tuple(patterns),
        wire=wire,
        timezone=zone,
    )


def load_sources(path: Path | str | None = None) -> list[Source]:
    """Load and validate the registry; raises :class:`SourceConfigError` on any problem."""
    file = Path(path) if path is not None else DEFAULT_PATH
    try:
        # the packaged registry through importlib.resources: scrapyd imports a deployed egg from its zip file
        text = (file.read_text(encoding="utf-8") if path is not None or DEFAULT_PATH.is_file()
                else resources.files("aggregator").joinpath("sources.toml").read_text(encoding="utf-8"))
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SourceConfigError(f"{file}: {exc}") from exc
    raw_sources = data.get("source", [])
    if not isinstance(raw_sources, list) or not raw_sources:
        raise SourceConfigError(f"{file}: no [[source]] tables")
    sources = [_parse_source(raw, i) for i, raw in enumerate(raw_sources)]
    seen: dict[str, str] = {}
    for source in sources:
        if source.name in seen:
            raise SourceConfigError(f"duplicate source name {source.name!r}")
        seen[source.name] = source.name
    owners: dict[str, str] = {}
    for source in sources:
        for domain in source.domains:
            if domain in owners:
                raise SourceConfigError(
                    f"domain {domain!r} claimed by both {owners[domain]!r} and {source.name!r}"
                )
            owners[domain] = source.name
    return sources


@lru_cache(maxsize=1)
def _default_sources() -> tuple[Source, ...]:
    return tuple(load_sources())


def get_source(name: str) -> Source:
    """The registered source called ``name``; raises ``KeyError`` if there is none."""
    for source in _default_sources():
        if source.name == name:
            return source
    raise KeyError(f"unknown source {name!r}")


def source_for_url(url: str) -> Source | None:
    """The source whose domains cover the URL's host (the most specific domain wins)."""
    host = (urlsplit(url).hostname or "").lower()
    if not host:
        return None
    best: tuple[int, Source] | None = None
    for source in _default_sources():
        for domain in source.domains:
            if (host == domain or host.endswith("." + domain)) and (best is None or len(domain) > best[0]):
                best = (len(domain), source)
    return best[1] if best else None
