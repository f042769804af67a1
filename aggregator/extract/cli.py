"""``aggregator extract``: run the extraction chain on saved pages or on a WARC archive.

Useful for debugging a site without crawling it: save the page, run this, look at the JSON and
at ``extracted_by`` to see which layer produced each field.
"""

from __future__ import annotations

import gzip
import json
import re
import warnings
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer
from dateutil.parser import UnknownTimezoneWarning

from aggregator.sources import SourceConfigError, get_source

from .article import extract_article
from .decode import header
from .errors import ExtractionError

_SUFFIXES = (".html", ".htm", ".html.gz", ".htm.gz")
_CANONICAL = re.compile(rb"<link\b[^>]*\brel=[\"']?canonical[\"']?[^>]*>", re.I)
_HREF = re.compile(rb"\bhref=[\"']([^\"'>\s]+)", re.I)


def _read(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


def _guess_url(data: bytes, path: Path) -> str:
    """The page's own rel=canonical if absolute, else a file:// URL for the saved file."""
    for tag in _CANONICAL.findall(data[:300_000]):
        href = _HREF.search(tag)
        if href and href.group(1).lower().startswith((b"http://", b"https://")):
            return href.group(1).decode("utf-8", "replace")
    return path.resolve().as_uri()


def _collect(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.is_file() and p.name.lower().endswith(_SUFFIXES))
        else:
            files.append(path)
    return files


def _sidecar_headers(path: Path) -> dict[str, str] | None:
    """Headers saved next to a page as ``<file>.headers.json`` (the fixture-web convention)."""
    sidecar = Path(str(path) + ".headers.json")
    if not sidecar.exists():
        return None
    try:
        return dict(json.loads(sidecar.read_text()).get("headers", {}))
    except (ValueError, AttributeError):
        return None


def _from_archive(location: Path) -> Iterator[tuple[str, bytes, str, dict, object]]:
    from aggregator.archive import iter_archive

    for page in iter_archive(location):
        content_type = header(page.headers, "Content-Type") or "text/html"
        if page.status != 200 or "html" not in content_type.lower():
            continue
        yield page.url, page.body, page.url, page.headers, page.fetched_at


def extract_command(
    paths: Annotated[list[Path], typer.Argument(help="HTML files or folders (.html/.htm, optionally .gz)")] = None,
    url: Annotated[str | None, typer.Option("--url", help="the page's URL (default: its rel=canonical)")] = None,
    from_archive: Annotated[
        Path | None, typer.Option("--from-archive", help="re-extract every response in a WARC file or folder")
    ] = None,
    source: Annotated[str | None, typer.Option("--source", help="registry name of the outlet")] = None,
) -> None:
    """Extract articles from saved pages; one file prints pretty JSON, several print JSON lines."""
    jobs: list[tuple[str, bytes | None, str | None, dict | None, object]] = []
    for file in _collect(list(paths or [])):
        jobs.append((str(file), None, url, _sidecar_headers(file), None))
    if from_archive is not None:
        jobs += list(_from_archive(from_archive))
    if not jobs:
        typer.echo("nothing to extract: give files, folders or --from-archive", err=True)
        raise typer.Exit(2)
    if source is not None:
        try:
            zone = get_source(source).timezone
        except (KeyError, SourceConfigError) as exc:
            typer.echo(f"--source: {exc}", err=True)
            raise typer.Exit(2) from exc
    else:
        zone = None
    single = len(jobs) == 1 and from_archive is None and not any(p.is_dir() for p in paths or [])
    failed = 0
    dated = Counter()
    for name, body, page_url, headers, fetched_at in jobs:
        try:
            data = body if body is not None else _read(Path(name))
            with warnings.catch_warnings(record=True) as caught:
                # libraries below us (htmldate) may still warn about a zone name: count, never print
                warnings.simplefilter("always", UnknownTimezoneWarning)
                article = extract_article(
                    data, page_url or _guess_url(data, Path(name)), source=source, headers=headers,
                    fetched_at=fetched_at, zone=zone,  # type: ignore[arg-type]
                )
            for warning in caught:
                if issubclass(warning.category, UnknownTimezoneWarning):
                    dated["unknown_zone"] += 1
                else:
                    warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
            for flag in article.get("flags") or ():
                if flag in ("date_unreadable", "date_unknown_zone", "date_missing"):
                    dated[flag.removeprefix("date_")] += 1
        except (ExtractionError, OSError) as exc:
            failed += 1
            reason = exc.reason if isinstance(exc, ExtractionError) else "unreadable"
            typer.echo(json.dumps({"file": name, "error": reason, "message": str(exc)}, ensure_ascii=False))
            continue
        if single:
            typer.echo(json.dumps(article, indent=2, ensure_ascii=False))
        else:
            typer.echo(json.dumps({"file": name, **article}, ensure_ascii=False))
    if dated:
        summary = ", ".join(f"{key.replace('_', ' ')}: {n}" for key, n in sorted(dated.items()))
        typer.echo(f"dates: {summary} (of {len(jobs)} pages)", err=True)
    if failed:
        raise typer.Exit(1)
