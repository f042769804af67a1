"""``make demo`` / ``aggregator demo``: the main job end to end on the bundled offline web."""

from __future__ import annotations

import shutil

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from aggregator import config

DEMO_QUERY = "sodium-ion battery"


def run_demo(console: Console, fresh: bool = False) -> int:
    """Start the engine, crawl the offline web, cluster, index, print the clusters and a search."""
    from aggregator.cli import offline_overrides, start_engine
    from aggregator.crawl import run_crawl, summary_tables
    from aggregator.engine import LocalEngine
    from aggregator.fixtureweb import FixtureWeb
    from aggregator.search.client import connect
    from aggregator.sources import load_sources

    err = Console(stderr=True)
    engine = LocalEngine()
    if config.search_url() == engine.url:
        status = start_engine(engine)
        if status is None:
            return 1
        console.print(f"[bold]1. engine[/bold]  {status.describe()}")
    else:
        console.print(f"[bold]1. engine[/bold]  using {config.search_url()} (AGGREGATOR_SEARCH_URL)")

    client = connect()
    if fresh:
        _forget(client)

    with FixtureWeb() as web:
        console.print(f"[bold]2. crawl[/bold]   the offline EV-news web served at {web.url}")
        names = [s.name for s in load_sources()]
        summaries = run_crawl(names, offline_overrides(web.host_map()), console=err)
    for table in summary_tables(summaries):
        console.print(table)

    from aggregator.search import queries
    from aggregator.search.indices import alias_name as alias

    client.refresh(alias("articles"))
    client.refresh(alias("stories"))
    console.print("[bold]3. story clusters[/bold] (largest first; members sharing a dup_id are copies)")
    console.print(stories_table(client, width=console.width))
    console.print(f"[bold]4. search[/bold]  {DEMO_QUERY!r}, one entry per story (grouped by story_id):")
    results = queries.run_search(client, DEMO_QUERY, limit=5)
    for hit in results.stories:
        console.print(f"  [cyan]{hit.story_id}[/cyan]  {hit.member_count} article(s) from "
                      f"{escape(', '.join(hit.sources))}: {escape(hit.headline)}", highlight=False)
    console.print("  the same search through the REST API:")
    body = queries.search_stories(DEMO_QUERY, size=5)
    console.print("  " + queries.curl_line(alias("articles"), body, base=config.search_url()),
                  soft_wrap=True, highlight=False, markup=False)
    console.print("[bold]5. next[/bold]")
    console.print(f"  data lives under {config.var_dir()} (engine: var/engine, clusters: var/dedup, "
                  "crawl state: var/crawl, raw pages: var/archive)")
    console.print("  search:       aggregator search \"xiaomi leak\" --since 30d")
    console.print("  review page:  aggregator review   (add an editor first: aggregator review --add-editor NAME)")
    console.print("  stop engine:  aggregator engine stop   (or: make stop)")
    return 0


def stories_table(client, width: int = 100, size: int = 200) -> Table:
    """Stories covered by more than one article, each with its members in publication order."""
    from aggregator.search.indices import alias_name as alias

    body = {"query": {"bool": {"filter": [{"range": {"member_count": {"gte": 2}}}],
                               "must_not": [{"term": {"status": "merged"}}]}},
            "sort": [{"member_count": "desc"}, {"first_seen": "asc"}], "size": size}
    stories = [h["_source"] for h in client.search(alias("stories"), body)["hits"]["hits"]]
    total = client.count(alias("stories"), {"bool": {"must_not": [{"term": {"status": "merged"}}]}})
    table = Table(caption=f"{len(stories)} stories with several articles; "
                          f"{total - len(stories)} stories with one article")
    table.add_column("story / dup", no_wrap=True, width=16)
    table.add_column("source", no_wrap=True, overflow="ellipsis", width=12)
    table.add_column("published", no_wrap=True, width=10)
    table.add_column("title", overflow="ellipsis", no_wrap=True, width=max(20, width - 51))
    for story in stories:
        members = sorted(story.get("members") or [], key=lambda m: m.get("published_at") or "")
        table.add_row(f"[bold]{story['story_id']}[/bold]", "", "",
                      f"[bold]{story.get('member_count')} articles[/bold]", end_section=False)
        for m in members:
            # scraped text is hostile: never let a title carry rich markup
            table.add_row(f"  {m.get('dup_id')}", escape(m.get("source") or ""), (m.get("published_at") or "")[:10],
                          escape(m.get("title") or ""))
        table.add_section()
    return table


def _forget(client) -> None:
    """Drop the demo's state so the next crawl starts from nothing."""
    from aggregator.search.indices import alias_name as alias

    for name in ("crawl", "dedup", "spool"):
        shutil.rmtree(config.var_dir() / name, ignore_errors=True)
    for name in ("articles", "stories", "reviews"):
        for index in client.get_alias(alias(name)):
            client.delete_index(index)
