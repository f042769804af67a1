"""The search and index commands, mounted the way ``aggregator.cli`` mounts them, on the real engine."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from aggregator.search import cli, indices
from aggregator.search.indexer import Indexer
from aggregator.search.spool import Spool

#: every test on the search fixture runs on OpenSearch and on Elasticsearch (tests/conftest.py)
ENGINE_FLAVORS = ("opensearch", "elasticsearch")


@pytest.fixture
def app():
    app = typer.Typer()
    app.command("search")(cli.search_command)
    app.command("status")(cli.index_status_command)
    app.command("migrate")(cli.index_migrate_command)
    app.command("replay")(cli.index_replay_command)
    app.command("load")(cli.index_load_command)
    return app


@pytest.fixture
def seeded(search, search_url, tmp_path, monkeypatch):
    monkeypatch.setenv("AGGREGATOR_SEARCH_URL", search_url)
    monkeypatch.setenv("AGGREGATOR_VAR", str(tmp_path))
    indices.ensure_indices(search)
    Indexer(search, Spool(tmp_path / "spool"), refresh=True).index_articles([
        {"id": f"a{n}", "title": f"Lucid Gravity deliveries {n}", "source": "electrek", "story_id": "s1",
         "published_at": "2025-03-01T00:00:00Z", "content_hash": str(n)} for n in range(3)])
    yield search
    indices.drop_all(search)


@pytest.mark.engine
def test_search_table_and_json(app, seeded):
    runner = CliRunner()
    res = runner.invoke(app, ["search", "lucid deliveries"])
    assert res.exit_code == 0, res.output
    assert "Lucid Gravity" in res.output and "s1" in res.output
    assert "1 stories, 3 articles match" in res.output
    res = runner.invoke(app, ["search", "lucid", "--limit", "1", "--exact"])
    assert res.exit_code == 0 and "1 stories, 3 articles match" in res.output
    res = runner.invoke(app, ["search", "lucid", "--json", "--source", "electrek"])
    lines = [json.loads(line) for line in res.output.splitlines()]
    assert [(x["story_id"], x["member_count"]) for x in lines] == [("s1", 3)]
    res = runner.invoke(app, ["search", "lucid", "--since", "last week"])
    assert res.exit_code == 2 and "not a date" in res.output


@pytest.mark.engine
def test_status_migrate_replay(app, seeded, index_prefix, tmp_path):
    runner = CliRunner()
    res = runner.invoke(app, ["status"])
    assert res.exit_code == 0 and "(3)" in res.output and "current" in res.output
    res = runner.invoke(app, ["migrate", "--index", "articles"])
    if seeded.reindex_available():
        assert res.exit_code == 0 and "3 copied" in res.output
    else:  # the minimal Elasticsearch build: refused up front, with the reason, and nothing moved
        message = " ".join(res.output.split())  # rich wraps the line
        assert res.exit_code == 2 and "has no _reindex" in message and "nothing was changed" in message
        assert list(seeded.get_alias(f"{index_prefix}articles")) == [f"{index_prefix}articles-v1"]
        assert list(seeded.list_indices(f"{index_prefix}articles-*")) == [f"{index_prefix}articles-v1"]
    Spool(tmp_path / "spool").append("articles", [{"id": "late", "title": "spooled", "content_hash": "x"}])
    res = runner.invoke(app, ["replay"])
    assert res.exit_code == 0 and "replayed 1 documents" in res.output
    assert seeded.get(f"{index_prefix}articles", "late")


def test_engine_down_is_a_message_not_a_traceback(app, monkeypatch, tmp_path):
    monkeypatch.setenv("AGGREGATOR_VAR", str(tmp_path))
    res = CliRunner().invoke(app, ["status", "--url", "http://127.0.0.1:9"])
    assert res.exit_code == 2 and "no search engine answers" in res.output


def _summary(output: str) -> dict[str, str]:
    """The summary table's rows: label -> count."""
    rows = [[c.strip() for c in line.strip("│ ").split("│")] for line in output.splitlines()
            if line.count("│") == 3]
    return {label.split(" (")[0].split(": ")[-1]: value for label, value in rows}


@pytest.mark.engine
def test_load_streams_a_file_and_names_what_it_skips(app, seeded, index_prefix, tmp_path):
    articles = [{"id": f"load-{n}", "url": f"https://cleantechnica.com/2025/03/0{n % 9 + 1}/post-{n}/",
                 "title": f"Sodium-ion cells ship {n}", "body": "CATL starts deliveries.", "source": "cleantechnica",
                 "published_at": "2025-03-02T08:00:00Z", "content_hash": f"h{n}", "version": 1}
                for n in range(120)]
    lines = [json.dumps(a) for a in articles[:60]] + ["{not json", "", "[1, 2]"]
    lines += [json.dumps({"file": "x.html", "error": "not_article", "message": "home page, not an article"})]
    lines += [json.dumps(a) for a in articles[60:]] + [json.dumps(dict(articles[0], id="load-bad",
                                                                       published_at="next spring"))]
    path = tmp_path / "articles.jsonl"
    path.write_bytes("\n".join(lines).encode() + b"\n\xff\xfe broken bytes\n")
    runner = CliRunner()
    res = runner.invoke(app, ["load", str(path), "--chunk-size", "25"], env={"COLUMNS": "200"})
    assert res.exit_code == 1, res.output  # lines were skipped and one article rejected
    assert f"{path}:61: invalid JSON" in res.stderr and f"{path}:63: not a JSON object" in res.stderr
    assert f"{path}:126: invalid JSON" in res.stderr and "x.html" not in res.stderr
    row = _summary(res.stdout)
    assert (row["lines read"], row["not JSON objects"], row["not articles"], row["new"], row["rejected"],
            row["spooled"]) == ("125", "3", "1", "120", "1", "0")
    assert seeded.count(f"{index_prefix}articles") == 3 + 120  # bulk_load refreshed at the end
    dead = Spool(tmp_path / "spool").read_dead_letters(Spool(tmp_path / "spool").dead_letter_files()[0])
    assert [d["id"] for _, d, _ in dead] == ["load-bad"]
    # loading the same file again writes nothing: every article is unchanged
    path.write_text("\n".join(json.dumps(a) for a in articles) + "\n")
    res = runner.invoke(app, ["load", str(path)], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert (_summary(res.stdout)["new"], _summary(res.stdout)["unchanged"]) == ("0", "120")
    res = runner.invoke(app, ["load", str(tmp_path / "missing.jsonl")])
    assert res.exit_code == 2 and "no such file" in res.output
