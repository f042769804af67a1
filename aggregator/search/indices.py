"""The three indices, their templates and aliases, and mapping migrations without downtime.

Everybody reads and writes through an alias (``{prefix}articles``, ``{prefix}stories``,
``{prefix}reviews``); behind each sits one versioned concrete index (``{prefix}articles-v3``) created from
an index template whose pattern is ``{prefix}articles-*``. Changing a mapping is then: create the next
version from the template, copy, move the alias, drop the old one -- readers never see a missing index.

Migration and concurrent writes (:func:`migrate`):

1. remember the start time ``t0``; the alias (and so every writer) stays on the old index;
2. ``_reindex`` old -> new with ``version_type: external``, so each copy keeps its document version;
3. switch the alias in one ``_aliases`` call (remove old + add new as write index): atomic for readers;
4. catch-up: ``_reindex`` again, only documents whose write timestamp (``indexed_at`` for articles,
   ``updated_at`` for stories, ``at`` for reviews) is ``>= t0 - skew``: whatever landed on the old index
   while step 2 ran. External versioning makes the copy skip documents the new index already has at the
   same or a newer version (updated after the switch), so the catch-up never overwrites newer writes;
5. delete the old index (unless ``keep_old``).

Templates carry no alias on purpose: a template alias would attach every new version to the alias and
leave it pointing at two indices during a migration, which makes writes fail.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from aggregator import config
from aggregator.search import mapping
from aggregator.search.client import SearchClient

logger = logging.getLogger(__name__)

KINDS: tuple[str, ...] = ("articles", "stories", "reviews")

#: the field each kind stamps at write time; the migration catch-up selects on it
WRITE_TIMESTAMP: dict[str, str] = {"articles": mapping.INDEXED_AT, "stories": "updated_at", "reviews": "at"}

MAPPINGS: dict[str, Callable[[], dict[str, Any]]] = {
    "articles": mapping.articles_mapping,
    "stories": mapping.stories_mapping,
    "reviews": mapping.reviews_mapping,
}

TEMPLATE_PRIORITY = 200  # above generic catch-all templates a cluster may carry
CLOCK_SKEW = timedelta(minutes=2)  # writers' clocks vs ours when selecting the catch-up window
#: ``index.refresh_interval`` during :meth:`~aggregator.search.indexer.Indexer.bulk_load` (refresh off);
#: ``ensure_indices`` takes it on a write index for the leftover of an interrupted load and undoes it
BULK_LOAD_REFRESH = "-1"

_VERSION = re.compile(r"-v(\d+)$")


class IndexStateError(RuntimeError):
    """An index is in a state we will not touch automatically; the message says what to do."""


def alias_name(kind: str, prefix: str | None = None) -> str:
    """The name everybody reads and writes: ``{prefix}{kind}``."""
    _check_kind(kind)
    return f"{config.index_prefix() if prefix is None else prefix}{kind}"


def concrete_name(kind: str, version: int, prefix: str | None = None) -> str:
    return f"{alias_name(kind, prefix)}-v{version}"


def template_body(kind: str, prefix: str | None = None, analysis: str = mapping.PER_LANGUAGE) -> dict[str, Any]:
    """The ``_index_template`` body for ``kind``: pattern, priority, settings and the current mapping
    (``analysis``: what :func:`mapping.probe_analysis` found on the cluster)."""
    return {
        "index_patterns": [f"{alias_name(kind, prefix)}-*"],
        "priority": TEMPLATE_PRIORITY,
        "template": {
            "settings": {
                "number_of_shards": 1,
                # one replica where there is a second node, none on the single local node (green health)
                "auto_expand_replicas": "0-1",
            },
            "mappings": MAPPINGS[kind](analysis=analysis),
        },
        "_meta": {"owner": "ev-news-aggregator", "kind": kind},
    }


@dataclass
class IndexState:
    """What ``ensure_indices`` found or did for one kind."""

    kind: str
    alias: str
    index: str
    created: bool = False
    mapping_updated: bool = False
    stale: str | None = None  # why the live mapping differs from the template, if it does
    refresh_restored: bool = False  # refresh was left off by an interrupted bulk load and is on again


def ensure_indices(client: SearchClient, kinds: Iterable[str] = KINDS) -> dict[str, IndexState]:
    """Create or update templates, create missing indices with their alias; safe to call at every start.

    An existing index gets additive mapping changes (a field added to ``items.FIELDS``) applied in place.
    Changes the engine refuses in place (a field's type) are reported in ``IndexState.stale`` and need
    ``aggregator index migrate``; writes keep working meanwhile, with unknown fields dead-lettered.
    """
    states = {}
    analysis = mapping.probe_analysis(client)
    for kind in kinds:
        alias = alias_name(kind)
        body = template_body(kind, analysis=analysis)
        client.put_index_template(alias, body)
        current = _alias_targets(client, alias)
        if not current:
            if client.index_exists(alias):
                raise IndexStateError(
                    f"{alias!r} is a concrete index, not an alias; reindex it into {alias}-v1 and delete it, "
                    "then run again"
                )
            name = concrete_name(kind, 1)
            created = _create(client, name, alias)
            states[kind] = IndexState(kind, alias, name, created=created)
            continue
        write_index = _write_index(current)
        state = IndexState(kind, alias, write_index)
        info = client.list_indices(write_index).get(write_index) or {}
        live = info.get("mappings") or {}
        if ((info.get("settings") or {}).get("index") or {}).get("refresh_interval") == BULK_LOAD_REFRESH:
            # a bulk load (Indexer.bulk_load) that never finished: make new documents searchable again
            client.put_settings(write_index, {"index.refresh_interval": None})
            state.refresh_restored = True
            logger.warning("refresh was off on %s (an interrupted bulk load?): turned back on", write_index)
        wanted = body["template"]["mappings"]
        if (live.get("_meta") or {}).get("schema") != wanted["_meta"]["schema"]:
            try:
                client.put_mapping(write_index, wanted)
                state.mapping_updated = True
                logger.info("applied mapping changes to %s in place", write_index)
            except client.ApiError as exc:
                state.stale = f"the mapping of {write_index} differs from the template ({_reason(exc)})"
                logger.warning("%s: run `aggregator index migrate --index %s`", state.stale, kind)
        states[kind] = state
    return states


def _create(client: SearchClient, name: str, alias: str) -> bool:
    try:
        client.create_index(name, {"aliases": {alias: {"is_write_index": True}}})
        return True
    except client.ApiError as exc:
        # another process (a parallel crawl, a test worker) created it a moment ago: that is fine
        if "resource_already_exists_exception" in str(exc):
            return False
        raise


def _alias_targets(client: SearchClient, alias: str) -> dict[str, dict]:
    """Concrete index -> alias properties, for the indices behind ``alias`` (empty if no such alias)."""
    found = client.get_alias(alias)
    return {index: (info.get("aliases") or {}).get(alias, {}) for index, info in found.items()
            if alias in (info.get("aliases") or {})}


def _write_index(targets: dict[str, dict]) -> str:
    if len(targets) == 1:
        return next(iter(targets))
    writers = [index for index, props in targets.items() if props.get("is_write_index")]
    if len(writers) != 1:
        raise IndexStateError(f"alias points at {sorted(targets)} without a single write index")
    return writers[0]


def _version_of(index: str) -> int:
    m = _VERSION.search(index)
    return int(m.group(1)) if m else 0


def _reason(exc: Exception) -> str:
    info = getattr(exc, "info", None) or getattr(exc, "body", None)
    if isinstance(info, dict):
        err = info.get("error") or {}
        if isinstance(err, dict):
            return f"{err.get('type')}: {err.get('reason')}"
    return str(exc)


# -- migration --------------------------------------------------------------------------------------------
@dataclass
class MigrationResult:
    kind: str
    old_index: str
    new_index: str
    copied: int = 0
    caught_up: int = 0
    deleted_old: bool = False
    seconds: float = 0.0
    failures: list[Any] = field(default_factory=list)


def check_migratable(client: SearchClient) -> None:
    """Raise :class:`IndexStateError` unless ``client``'s cluster can run :func:`migrate` (it copies with
    ``_reindex``, which the minimal Elasticsearch build lacks): asked before anything is touched."""
    if not client.reindex_available():
        raise IndexStateError(
            f"{client.flavor} {client.version} at {client.url} has no _reindex (no reindex module), so "
            "`aggregator index migrate` cannot copy the index; nothing was changed. Run it on a cluster with "
            "the reindex module (every standard Elasticsearch or OpenSearch distribution has it)"
        )


def migrate(client: SearchClient, kind: str, keep_old: bool = False, timeout: float = 3600.0,
            _between_copy_and_switch: Callable[[], None] | None = None) -> MigrationResult:
    """Move ``kind`` to a new concrete index built from the current template, without downtime.

    See the module docstring for why no write is lost. ``_between_copy_and_switch`` is a test hook that
    runs after the first copy, before the alias moves (where concurrent writes land on the old index).
    Raises :class:`IndexStateError` before touching anything on a cluster without ``_reindex``.
    """
    check_migratable(client)
    started = time.monotonic()
    alias = alias_name(kind)
    client.put_index_template(alias, template_body(kind, analysis=mapping.probe_analysis(client)))
    targets = _alias_targets(client, alias)
    if not targets:
        ensure_indices(client, [kind])
        targets = _alias_targets(client, alias)
    old = _write_index(targets)
    existing = client.list_indices(f"{alias}-v*")
    new_version = max([_version_of(name) for name in existing] + [_version_of(old)]) + 1
    new = concrete_name(kind, new_version)
    result = MigrationResult(kind, old, new)

    t0 = datetime.now(timezone.utc)
    client.create_index(new)  # settings and mappings come from the template
    copy = client.reindex({
        "conflicts": "proceed",
        "source": {"index": old},
        "dest": {"index": new, "version_type": "external"},
        # articles indexed before the language fields existed get them on the way
        **({"script": mapping.language_fields_script()} if kind == "articles" else {}),
    }, timeout=timeout)
    result.copied = int(copy.get("created", 0)) + int(copy.get("updated", 0))
    result.failures.extend(copy.get("failures") or [])
    if _between_copy_and_switch is not None:
        _between_copy_and_switch()

    actions: list[dict[str, Any]] = [{"remove": {"index": index, "alias": alias}} for index in targets]
    actions.append({"add": {"index": new, "alias": alias, "is_write_index": True}})
    client.update_aliases(actions)
    logger.info("alias %s now points at %s (was %s)", alias, new, old)

    client.refresh(old)  # make writes that raced the switch visible to the catch-up search
    since = (t0 - CLOCK_SKEW).isoformat()
    catch_up = client.reindex({
        "conflicts": "proceed",
        "source": {"index": old, "query": {"range": {WRITE_TIMESTAMP[kind]: {"gte": since}}}},
        "dest": {"index": new, "version_type": "external"},
        **({"script": mapping.language_fields_script()} if kind == "articles" else {}),
    }, timeout=timeout)
    result.caught_up = int(catch_up.get("created", 0)) + int(catch_up.get("updated", 0))
    result.failures.extend(f for f in catch_up.get("failures") or []
                           if (f.get("cause") or {}).get("type") != "version_conflict_engine_exception")
    if result.failures:
        logger.error("migration of %s: %d documents failed to copy; keeping %s", kind, len(result.failures), old)
    elif not keep_old:
        client.delete_index(old)
        result.deleted_old = True
    result.seconds = time.monotonic() - started
    return result


# -- status -----------------------------------------------------------------------------------------------
@dataclass
class KindStatus:
    kind: str
    alias: str
    indices: dict[str, int]  # concrete index -> doc count
    write_index: str | None
    template: bool
    stale: bool


def status(client: SearchClient) -> list[KindStatus]:
    """Aliases, the concrete indices behind and beside them, doc counts, and whether a migration is due."""
    out = []
    analysis = mapping.probe_analysis(client)
    for kind in KINDS:
        alias = alias_name(kind)
        indices = client.list_indices(f"{alias}-v*")
        targets = _alias_targets(client, alias)
        write = _write_index(targets) if targets else None
        counts = {name: client.count(name) for name in sorted(indices, key=_version_of)}
        wanted = MAPPINGS[kind](analysis=analysis)["_meta"]["schema"]
        live = ((indices.get(write) or {}).get("mappings") or {}).get("_meta", {}).get("schema") if write else None
        out.append(KindStatus(kind, alias, counts, write, client.get_index_template(alias) is not None,
                              stale=write is not None and live != wanted))
    return out


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown index kind {kind!r}: one of {', '.join(KINDS)}")


def drop_all(client: SearchClient, prefix: str | None = None) -> None:
    """Delete every index and template of this deployment (``prefix``): for tests and ``make clean``."""
    prefix = config.index_prefix() if prefix is None else prefix
    if not prefix:
        raise IndexStateError("refusing to drop the indices of the unprefixed deployment")
    for kind in KINDS:
        client.delete_index(f"{alias_name(kind, prefix)}-v*")
        client.delete_index_template(alias_name(kind, prefix))
