"""Commands over the search indices: ``aggregator search``, ``aggregator index status|migrate|replay|load``.

Plain typer-annotated functions; ``aggregator.cli`` mounts them. Errors a user can fix (engine down, bad
``--since``) end with a one-line message and exit code 2, never a traceback.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from aggregator import config

console = Console()
err = Console(stderr=True)

URL_OPTION = typer.Option("--url", help="Engine URL.", envvar="AGGREGATOR_SEARCH_URL")


def _client(url: str | None):
    from aggregator.search.client import SearchUnavailable, connect

    try:
        return connect(url or config.search_url())
    except SearchUnavailable as exc:
        err.print(f"[red]error:[/red] {exc} (start it with `aggregator engine start`)")
        raise typer.Exit(2) from exc


def search_command(
    query: Annotated[str, typer.Argument(help="Words to look for in titles, leads and bodies (plain text).")],
    since: Annotated[str | None, typer.Option(help="Only articles published since: 7d, 24h, 2w or 2025-01-31.")]
    = None,
    source: Annotated[list[str] | None, typer.Option("--source", help="Only this outlet (repeatable).")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500, help="Stories to show.")] = 10,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON lines instead of a table.")] = False,
    language: Annotated[list[str] | None, typer.Option("--language", help="ISO 639-1 code (repeatable).")] = None,
    exact: Annotated[bool, typer.Option("--exact", help="Count every matching story and article (slower); "
                                        "otherwise a full page says e.g. '10+ stories'.")] = False,
    url: Annotated[str | None, URL_OPTION] = None,
) -> None:
    """Search articles; one line per story (its articles collapsed), best match first."""
    from aggregator.search.queries import run_search

    client = _client(url)
    try:
        results = run_search(client, query, since=since, sources=source, languages=language, limit=limit,
                             count_stories=exact)
    except ValueError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    if json_out:
        for hit in results.stories:
            print(json.dumps({"story_id": hit.story_id, "headline": hit.headline, "member_count": hit.member_count,
                              "sources": hit.sources, "first_seen": hit.first_seen, "score": hit.score,
                              "best_article": hit.best_article}, ensure_ascii=False))
        return
    table = Table(title=f"{results.stories_text} stories, {results.articles_text} articles match {query!r}",
                  title_justify="left")
    table.add_column("headline", overflow="fold", ratio=3)
    table.add_column("articles", justify="right")
    table.add_column("sources", overflow="fold", ratio=1)
    table.add_column("first seen", no_wrap=True)
    table.add_column("story_id", no_wrap=True, style="dim")
    for hit in results.stories:
        table.add_row(hit.headline, str(hit.member_count), ", ".join(hit.sources),
                      (hit.first_seen or "")[:16].replace("T", " "), hit.story_id or "")
    console.print(table)


def index_status_command(
    url: Annotated[str | None, URL_OPTION] = None,
) -> None:
    """Aliases, the concrete indices behind them, document counts, and the spool."""
    from aggregator.search import indices
    from aggregator.search.spool import Spool

    spool = Spool().size()
    client = _client(url)
    table = Table(title=f"{client.flavor} {client.version} at {client.url}", title_justify="left")
    for column in ("alias", "write index", "indices (docs)", "template", "mapping"):
        table.add_column(column)
    for s in indices.status(client):
        table.add_row(s.alias, s.write_index or "[red]missing[/red]",
                      ", ".join(f"{name} ({n})" for name, n in s.indices.items()) or "-",
                      "yes" if s.template else "[red]no[/red]",
                      "[yellow]stale: run `aggregator index migrate`[/yellow]" if s.stale else "current")
    console.print(table)
    from aggregator.search import mapping

    analysis = mapping.probe_analysis(client)
    console.print(f"analyzers: {analysis}" + ("" if analysis == mapping.PER_LANGUAGE else
                  " (this cluster has no analysis-common module: every language is cut into plain words, "
                  "without stemming; install the module and run `aggregator index migrate`)"))
    console.print(f"spool: {spool.describe()}")


def index_migrate_command(
    index: Annotated[str | None, typer.Option("--index", help="articles, stories or reviews (default: all).")]
    = None,
    keep_old: Annotated[bool, typer.Option("--keep-old", help="Keep the previous index after the switch.")]
    = False,
    url: Annotated[str | None, URL_OPTION] = None,
) -> None:
    """Move an index to a new version built from the current mapping, without downtime.

    Copies with _reindex, switches the alias atomically, copies what was written meanwhile, then drops
    the old index (unless --keep-old).
    """
    from aggregator.search import indices

    kinds = [index] if index else list(indices.KINDS)
    if index and index not in indices.KINDS:
        err.print(f"[red]error:[/red] --index must be one of {', '.join(indices.KINDS)}")
        raise typer.Exit(2)
    client = _client(url)
    try:
        indices.check_migratable(client)  # before ensure_indices: a cluster that cannot migrate is left as it is
    except indices.IndexStateError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    indices.ensure_indices(client, kinds)
    failed = False
    for kind in kinds:
        result = indices.migrate(client, kind, keep_old=keep_old)
        failed |= bool(result.failures)
        console.print(f"{kind}: {result.old_index} -> {result.new_index}: {result.copied} copied, "
                      f"{result.caught_up} caught up, old index {'deleted' if result.deleted_old else 'kept'} "
                      f"({result.seconds:.1f}s)" + (f", [red]{len(result.failures)} failures[/red]"
                                                    if result.failures else ""))
    if failed:
        raise typer.Exit(1)


def index_replay_command(
    dead_letters: Annotated[bool, typer.Option("--dead-letters", help="Also resubmit rejected documents "
                                               "(after fixing the mapping).")] = False,
    url: Annotated[str | None, URL_OPTION] = None,
) -> None:
    """Send documents spooled while the engine was unavailable; safe to run any time, or twice."""
    from aggregator.search.indexer import Indexer
    from aggregator.search.spool import Spool

    spool = Spool()
    client = _client(url)
    indexer = Indexer(client, spool)
    with indexer.bulk_load(("articles", "stories")):  # refresh once at the end, not every second
        result = indexer.replay()
    console.print(f"replayed {result.replayed} documents from {result.segments_done} segments "
                  f"({result.indexed} new, {result.updated} updated, {result.unchanged} unchanged, "
                  f"{result.failed} dead-lettered); {result.segments_left} segments left")
    if dead_letters:
        again = indexer.replay_dead_letters()
        console.print(f"dead letters: {again.indexed + again.updated + again.unchanged} accepted, "
                      f"{again.failed} rejected again, {again.spooled} spooled")
    console.print(f"spool: {spool.size().describe()}")
    if result.segments_left:
        raise typer.Exit(1)


#: bad input lines named one by one on stderr before the rest are only counted
_BAD_LINES_SHOWN = 10
#: keys ``aggregator extract`` adds to an article (where it came from), not article fields
_PROVENANCE_KEYS = ("file",)


def index_load_command(
    files: Annotated[list[Path], typer.Argument(help="JSON-lines files of articles, one object per line (`-` "
                                                "reads standard input).", show_default=False)],
    chunk_size: Annotated[int, typer.Option(help="Articles per bulk request.", min=1)] = 500,
    url: Annotated[str | None, URL_OPTION] = None,
) -> None:
    """Index articles from JSON-lines files: `aggregator extract` output, `scrapy crawl SPIDER -O out.jsonl`, a
    backfill or a restore.

    The files stream through the same idempotent path as a crawl (a new article is created, a changed one
    updated, an unchanged one left alone), with refresh off until the end. A line that is not a JSON
    object is named on stderr and skipped, and so are the error records `aggregator extract` writes for
    pages that are no articles (counted, not named); an article the engine rejects goes to the dead-letter
    file; if the engine goes away, the rest is spooled for `aggregator index replay`. Exit code 1 when a
    line was not JSON or an article was rejected or spooled.
    """
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    from aggregator.search.indexer import Indexer, IndexResult
    from aggregator.search.spool import Spool

    missing = [str(f) for f in files if str(f) != "-" and not f.is_file()]
    if missing:
        err.print(f"[red]error:[/red] no such file: {', '.join(missing)}")
        raise typer.Exit(2)
    client = _client(url)
    indexer = Indexer(client, Spool(), chunk_size=chunk_size)
    counts = {"lines": 0, "bad": 0, "not_articles": 0}
    total = sum(f.stat().st_size for f in files if str(f) != "-")

    def articles(progress: Progress, task) -> Iterator[dict]:
        for path in files:
            stream = sys.stdin.buffer if str(path) == "-" else path.open("rb")
            try:
                for lineno, raw in enumerate(stream, 1):
                    progress.advance(task, len(raw))
                    if not raw.strip():
                        continue
                    counts["lines"] += 1
                    try:
                        obj = json.loads(raw)
                        problem = None if isinstance(obj, dict) else "not a JSON object"
                    except ValueError as exc:  # JSONDecodeError, and UnicodeDecodeError for bad bytes
                        problem = f"invalid JSON ({exc})"
                    if problem is None and obj.get("error") and not (obj.get("id") or obj.get("url")):
                        counts["not_articles"] += 1  # `aggregator extract` saying why a page is no article
                        continue
                    if problem is None:
                        for key in _PROVENANCE_KEYS:
                            obj.pop(key, None)
                        yield obj
                        continue
                    counts["bad"] += 1
                    if counts["bad"] <= _BAD_LINES_SHOWN:
                        err.print(f"{path}:{lineno}: {problem}; skipped", highlight=False, markup=False)
            finally:
                if stream is not sys.stdin.buffer:
                    stream.close()

    started = time.perf_counter()
    with Progress(TextColumn("loading"), BarColumn(), DownloadColumn(), TimeRemainingColumn(),
                  console=err, transient=True) as progress:
        task = progress.add_task("load", total=total or None)
        with indexer.bulk_load():
            result: IndexResult = indexer.index_articles(articles(progress, task))
    seconds = time.perf_counter() - started
    if counts["bad"] > _BAD_LINES_SHOWN:
        err.print(f"... and {counts['bad'] - _BAD_LINES_SHOWN} more bad lines")
    taken = result.indexed + result.updated + result.unchanged
    table = Table(title="index load", title_justify="left")
    table.add_column("articles")
    table.add_column("count", justify="right")
    for label, value in (("lines read", counts["lines"]), ("skipped: not JSON objects", counts["bad"]),
                         ("skipped: not articles (extract errors)", counts["not_articles"]),
                         ("new", result.indexed), ("updated", result.updated), ("unchanged", result.unchanged),
                         ("rejected (dead letters)", result.failed), ("spooled (engine away)", result.spooled)):
        table.add_row(label, f"{value:,}")
    table.add_row("seconds", f"{seconds:.1f}")
    table.add_row("articles/s", f"{taken / seconds:,.0f}" if seconds else "-")
    console.print(table)
    if result.failed:
        console.print(f"rejected articles are in {indexer.spool.directory} (dead letters, with the reason); "
                      "fix the mapping or the data and run `aggregator index replay --dead-letters`")
    if result.spooled:
        console.print(f"{result.spooled:,} articles spooled while the engine was away: "
                      "`aggregator index replay` sends them")
    if counts["bad"] or result.failed or result.spooled:
        raise typer.Exit(1)


def index_check_command(
    repair: Annotated[bool, typer.Option("--repair", help="Rewrite what drifted: article labels, story "
                                         "documents, deletes; cluster indexed articles the state lacks.")]
    = False,
    store: Annotated[str | None, typer.Option("--store", help="Dedup state (default file:<AGGREGATOR_VAR>/dedup).",
                                              envvar="AGGREGATOR_DEDUP_STORE")] = None,
    url: Annotated[str | None, URL_OPTION] = None,
) -> None:
    """Compare the dedup state with the articles and stories indices; count each kind of drift.

    Exit code 0 when the three agree, 1 while drift remains (after --repair: drift it could not fix),
    2 when the engine or the state cannot be read. Reads the whole state and both indices once (twice
    more with --repair); run it when no crawl holds a file state, e.g. nightly between crawls.

    Example: [bold]aggregator index check --repair[/bold]
    """
    from aggregator.dedup import Deduplicator, open_store
    from aggregator.search.consistency import DRIFT_KINDS, INFO_KINDS, Consistency

    spec = store or f"file:{config.var_dir() / 'dedup'}"
    if spec.startswith("file:") and not Path(spec[len("file:"):]).exists():
        err.print(f"[red]error:[/red] no dedup state at {spec} (give --store or AGGREGATOR_DEDUP_STORE)")
        raise typer.Exit(2)
    client = _client(url)
    dd = Deduplicator(store=open_store(spec))
    try:
        checker = Consistency(dd, client)
        report = checker.check()
        if repair and report.drift and report.articles_in_state == 0:
            err.print(f"[red]error:[/red] the dedup state at {spec} holds no article: not repairing a whole "
                      "index from it (wrong --store?)")
            raise typer.Exit(2)
        before = report
        if repair and report.drift:
            report = checker.check(repair=True)
    finally:
        close = getattr(dd.store, "close", None)
        if close is not None:
            close()
    table = Table(title=f"index check: {client.flavor} {client.version}, state {spec}", title_justify="left")
    table.add_column("drift")
    table.add_column("meaning")
    table.add_column("found", justify="right")
    if repair:
        table.add_column("after repair", justify="right")
    for kind, meaning in {**DRIFT_KINDS, **INFO_KINDS}.items():
        row = [kind if kind in DRIFT_KINDS else f"[dim]{kind}[/dim]", meaning, str(before.counts[kind])]
        if repair:
            row.append(str(report.counts[kind]))
        table.add_row(*row)
    console.print(table)
    console.print(f"read {before.articles_in_state} articles / {before.stories_in_state} stories of the state, "
                  f"{before.articles_indexed} articles / {before.stories_indexed} story documents indexed "
                  f"in {before.seconds:.1f}s")
    if repair and report is not before:
        done = ", ".join(f"{k} {v}" for k, v in sorted(report.repaired.items())) or "nothing written"
        console.print(f"repaired: {done}; {report.clustered} articles clustered from the index "
                      f"({report.seconds:.1f}s)")
    for kind, ids in report.examples.items():
        if kind in DRIFT_KINDS and report.counts[kind]:
            console.print(f"  {kind}: e.g. {', '.join(ids)}")
    if report.drift:
        raise typer.Exit(1)
