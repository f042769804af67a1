"""Article extraction, usable without Scrapy: ``extract_article(html, url) -> dict``."""

from .article import extract_article
from .errors import ExtractionError

__all__ = ["ExtractionError", "extract_article"]
