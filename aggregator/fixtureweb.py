"""The offline web: serve ``tests/fixtures/web/<source>/`` on 127.0.0.1 as if it were the outlets.

Spiders keep their production URLs (``https://electrek.co/...``). A download handler
(:class:`spiders.handlers.MappedHostsDownloadHandler`) sends requests for mapped hosts to this
server as ``http://127.0.0.1:PORT/<source>/<path>`` and hands the response back under the original
URL, so the spider code under test is the production code.

Serving rules (the fixture files are written for them):

- ``/<source>/<path>``: an empty path or one ending in ``/`` serves ``index.html``, else ``index.xml``;
  otherwise the exact file. Query strings are ignored.
- Content-Type from the extension; a sidecar ``<file>.headers.json`` (``{"status": 301, "headers":
  {...}}``) overrides status and headers (charsets, redirects, errors).
- Every 200 carries an ``ETag`` (hash of the bytes) and a fixed ``Last-Modified``; ``If-None-Match`` /
  ``If-Modified-Since`` get ``304 Not Modified`` so incremental crawling can be tested.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterable
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

DEFAULT_ROOT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "web"
# one fixed date: git checkouts reset mtimes, and a changing Last-Modified would defeat the 304 tests
LAST_MODIFIED = 1763942400  # 2025-11-24T00:00:00Z

CONTENT_TYPES = {
    ".html": "text/html",
    ".htm": "text/html",
    ".xml": "application/xml",
    ".rss": "application/rss+xml",
    ".atom": "application/atom+xml",
    ".gz": "application/gzip",
    ".txt": "text/plain",
    ".json": "application/json",
    ".jpg": "image/jpeg",
    ".png": "image/png",
}


def resolve(root: Path, path: str) -> Path | None:
    """Map a request path to a fixture file under ``root``; None when there is none (404)."""
    rel = unquote(urlsplit(path).path).lstrip("/")
    target = (root / rel).resolve()
    if root.resolve() not in target.parents and target != root.resolve():
        return None  # path traversal
    if rel == "" or rel.endswith("/") or target.is_dir():
        for name in ("index.html", "index.xml"):
            candidate = target / name
            if candidate.is_file():
                return candidate
        return None
    return target if target.is_file() else None


class _Handler(BaseHTTPRequestHandler):
    server_version = "fixtureweb/1"
    root: Path

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - quiet: tests read stats, not logs
        pass

    def do_HEAD(self) -> None:  # noqa: N802
        self._serve(head=True)

    def do_GET(self) -> None:  # noqa: N802
        self._serve(head=False)

    def _serve(self, head: bool) -> None:
        file = resolve(self.root, self.path)
        if file is None or file.name.endswith(".headers.json"):
            self._send(404, {"Content-Type": "text/plain"}, b"not found\n", head)
            return
        body = file.read_bytes()
        status = 200
        headers = {"Content-Type": CONTENT_TYPES.get(file.suffix.lower(), "application/octet-stream")}
        sidecar = file.with_name(file.name + ".headers.json")
        if sidecar.exists():
            meta = json.loads(sidecar.read_text(encoding="utf-8"))
            status = int(meta.get("status", 200))
            headers.update(meta.get("headers", {}))
        if status == 200:
            etag = '"' + hashlib.sha1(body).hexdigest()[:20] + '"'
            headers.setdefault("ETag", etag)
            headers.setdefault("Last-Modified", formatdate(LAST_MODIFIED, usegmt=True))
            if self._not_modified(headers["ETag"]):
                self._send(304, {"ETag": headers["ETag"]}, b"", head=True)
                return
        self._send(status, headers, body, head)

    def _not_modified(self, etag: str) -> bool:
        inm = self.headers.get("If-None-Match")
        if inm is not None:
            return etag in [t.strip() for t in inm.split(",")] or inm.strip() == "*"
        ims = self.headers.get("If-Modified-Since")
        if ims:
            try:
                return parsedate_to_datetime(ims).timestamp() >= LAST_MODIFIED
            except (TypeError, ValueError):
                return False
        return False

    def _send(self, status: int, headers: dict, body: bytes, head: bool) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head and body:
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # a client that stops reading a huge page is not our problem


class FixtureWeb:
    """A threaded HTTP server over a fixture folder; ``with FixtureWeb() as web: web.url``."""

    def __init__(self, root: Path | None = None, port: int = 0) -> None:
        self.root = (root or DEFAULT_ROOT).resolve()
        handler = type("Handler", (_Handler,), {"root": self.root})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.httpd.daemon_threads = True
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FixtureWeb:
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="fixtureweb", daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> FixtureWeb:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def host_map(self, sources: Iterable | None = None) -> dict[str, str]:
        """``{host: base URL}`` for every domain of every source that has a fixture folder."""
        return host_map(self.url, self.root, sources)


def host_map(base_url: str, root: Path = DEFAULT_ROOT, sources: Iterable | None = None) -> dict[str, str]:
    """Map each source domain (and its ``www.`` form) to ``base_url/<source>`` when fixtures exist."""
    if sources is None:
        from aggregator.sources import load_sources

        sources = load_sources()
    mapping: dict[str, str] = {}
    for source in sources:
        if not (root / source.name).is_dir():
            continue
        for domain in source.domains:
            mapping[domain] = f"{base_url}/{source.name}"
            if not domain.startswith("www."):
                mapping["www." + domain] = f"{base_url}/{source.name}"
    return mapping
