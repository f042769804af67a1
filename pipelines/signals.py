"""Signals that make a crawl's progress durable in the right order.

``articles_indexed(items)``: the index pipeline sent these articles to the engine or to the on-disk
spool; they cannot be lost any more. The dedup pipeline then persists its clusters (at most every
``AGGREGATOR_CHECKPOINT_INTERVAL`` seconds, and at close) and sends ``articles_checkpointed(items)``,
on which the crawl state records their content hash and HTTP validators. A crawl killed at any point
therefore re-fetches exactly the articles whose outcome was not yet durable.
"""

articles_indexed = object()
articles_checkpointed = object()
