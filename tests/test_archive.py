"""WARC archive: what goes in comes back out, across rotated files."""

from __future__ import annotations

import gzip
import logging
import shutil
from datetime import datetime, timezone

from warcio.archiveiterator import ArchiveIterator

from aggregator.archive import BackgroundArchive, PageArchive, iter_archive


def test_round_trip_and_rotation(tmp_path):
    when = datetime(2026, 11, 20, 8, 30, 15, tzinfo=timezone.utc)
    pages = [(f"https://electrek.co/2026/11/20/story-{i}/", ("é" * 3000 + str(i)).encode("cp1252")) for i in range(4)]
    with PageArchive(tmp_path, max_bytes=300) as archive:
        for url, body in pages:
            archive.write(url, 200, {"Content-Type": "text/html; charset=windows-1252", "X-Cache": [b"HIT"]},
                          body, when)
    files = sorted(tmp_path.glob("pages-*.warc.gz"))
    assert len(files) >= 2  # rotated
    assert all(f.name.startswith("pages-") and f.name.endswith(".warc.gz") for f in files)
    got = list(iter_archive(tmp_path))
    assert [(p.url, p.body) for p in got] == pages
    assert got[0].status == 200 and got[0].fetched_at == when
    assert got[0].headers["Content-Type"] == "text/html; charset=windows-1252"
    assert list(iter_archive(files[0]))[0].url == pages[0][0]


def test_non_200_status_is_kept(tmp_path):
    archive = PageArchive(tmp_path)
    archive.write("https://x.example/gone", 404, {}, b"", datetime(2026, 11, 1))
    archive.close()
    (page,) = iter_archive(tmp_path)
    assert page.status == 404 and page.body == b"" and page.fetched_at.tzinfo is not None


def test_every_record_is_its_own_gzip_member_that_other_readers_read(tmp_path):
    body = b"<html><body><p>" + b"Sodium-ion cells in cold weather. " * 2000 + b"</p></body></html>"
    with PageArchive(tmp_path) as archive:
        for i in range(3):
            archive.write(f"https://electrek.co/{i}", 200, {"Content-Type": "text/html"}, body, datetime.now())
    (path,) = tmp_path.glob("*.warc.gz")
    assert len(path.read_bytes()) < len(body)  # compressed
    with open(path, "rb") as stream:  # warcio's reader, which requires one member per record
        records = [r for r in ArchiveIterator(stream) if r.rec_type == "response"]
        assert len(records) == 3
    assert gzip.decompress(path.read_bytes()).count(b"WARC/1.") == 3  # a plain gzip reader sees them too


def test_background_archive_writes_everything_submitted_by_drain_time(tmp_path):
    archive = BackgroundArchive(PageArchive(tmp_path), depth=4)
    pages = [(f"https://electrek.co/{i}", f"page {i}".encode() * 500) for i in range(25)]
    for url, body in pages:
        archive.submit(url, 200, {"Content-Type": "text/html"}, body, datetime.now(timezone.utc))
    archive.drain()
    assert archive.written == 25 and archive.failed == 0
    assert [(p.url, p.body) for p in iter_archive(tmp_path)] == pages  # in order, complete, before close
    archive.close()


def test_background_archive_counts_a_failing_disk_and_logs_it_once(tmp_path, caplog):
    directory = tmp_path / "archive"
    archive = BackgroundArchive(PageArchive(directory))
    shutil.rmtree(directory)  # the file is opened on the first page: every write now fails
    with caplog.at_level(logging.DEBUG, logger="aggregator.archive"):
        for i in range(3):
            archive.submit(f"https://electrek.co/{i}", 200, {}, b"x", datetime.now(timezone.utc))
        archive.drain()
    assert (archive.written, archive.failed) == (0, 3)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "could not archive https://electrek.co/0" in warnings[0].getMessage()
    directory.mkdir()  # the disk is back: the next page is archived
    archive.submit("https://electrek.co/ok", 200, {}, b"fine", datetime.now(timezone.utc))
    archive.close()
    assert [p.url for p in iter_archive(directory)] == ["https://electrek.co/ok"]
