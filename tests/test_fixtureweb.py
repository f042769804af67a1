"""The offline web server: serving rules, sidecar headers, conditional requests."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from aggregator.fixtureweb import FixtureWeb


@pytest.fixture
def web(tmp_path):
    site = tmp_path / "outlet"
    (site / "feed").mkdir(parents=True)
    (site / "feed" / "index.xml").write_text("<rss/>")
    (site / "a.html").write_text("<html>hi</html>")
    (site / "moved.html").write_text("")
    (site / "moved.html.headers.json").write_text(
        json.dumps({"status": 301, "headers": {"Location": "https://elsewhere.example/"}}))
    with FixtureWeb(root=tmp_path) as server:
        yield server


def _get(url, headers=None):
    req = urllib.request.Request(url, headers=headers or {})
    opener = urllib.request.build_opener(NoRedirect)
    try:
        resp = opener.open(req)
        return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_directory_urls_serve_index_files(web):
    status, headers, body = _get(web.url + "/outlet/feed/")
    assert status == 200 and body == b"<rss/>"
    assert headers["Content-Type"] == "application/xml"


def test_sidecar_sets_status_and_headers(web):
    status, headers, _ = _get(web.url + "/outlet/moved.html")
    assert status == 301 and headers["Location"] == "https://elsewhere.example/"


def test_etag_gives_304_and_missing_file_404(web):
    status, headers, _ = _get(web.url + "/outlet/a.html?utm_source=x")
    assert status == 200
    status, _, body = _get(web.url + "/outlet/a.html", {"If-None-Match": headers["ETag"]})
    assert status == 304 and body == b""
    assert _get(web.url + "/outlet/nope.html")[0] == 404
    assert _get(web.url + "/../etc/passwd")[0] == 404


def test_host_map_covers_every_domain_with_fixtures(tmp_path):
    from aggregator.fixtureweb import host_map
    from aggregator.sources import load_sources

    sources = load_sources()
    (tmp_path / sources[0].name).mkdir()
    mapping = host_map("http://127.0.0.1:1", tmp_path, sources)
    assert mapping[sources[0].domains[0]] == f"http://127.0.0.1:1/{sources[0].name}"
    assert all(base.endswith(sources[0].name) for base in mapping.values())
