"""Raw page archive: every fetched response as a gzip-compressed WARC record.

Keeping the raw bytes lets us re-run a better extractor over past crawls without re-fetching
(sites change or vanish), and WARC is the format every web-archiving tool already reads.

Each record is its own gzip member (what warcio writes and every WARC reader expects), compressed at
zlib level 6 rather than warcio's 9: on news HTML, level 9 took 1.5x the time for under 1 % less
space (measured: 5.8 vs 3.8 ms for a 127 KB page). A crawl writes through :class:`BackgroundArchive`,
so compressing and hashing (both release the GIL) happen beside the reactor thread, not on it.
"""

from __future__ import annotations

import io
import logging
import queue
import threading
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

logger = logging.getLogger(__name__)

#: zlib level of each record's gzip member (see the module docstring)
GZIP_LEVEL = 6

_REASONS = {200: "OK", 301: "Moved Permanently", 302: "Found", 304: "Not Modified", 404: "Not Found",
            410: "Gone", 500: "Internal Server Error", 503: "Service Unavailable"}


@dataclass(frozen=True)
class ArchivedPage:
    url: str
    status: int
    headers: dict[str, str]
    body: bytes
    fetched_at: datetime


def _header_items(headers: Mapping) -> list[tuple[str, str]]:
    """Flatten str/bytes/list header values (Scrapy's Headers included) to WARC header pairs."""
    items = []
    for key, value in headers.items():
        k = key.decode("latin-1") if isinstance(key, bytes) else str(key)
        values = value if isinstance(value, (list, tuple)) else [value]
        for v in values:
            items.append((k, v.decode("latin-1") if isinstance(v, bytes) else str(v)))
    return items


class PageArchive:
    """Appends response records to ``pages-YYYYMMDD-HHMMSS-N.warc.gz``, rotating at ``max_bytes``."""

    def __init__(self, directory: Path, max_bytes: int = 100 * 1024 * 1024, level: int = GZIP_LEVEL) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.max_bytes = max_bytes
        self.level = level
        self._file: io.BufferedWriter | None = None
        # records are serialised uncompressed into this buffer, then gzipped as one member each
        self._record = io.BytesIO()
        self._writer = WARCWriter(self._record, gzip=False)
        self._counter = 0
        self.paths: list[Path] = []

    def _open(self) -> None:
        stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
        while True:
            self._counter += 1
            path = self.directory / f"pages-{stamp}-{self._counter}.warc.gz"
            try:
                # exclusive create: two crawls sharing a var folder (scrapyd runs jobs in parallel) may
                # pick the same name in the same second; an exists-then-open check let both append to it
                self._file = open(path, "xb")  # noqa: SIM115 - kept open across writes on purpose
            except FileExistsError:
                continue
            break
        self.paths.append(path)

    def write(self, url: str, status: int, headers: Mapping, body: bytes, fetched_at: datetime) -> None:
        """Append one response record (the body is stored as received, already decompressed)."""
        if self._file is not None and self._file.tell() >= self.max_bytes:
            self._close_file()
        if self._file is None:
            self._open()
        assert self._file is not None
        if fetched_at.tzinfo is None:
            fetched_at = fetched_at.replace(tzinfo=timezone.utc)
        pairs = [(k, v) for k, v in _header_items(headers)
                 if k.lower() not in ("content-length", "transfer-encoding", "content-encoding")]
        pairs.append(("Content-Length", str(len(body))))
        http_headers = StatusAndHeaders(f"{status} {_REASONS.get(status, 'Unknown')}", pairs,
                                        protocol="HTTP/1.1")
        warc_date = fetched_at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        record = self._writer.create_warc_record(
            url, "response", payload=io.BytesIO(body), http_headers=http_headers,
            warc_headers_dict={"WARC-Date": warc_date},
        )
        self._record.seek(0)
        self._record.truncate()
        self._writer.write_record(record)
        gz = zlib.compressobj(self.level, zlib.DEFLATED, zlib.MAX_WBITS | 16)
        with self._record.getbuffer() as raw:
            self._file.write(gz.compress(raw) + gz.flush())
        self._file.flush()

    def _close_file(self) -> None:
        if self._file is not None:
            self._file.close()
        self._file = None

    def close(self) -> None:
        self._close_file()

    def __enter__(self) -> PageArchive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class BackgroundArchive:
    """A :class:`PageArchive` written by a thread of its own.

    :meth:`submit` queues a page and returns; it blocks only while ``depth`` pages wait (the disk or
    the CPU cannot keep up), which bounds the memory held to ``depth`` pages. :meth:`drain` returns once
    every page submitted so far is written (or has failed): a crawl drains before it records articles
    as done, so a crawl killed at any moment has archived every page it will not fetch again.
    ``written`` and ``failed`` count the pages; a failure (a full disk) is logged once per reason and
    never stops the crawl.
    """

    def __init__(self, archive: PageArchive, depth: int = 32) -> None:
        self.archive = archive
        self.written = 0
        self.failed = 0
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._reported: set[str] = set()
        self._thread = threading.Thread(target=self._run, name="page-archive", daemon=True)
        self._thread.start()

    def submit(self, url: str, status: int, headers: Mapping, body: bytes, fetched_at: datetime) -> None:
        if not self._thread.is_alive():
            raise RuntimeError("the page archive is closed")
        self._queue.put((url, status, headers, body, fetched_at))

    def drain(self) -> None:
        self._queue.join()

    def close(self) -> None:
        """Write what is queued, stop the thread and close the file."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()
        self.archive.close()

    def _run(self) -> None:
        while True:
            page = self._queue.get()
            try:
                if page is None:
                    return
                self.archive.write(*page)
                self.written += 1
            except Exception as exc:  # noqa: BLE001 - the page is still crawled; only its raw copy is lost
                self.failed += 1
                errno = getattr(exc, "errno", None)
                reason = type(exc).__name__ if errno is None else f"errno {errno}"
                level = logging.WARNING if reason not in self._reported else logging.DEBUG
                self._reported.add(reason)
                logger.log(level, "could not archive %s: %s%s", page[0], exc,
                           "" if level == logging.DEBUG else " [further cases are logged at DEBUG]")
            finally:
                self._queue.task_done()


def _parse_warc_date(value: str | None) -> datetime:
    if not value:
        return datetime.fromtimestamp(0, timezone.utc)
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def iter_archive(path: Path) -> Iterator[ArchivedPage]:
    """Every response record of a WARC file, or of all ``*.warc``/``*.warc.gz`` under a folder."""
    path = Path(path)
    files = sorted(p for p in path.rglob("*") if p.name.endswith((".warc", ".warc.gz"))) if path.is_dir() else [path]
    for file in files:
        with open(file, "rb") as stream:
            for record in ArchiveIterator(stream):
                if record.rec_type != "response":
                    continue
                http = record.http_headers
                status = int(http.get_statuscode()) if http else 0
                headers = dict(http.headers) if http else {}
                yield ArchivedPage(
                    url=record.rec_headers.get_header("WARC-Target-URI"),
                    status=status,
                    headers=headers,
                    body=record.content_stream().read(),
                    fetched_at=_parse_warc_date(record.rec_headers.get_header("WARC-Date")),
                )
