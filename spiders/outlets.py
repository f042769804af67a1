"""One spider class per registry source, generated so that adding an outlet is a data change only."""

from __future__ import annotations

from aggregator.sources import load_sources
from spiders.news import NewsSpider


def _spider_class(source) -> type[NewsSpider]:
    class_name = "".join(part.capitalize() for part in source.name.split("_")) + "Spider"
    return type(
        class_name,
        (NewsSpider,),
        {"name": source.name, "source": source, "__module__": __name__,
         "__doc__": f"Crawl {source.title} ({', '.join(source.domains)})."},
    )


for _source in load_sources():
    _cls = _spider_class(_source)
    globals()[_cls.__name__] = _cls

del _source, _cls  # a second reference would make Scrapy list the last spider twice
