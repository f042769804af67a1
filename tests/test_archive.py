"""WARC archive: what goes in comes back out, across rotated files."""

from __future__ import annotations

from datetime import datetime, timezone

from aggregator.archive import PageArchive, iter_archive


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
