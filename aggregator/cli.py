"""``aggregator``: the command line of the EV news aggregator.

Each command is a thin shell over library code; ``aggregator COMMAND --help`` documents it and the
README shows each with an example and its output.
"""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

console = Console()
err = Console(stderr=True)

app = typer.Typer(
    help="Crawl EV news outlets, cluster duplicate coverage with MinHash, search it in Elasticsearch/OpenSearch.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
)
engine_app = typer.Typer(help="Start, stop and inspect the local OpenSearch node (data under var/engine).",
                         no_args_is_help=True)
index_app = typer.Typer(help="Manage the search indices: status, mapping migration, spool replay, loading files, "
                        "consistency check.",
                        no_args_is_help=True)
app.add_typer(engine_app, name="engine")
app.add_typer(index_app, name="index")


def _mount(target: typer.Typer, name: str, module: str, function: str) -> None:
    """Register ``module.function`` (a typer-annotated function) as command ``name``."""
    func = getattr(importlib.import_module(module), function)
    target.command(name, help=_help_text(func.__doc__ or ""))(func)


def _help_text(doc: str) -> str:
    """A docstring as --help shows it: rich markup mode keeps every newline after the first paragraph, so
    the lines of each paragraph are joined (lines that start a list item or are indented stay lines)."""
    paragraphs = []
    for paragraph in inspect.cleandoc(doc).split("\n\n"):
        out: list[str] = []
        for line in paragraph.splitlines():
            if out and not line.startswith((" ", "-", "*", "$")):
                out[-1] += " " + line
            else:
                out.append(line)
        paragraphs.append("\n".join(out))
    return "\n\n".join(paragraphs)


# -- engine ----------------------------------------------------------------------------------------
def start_engine(eng):
    """Start the local node with progress on stderr; None (after saying why) when it cannot start."""
    from aggregator.engine import EngineError

    try:
        if not eng.is_built():
            err.print("building the engine from Maven Central (first run only, about a minute)...")
        with err.status("starting the local OpenSearch node..."):
            return eng.start()
    except EngineError as exc:
        err.print(f"[red]error:[/red] {exc}")
        return None


def _engine(port: int | None):
    from aggregator.engine import LocalEngine

    return LocalEngine(port=port)


@engine_app.command("start")
def engine_start(
    port: Annotated[int, typer.Option(help="HTTP port on 127.0.0.1.", envvar="AGGREGATOR_ENGINE_PORT")] = 9200,
    heap: Annotated[str, typer.Option(help="JVM heap (-Xms/-Xmx).")] = "1g",
) -> None:
    """Start the local OpenSearch node (builds it with Maven on first use) and wait until it is ready."""
    from aggregator.engine import LocalEngine

    eng = LocalEngine(port=port, heap=heap)
    status = start_engine(eng)
    if status is None:
        raise typer.Exit(1)
    console.print(status.describe())
    console.print(f"data and logs: {eng.home}")


@engine_app.command("stop")
def engine_stop(
    port: Annotated[int, typer.Option(envvar="AGGREGATOR_ENGINE_PORT")] = 9200,
) -> None:
    """Stop the local node (SIGTERM, then SIGKILL after 30 s); leaves no JVM behind."""
    stopped = _engine(port).stop()
    console.print("engine stopped" if stopped else "engine was not running")


@engine_app.command("status")
def engine_status(
    port: Annotated[int, typer.Option(envvar="AGGREGATOR_ENGINE_PORT")] = 9200,
) -> None:
    """Say whether the local node runs, its version and cluster health. Exit code 1 when it does not."""
    status = _engine(port).status()
    console.print(status.describe())
    if not status.running:
        raise typer.Exit(1)


# -- cluster ---------------------------------------------------------------------------------------
cluster_app = typer.Typer(help="The multi-host topology on this machine, in network namespaces (root only): "
                          "two scrapyd crawler hosts, Redis, a two-node OpenSearch cluster, the offline web.",
                          no_args_is_help=True)
app.add_typer(cluster_app, name="cluster")


@cluster_app.command("up")
def cluster_up() -> None:
    """Make the namespaces on 10.77.0.0/24, start every host and deploy this project to the crawlers."""
    from aggregator.cluster import ClusterError, up

    try:
        with err.status("starting the cluster (engine nodes take a minute)..."):
            urls = up()
    except ClusterError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from exc
    for name, url in urls.items():
        console.print(f"{name:12} {url}")


@cluster_app.command("down")
def cluster_down() -> None:
    """Stop every process of the cluster and delete its namespaces, veths and bridge."""
    from aggregator.cluster import ClusterError, down

    try:
        left = down()
    except ClusterError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from exc
    if left:
        err.print(f"[red]left behind:[/red] {', '.join(left)}")
        raise typer.Exit(1)
    console.print("cluster down: no namespace, link or process left")


@cluster_app.command("status")
def cluster_status() -> None:
    """One line per host: namespace, address, what it runs and whether it answers."""
    from rich.table import Table

    from aggregator.cluster import status

    table = Table("host", "address", "runs", "state")
    for row in status():
        table.add_row(*row)
    console.print(table)


# -- crawl -----------------------------------------------------------------------------------------
@app.command("crawl")
def crawl(
    sources: Annotated[list[str] | None, typer.Argument(help="Source names (see `scrapy list`).")] = None,
    all_sources: Annotated[bool, typer.Option("--all", help="Crawl every source in the registry.")] = False,
    offline: Annotated[bool, typer.Option(help="Serve the outlets from the bundled offline fixture web.")] = False,
    no_index: Annotated[bool, typer.Option("--no-index", help="Cluster but do not write to the engine.")] = False,
    jobdir: Annotated[Path | None, typer.Option(help="Scrapy JOBDIR: pause with Ctrl-C, resume later.")] = None,
    setting: Annotated[list[str] | None, typer.Option("-s", help="Scrapy setting NAME=VALUE (repeatable).")] = None,
) -> None:
    """Crawl sources in one process with live progress, then print a summary table.

    Example: [bold]aggregator crawl --all[/bold]  or  [bold]aggregator crawl electrek insideevs[/bold]
    """
    from aggregator.crawl import run_crawl, summary_tables
    from aggregator.sources import load_sources

    names = [s.name for s in load_sources()]
    chosen = names if all_sources else list(sources or [])
    unknown = [s for s in chosen if s not in names]
    if not chosen or unknown:
        err.print(f"[red]error:[/red] name sources or use --all; unknown: {unknown}; known: {', '.join(names)}")
        raise typer.Exit(2)
    overrides: dict = {}
    web = None
    if offline:
        from aggregator.fixtureweb import FixtureWeb

        web = FixtureWeb().start()
        overrides.update(offline_overrides(web.host_map()))
    for item in setting or []:
        key, _, value = item.partition("=")
        overrides[key] = value
    if no_index:
        overrides["AGGREGATOR_INDEX_ENABLED"] = False
    if jobdir:
        overrides["JOBDIR"] = str(jobdir)
    try:
        summaries = run_crawl(chosen, overrides, console=err)
    finally:
        if web:
            web.stop()
    for table in summary_tables(summaries):
        console.print(table)


def offline_overrides(host_map: dict[str, str]) -> dict:
    """Settings for crawling the local fixture web: mapped hosts, no politeness delays."""
    return {
        "AGGREGATOR_HOST_MAP": host_map,
        "DOWNLOAD_DELAY": 0,
        "AUTOTHROTTLE_ENABLED": False,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
    }


@app.command("serve-fixtures")
def serve_fixtures(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8765,
) -> None:
    """Serve the bundled offline EV-news web (tests/fixtures/web) until Ctrl-C."""
    import time

    from aggregator.fixtureweb import FixtureWeb

    with FixtureWeb(port=port) as web:
        console.print(f"offline web at {web.url}/<source>/... ; host map:")
        for host, base in web.host_map().items():
            console.print(f"  {host} -> {base}")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


# -- demo ------------------------------------------------------------------------------------------
@app.command("demo")
def demo(
    fresh: Annotated[bool, typer.Option(help="Forget earlier demo runs (crawl state, clusters, indices).")] = False,
) -> None:
    """The whole pipeline on the bundled offline web: engine, crawl, cluster, index, clusters, search."""
    from aggregator.demo import run_demo

    raise typer.Exit(run_demo(console, fresh=fresh))


def main() -> None:
    for target, name, module, function in (
        (app, "extract", "aggregator.extract.cli", "extract_command"),
        (app, "dedup", "aggregator.dedup.cli", "dedup_command"),
        (app, "eval", "aggregator.dedup.cli", "eval_command"),
        (app, "search", "aggregator.search.cli", "search_command"),
        (app, "review", "aggregator.review.cli", "review_command"),
        (index_app, "status", "aggregator.search.cli", "index_status_command"),
        (index_app, "migrate", "aggregator.search.cli", "index_migrate_command"),
        (index_app, "replay", "aggregator.search.cli", "index_replay_command"),
        (index_app, "load", "aggregator.search.cli", "index_load_command"),
        (index_app, "check", "aggregator.search.cli", "index_check_command"),
    ):
        try:
            _mount(target, name, module, function)
        except (ImportError, AttributeError) as exc:  # pragma: no cover - partial checkouts during development
            err.print(f"[yellow]warning:[/yellow] command {name!r} unavailable: {exc}")
    app()


if __name__ == "__main__":
    main()
