"""``extract_command`` driven through a throwaway typer app, as the real CLI mounts it."""

from __future__ import annotations

import gzip
import json
import shutil
from datetime import datetime, timezone
from pathlib import Path

import typer
from typer.testing import CliRunner

from aggregator.archive import PageArchive
from aggregator.extract.cli import extract_command

WEB = Path(__file__).parent / "fixtures" / "web"
TC = WEB / "techcrunch/2026/11/19/rivian-spins-out-software-unit-rivian-systems/index.html"


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command()(extract_command)
    return app


def test_single_file_prints_pretty_json_with_canonical_from_page():
    result = CliRunner().invoke(_app(), [str(TC)])
    assert result.exit_code == 0, result.output
    article = json.loads(result.output)
    assert article["canonical_url"] == "https://techcrunch.com/2026/11/19/rivian-spins-out-software-unit-rivian-systems/"
    assert article["source"] == "techcrunch"


def test_folder_gives_one_json_line_per_file_and_exit_1_on_failures(tmp_path):
    shutil.copy(TC, tmp_path / "rivian.html")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "lucid.html.gz").write_bytes(
        gzip.compress((WEB / "electrek/2026/11/22/lucid-gravity-x-specs-price-range/index.html").read_bytes()))
    (tmp_path / "sub" / "listing.htm").write_bytes((WEB / "electrek/guides/tesla/index.html").read_bytes())
    (tmp_path / "notes.txt").write_text("ignored")
    result = CliRunner().invoke(_app(), [str(tmp_path), "--source", "electrek"])
    assert result.exit_code == 1
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert len(lines) == 3 and all("file" in line for line in lines)
    errors = [line for line in lines if "error" in line]
    assert len(errors) == 1 and errors[0]["error"] == "not_article" and errors[0]["file"].endswith("listing.htm")
    titles = {line["title"] for line in lines if "title" in line}
    assert any(t.startswith("Lucid Gravity X") for t in titles)


def test_url_option_and_file_url_fallback(tmp_path):
    html = (WEB / "d1ev/news/qiye/215432").read_bytes()  # no canonical link in the page
    (tmp_path / "a.html").write_bytes(html)
    result = CliRunner().invoke(_app(), [str(tmp_path / "a.html")])
    assert json.loads(result.output)["url"].startswith("file://")
    result = CliRunner().invoke(_app(), [str(tmp_path / "a.html"), "--url", "https://www.d1ev.com/news/qiye/215432"])
    article = json.loads(result.output)
    assert article["source"] == "d1ev" and article["language"] == "zh"


def test_from_archive_re_extracts_archived_responses(tmp_path):
    with PageArchive(tmp_path / "warc") as archive:
        archive.write("https://techcrunch.com/2026/11/19/rivian-spins-out-software-unit-rivian-systems/", 200,
                      {"Content-Type": "text/html; charset=utf-8"}, TC.read_bytes(),
                      datetime(2026, 11, 20, tzinfo=timezone.utc))
        archive.write("https://techcrunch.com/feed/", 200, {"Content-Type": "application/rss+xml"}, b"<rss/>",
                      datetime(2026, 11, 20, tzinfo=timezone.utc))
    result = CliRunner().invoke(_app(), ["--from-archive", str(tmp_path / "warc")])
    assert result.exit_code == 0, result.output
    (line,) = [json.loads(x) for x in result.output.splitlines()]
    assert line["fetched_at"] == "2026-11-20T00:00:00Z" and line["title"].startswith("Rivian spins out")
