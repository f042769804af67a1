"""Times in the outlet's zone: zone-less times and the zone's own abbreviations, offsets always winning.

The date strings are the shapes the outlets we crawl print (d1ev's "2026-11-18 09:14" and
"2026年11月18日", electrive's "Apr 7, 2022 - 11:15 am" and electrive.net's "18.11.2026 – 09:14 Uhr",
US outlets' "9:14 AM EST" / "at 9:14am ET", WordPress meta with "+00:00").
"""

from __future__ import annotations

import json
import warnings

import pytest
import typer
from typer.testing import CliRunner

from aggregator.extract import extract_article
from aggregator.extract.cli import extract_command
from aggregator.extract.dates import parse_date, to_utc_iso
from aggregator.sources import SourceConfigError, get_source, load_sources


def utc(raw: str, zone: str | None) -> str | None:
    parsed = parse_date(raw, zone)
    return to_utc_iso(parsed.value) if parsed else None


@pytest.mark.parametrize("raw, zone, expected", [
    # China: zone-less and "CST" are Beijing time
    ("2026-11-18 09:14", "Asia/Shanghai", "2026-11-18T01:14:00Z"),
    ("2026年11月18日 09:14", "Asia/Shanghai", "2026-11-18T01:14:00Z"),
    ("Nov 18, 2026 9:14 AM CST", "Asia/Shanghai", "2026-11-18T01:14:00Z"),
    ("2026-11-18T09:14:00+00:00", "Asia/Shanghai", "2026-11-18T09:14:00Z"),  # stated offset wins
    # Germany: day-first dotted dates, German month names, CET/CEST by season
    ("18.11.2026 – 09:14 Uhr", "Europe/Berlin", "2026-11-18T08:14:00Z"),
    ("05.11.2026, 09:14 Uhr", "Europe/Berlin", "2026-11-05T08:14:00Z"),
    ("3. März 2026 um 14:05 Uhr", "Europe/Berlin", "2026-03-03T13:05:00Z"),
    ("Apr 7, 2022 - 11:15 am", "Europe/Berlin", "2022-04-07T09:15:00Z"),
    # US: named zones and "ET" with daylight saving
    ("November 18, 2026 9:14 AM EST", "America/New_York", "2026-11-18T14:14:00Z"),
    ("Jul 4 2026 at 9:14am ET", "America/New_York", "2026-07-04T13:14:00Z"),
    ("Nov 18, 2026 9:14 AM CST", "America/New_York", "2026-11-18T15:14:00Z"),  # US Central there
    ("2026-07-04 09:14", "America/Los_Angeles", "2026-07-04T16:14:00Z"),
    # other ambiguous abbreviations: the zone's own reading first, else the common one
    ("November 18, 2026 9:14 AM IST", "America/New_York", "2026-11-18T03:44:00Z"),
    ("July 18, 2026 9:14 AM IST", "Europe/Dublin", "2026-07-18T08:14:00Z"),
    ("July 18, 2026 9:14 AM BST", "Europe/London", "2026-07-18T08:14:00Z"),
    # no outlet zone: zone-less is UTC, as before
    ("2026-11-18 09:14", None, "2026-11-18T09:14:00Z"),
    # a date without a time keeps its day whatever the zone
    ("2026-11-18", "Asia/Shanghai", "2026-11-18T00:00:00Z"),
])
def test_times_are_read_in_the_outlets_zone(raw, zone, expected):
    assert utc(raw, zone) == expected


def test_zone_provenance_and_unknown_zone_names_do_not_warn():
    assert parse_date("2026-11-18 09:14", "Asia/Shanghai").offset == "+08:00"
    assert parse_date("2026-11-18 09:14", "Asia/Shanghai").zone == "outlet"
    assert parse_date("2026-11-18 09:14", None).offset is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # dateutil's UnknownTimezoneWarning would raise here
        parsed = parse_date("November 18, 2026 9:14 AM XYZT", "Asia/Shanghai")
    assert parsed.zone == "unknown_zone" and to_utc_iso(parsed.value) == "2026-11-18T01:14:00Z"
    assert parse_date("vor 3 Stunden", "Europe/Berlin") is None


def test_registry_zones_and_validation(tmp_path):
    assert get_source("cnevpost").timezone == "Asia/Shanghai"
    assert get_source("carnewschina").timezone == "Asia/Shanghai"
    assert get_source("d1ev").timezone == "Asia/Shanghai"
    assert get_source("electrive_de").timezone == "Europe/Berlin"
    assert get_source("electrek").timezone == "America/New_York"
    path = tmp_path / "sources.toml"
    path.write_text('[[source]]\nname = "a"\ntitle = "x"\ndomains = ["a.com"]\nlanguage = "en"\n'
                    'timezone = "Asia/Beijing"\n')
    with pytest.raises(SourceConfigError, match="IANA"):
        load_sources(path)


_PAGE = """<html lang="{lang}"><head><title>{title}</title>
<meta property="og:type" content="article"><link rel="canonical" href="{url}"></head><body>
<article><h1>{title}</h1><div class="meta"><span class="time">{shown}</span></div>
{paras}</article></body></html>"""


def _page(url: str, shown: str, meta: str = "", lang: str = "en") -> bytes:
    para = ("<p>The maker said deliveries of the new model will start next month in several provinces, "
            "with a battery pack supplied by a local cell maker and a range of about 600 kilometres.</p>")
    html = _PAGE.format(lang=lang, title="Maker starts deliveries of its new electric sedan", url=url,
                        shown=shown, paras=para * 4)
    return html.replace("</head>", meta + "</head>").encode()


def test_extract_reads_a_d1ev_meta_time_in_beijing_time():
    url = "https://www.d1ev.com/news/qiye/281234"
    meta = '<meta name="publishdate" content="2026-11-18 09:14:00">'
    article = extract_article(_page(url, "2026-11-18 09:14", meta), url, source="d1ev")
    assert article["published_at"] == "2026-11-18T01:14:00Z"
    assert article["published_offset"] == "+08:00"
    # the same page with no registry zone: read as UTC (the old behaviour)
    plain = extract_article(_page(url, "2026-11-18 09:14", meta), url, source="d1ev", zone="UTC")
    assert plain["published_at"] == "2026-11-18T09:14:00Z"


def test_unreadable_stated_date_is_flagged():
    url = "https://cnevpost.com/2026/11/18/maker-starts-deliveries/"
    meta = '<meta property="article:published_time" content="soon, very soon">'
    article = extract_article(_page(url, "", meta), url, source="cnevpost")
    assert "date_unreadable" in article["flags"]
    assert article["published_at"] == "2026-11-18T00:00:00Z"  # fell back to the URL's day


def test_cli_source_zone_and_no_warning_on_stderr(tmp_path):
    url = "https://cnevpost.com/2026/11/18/maker-starts-deliveries/"
    (tmp_path / "cst.html").write_bytes(
        _page(url, "", '<meta name="pubdate" content="Nov 18, 2026 9:14 AM CST">'))
    (tmp_path / "odd.html").write_bytes(
        _page(url.replace("deliveries", "odd"), "", '<meta name="pubdate" content="Nov 18, 2026 9:14 AM XYZT">'))
    app = typer.Typer()
    app.command()(extract_command)
    result = CliRunner().invoke(app, [str(tmp_path), "--source", "cnevpost"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    by_file = {line["file"].rsplit("/", 1)[1]: line for line in lines}
    assert by_file["cst.html"]["published_at"] == "2026-11-18T01:14:00Z"
    assert "date_unknown_zone" in by_file["odd.html"]["flags"]
    assert "Warning" not in result.stderr
    assert "unknown zone: 1" in result.stderr
    bad = CliRunner().invoke(app, [str(tmp_path), "--source", "nope"])
    assert bad.exit_code == 2


def test_spider_reads_its_outlets_zone_and_counts_unreadable_and_unknown_zone_dates(tmp_path):
    import asyncio

    from scrapy.http import HtmlResponse, Request
    from scrapy.utils.test import get_crawler

    from spiders.outlets import ElectrekSpider

    crawler = get_crawler(ElectrekSpider, {"AGGREGATOR_VAR": str(tmp_path), "AGGREGATOR_EXTRACT_WORKERS": 0})
    spider = ElectrekSpider.from_crawler(crawler)
    crawler.spider = spider

    def parse(url: str, meta: str) -> list[dict]:
        request = Request(url, meta={"article": True, "hint_published": None})
        response = HtmlResponse(url, body=_page(url, "", meta), request=request,
                                headers={"Content-Type": "text/html; charset=utf-8"})

        async def collect():
            return [item async for item in spider.parse_article(response)]

        return asyncio.run(collect())

    try:
        base = "https://electrek.co/2026/11/18/maker-starts-deliveries"
        [plain] = parse(base + "/", '<meta name="pubdate" content="2026-11-18 09:14">')
        [odd] = parse(base + "-2/", '<meta name="pubdate" content="Nov 18, 2026 9:14 AM XYZT">')
        [bad] = parse(base + "-3/", '<meta property="article:published_time" content="sometime soon">')
    finally:
        spider._engine_stopped()
        spider._closed()
    assert plain["published_at"] == "2026-11-18T14:14:00Z"  # 09:14 in New York
    assert "date_unknown_zone" in odd["flags"] and "date_unreadable" in bad["flags"]
    stats = crawler.stats.get_stats()
    assert stats["extract/dates/unknown_zone"] == 1 and stats["extract/dates/unknown_zone/electrek"] == 1
    assert stats["extract/dates/unreadable"] == 1
