"""Serve mapped hosts from a local server while every URL the spider sees stays the production URL."""

from __future__ import annotations

from urllib.parse import urlsplit

from scrapy import Request
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.http import Response


class MappedHostsDownloadHandler(HTTP11DownloadHandler):
    """Scrapy's HTTP/1.1 handler, except for hosts in ``AGGREGATOR_HOST_MAP``.

    ``{"electrek.co": "http://127.0.0.1:8765/electrek"}`` fetches ``https://electrek.co/feed/`` from
    ``http://127.0.0.1:8765/electrek/feed/`` and returns the response under the original URL. With an
    empty map (production) it is exactly the stock handler.
    """

    def __init__(self, crawler) -> None:
        super().__init__(crawler)
        self.host_map: dict[str, str] = {
            host.lower(): base.rstrip("/") for host, base in crawler.settings.getdict("AGGREGATOR_HOST_MAP").items()
        }

    async def download_request(self, request: Request) -> Response:
        parts = urlsplit(request.url)
        base = self.host_map.get((parts.hostname or "").lower())
        if base is None:
            return await super().download_request(request)
        local_url = base + (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        response = await super().download_request(request.replace(url=local_url))
        return response.replace(url=request.url, request=request)
