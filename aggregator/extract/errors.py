"""The one exception the extraction chain raises, carrying a stats-friendly reason."""

from __future__ import annotations


class ExtractionError(Exception):
    """A page could not be turned into an article.

    ``reason`` is a short snake_case key (``not_article``, ``empty_body``, ``undecodable``,
    ``malformed_html``, ``too_short``) so crawlers can count failures by cause without parsing
    messages; ``str(exc)`` is a one-line human explanation.
    """

    def __init__(self, reason: str, message: str | None = None) -> None:
        self.reason = reason
        super().__init__(message or reason.replace("_", " "))

    def __reduce__(self):
        # pickled with its reason (Exception pickles only ``args``, the message): extraction runs in
        # worker processes and the crawl counts the reason
        return type(self), (self.reason, str(self))
