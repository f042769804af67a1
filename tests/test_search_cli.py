"""The search and index commands, mounted the way ``aggregator.cli`` mounts them, on the real engine."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from aggregator.search import cli, indices
from aggregator.search.indexer import Indexer
from aggregator.search.spool import Spool


@pytest.fixture
def app():
    app = typer.Typer()
    app.command("search")(cli.search_command)
    app.command("status")(cli.index_status_command)
    app.command("migrate")(cli.index_migrate_command)
    app.command("replay")(cli.index_replay_command)
    return app


@pytest.fixture
def seeded(search, engine, tmp_path, monkeypatch):
    monkeypatch.setenv("AGGREGATOR_SEARCH_URL", engine)
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
    assert res.exit_code == 0 and "3 copied" in res.output
    Spool(tmp_path / "spool").append("articles", [{"id": "late", "title": "spooled", "content_hash": "x"}])
    res = runner.invoke(app, ["replay"])
    assert res.exit_code == 0 and "replayed 1 documents" in res.output
    assert seeded.get(f"{index_prefix}articles", "late")


def test_engine_down_is_a_message_not_a_traceback(app, monkeypatch, tmp_path):
    monkeypatch.setenv("AGGREGATOR_VAR", str(tmp_path))
    res = CliRunner().invoke(app, ["status", "--url", "http://127.0.0.1:9"])
    assert res.exit_code == 2 and "no search engine answers" in res.output
