"""Search engine access: client adapter, index definitions, bulk indexing with spool, queries."""
