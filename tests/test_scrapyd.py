"""The README's scrapyd recipe, for real: a scrapyd on a free loopback port, ``scrapyd-deploy local``
from a copy of the project's tracked files (what a fresh clone has), two spiders scheduled through
``schedule.json`` against the offline web, waited for through ``listjobs.json``, their articles found
clustered (through a shared Redis store) and indexed in the test engine.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path

import pytest

from aggregator.fixtureweb import FixtureWeb

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
EXPECTED = ROOT / "tests" / "fixtures" / "expected" / "clusters.json"
SPIDERS = ("carnewschina", "cnevpost")  # they carry copies of one wire story (one dup_id across two jobs)
pytestmark = [pytest.mark.engine, pytest.mark.redis]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _api(base: str, path: str, data: list[tuple[str, str]] | None = None) -> dict:
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    with urllib.request.urlopen(base + path, data=body, timeout=30) as resp:
        return json.loads(resp.read())


def _fresh_copy(dest: Path) -> Path:
    """The project's tracked files only (a clean clone), without the tests' fixture web."""
    try:
        files = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z"], check=True, capture_output=True
                               ).stdout.decode().split("\0")
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("git ls-files unavailable: cannot build a clean copy of the project")
    for rel in filter(None, files):
        if rel.startswith(("tests/", "benchmarks/", "docs/")) or not (ROOT / rel).is_file():
            continue
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, dest / rel)
    return dest


@pytest.fixture
def scrapyd(tmp_path, engine, redis_url, index_prefix):
    """A real scrapyd (this venv's) in a temp dir; yields its base URL, the job's env and its home."""
    if not (BIN / "scrapyd").exists() or not (BIN / "scrapyd-deploy").exists():
        pytest.skip("scrapyd / scrapyd-client not installed (pip install -e .[scrapyd])")
    port = _free_port()
    home = tmp_path / "scrapyd"
    home.mkdir()
    (home / "scrapyd.conf").write_text(
        "[scrapyd]\n"
        f"bind_address = 127.0.0.1\nhttp_port = {port}\n"
        "eggs_dir = eggs\nlogs_dir = logs\ndbs_dir = dbs\nitems_dir =\n"
        "max_proc = 2\npoll_interval = 0.5\n"
    )
    env = {**os.environ, "AGGREGATOR_SEARCH_URL": engine, "AGGREGATOR_INDEX_PREFIX": index_prefix,
           "AGGREGATOR_DEDUP_STORE": f"{redis_url}?prefix={index_prefix}dedup", "PYTHONUNBUFFERED": "1"}
    log = (home / "scrapyd.out").open("wb")
    proc = subprocess.Popen([str(BIN / "scrapyd")], cwd=home, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(200):
            try:
                if _api(base, "daemonstatus.json")["status"] == "ok":
                    break
            except OSError:
                time.sleep(0.1)
            if proc.poll() is not None:
                pytest.fail(f"scrapyd exited: {(home / 'scrapyd.out').read_text()[-2000:]}")
        else:
            pytest.fail("scrapyd did not answer")
        yield base, home
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def test_deploy_schedule_and_find_articles_clustered_and_indexed(scrapyd, search, tmp_path):
    from aggregator.cli import offline_overrides
    from aggregator.search.indices import alias_name

    base, home = scrapyd
    project = _fresh_copy(tmp_path / "clone")
    cfg = project / "scrapy.cfg"
    assert "[deploy:local]" in cfg.read_text()
    cfg.write_text(cfg.read_text().replace("http://127.0.0.1:6800/", base))
    # the README's command, verbatim (only the port differs)
    deploy = subprocess.run([str(BIN / "scrapyd-deploy"), "local", "-p", "aggregator"], cwd=project,
                            env={**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"},
                            capture_output=True, text=True, timeout=300)
    assert deploy.returncode == 0, deploy.stdout + deploy.stderr
    assert json.loads(deploy.stdout)["status"] == "ok", deploy.stdout
    assert set(SPIDERS) <= set(_api(base, "listspiders.json?project=aggregator")["spiders"])

    # the egg scrapyd keeps carries the data files the package reads at run time
    eggs = list((home / "eggs" / "aggregator").glob("*.egg"))
    assert len(eggs) == 1, eggs
    names = set(zipfile.ZipFile(eggs[0]).namelist())
    for needed in ("aggregator/sources.toml", "aggregator/engine/pom.xml", "aggregator/review/templates/story.html",
                   "aggregator/review/static/review.css", "spiders/news.py", "pipelines/dedup.py"):
        assert needed in names, needed
    assert "settings = aggregator.settings" in zipfile.ZipFile(eggs[0]).read("EGG-INFO/entry_points.txt").decode()

    with FixtureWeb() as web:
        settings = {**offline_overrides(web.host_map())}
        jobs = {}
        for spider in SPIDERS:
            data = [("project", "aggregator"), ("spider", spider),
                    # jobs run side by side: each keeps its crawl state, spool and archive in its own folder
                    ("setting", f"AGGREGATOR_VAR={tmp_path / ('var-' + spider)}")]
            data += [("setting", f"{k}={json.dumps(v) if isinstance(v, dict) else v}") for k, v in settings.items()]
            answer = _api(base, "schedule.json", data)
            assert answer["status"] == "ok", answer
            jobs[answer["jobid"]] = spider
        deadline = time.monotonic() + 240
        while True:
            listed = _api(base, "listjobs.json?project=aggregator")
            finished = {j["id"] for j in listed["finished"]}
            if set(jobs) <= finished:
                break
            assert time.monotonic() < deadline, listed
            time.sleep(0.5)

    scraped: dict[str, int] = {}
    for job, spider in jobs.items():
        text = (home / "logs" / "aggregator" / spider / f"{job}.log").read_text(encoding="utf-8")
        assert "Spider closed (finished)" in text, text[-3000:]
        assert "Traceback" not in text, text[-3000:]
        scraped[spider] = int(re.search(r"'item_scraped_count': (\d+)", text).group(1))
        assert scraped[spider] >= 2, text[-3000:]

    search.refresh(alias_name("articles"))
    articles = {d["_source"]["canonical_url"]: d["_source"] for d in search.scan(alias_name("articles"))}
    by_source: dict[str, int] = {}
    for a in articles.values():
        by_source[a["source"]] = by_source.get(a["source"], 0) + 1
    assert by_source == scraped
    # the two jobs clustered into one shared state: the wire copies on both outlets share dup and story ids
    labels = json.loads(EXPECTED.read_text())
    wire = [u for u, lab in labels.items() if lab["dup"] == "W-xiaomi-europe" and u in articles]
    assert {articles[u]["source"] for u in wire} == set(SPIDERS), wire
    assert len({articles[u]["dup_id"] for u in wire}) == 1
    assert len({articles[u]["story_id"] for u in wire}) == 1
    # and distinct stories stay apart
    others = {articles[u]["story_id"] for u, lab in labels.items()
              if u in articles and lab["story"] != "W-xiaomi-europe"}
    assert articles[wire[0]]["story_id"] not in others
