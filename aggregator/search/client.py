"""One small adapter over the two official clients, chosen from what the server says it is.

elasticsearch-py refuses to talk to OpenSearch (product check) and wants its major version to match the
server's, so the adapter asks the server first (:func:`probe`: ``GET /``, else ``GET /_nodes/_local``) and
then builds ``opensearchpy.OpenSearch`` for OpenSearch 2.x/3.x or ``elasticsearch.Elasticsearch`` for
Elasticsearch 8.x/9.x. Everything above this module calls :class:`SearchClient` and never learns which one
it got; what a cluster can do beyond the core (``_reindex``, the language analyzers) it asks
:meth:`SearchClient.reindex_available` and :meth:`SearchClient.analysis_available`.

Request bodies are plain dicts in the REST API's shape (the same JSON the README's ``curl`` lines send):
OpenSearch takes them as ``body=``, elasticsearch-py 8/9 as top-level keyword arguments.
"""

from __future__ import annotations

import base64
import json
import logging
import ssl
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from aggregator import config

logger = logging.getLogger(__name__)


class SearchUnavailable(ConnectionError):
    """The engine did not answer: callers spool what they were about to write."""


@dataclass(frozen=True)
class Credentials:
    username: str | None = None
    password: str | None = None
    api_key: str | None = None  # Elasticsearch "id:key" or its base64 form
    ca_certs: str | None = None
    verify_certs: bool = True

    @classmethod
    def from_env(cls) -> Credentials:
        import os

        return cls(
            username=os.environ.get("AGGREGATOR_SEARCH_USER") or None,
            password=os.environ.get("AGGREGATOR_SEARCH_PASSWORD") or None,
            api_key=os.environ.get("AGGREGATOR_SEARCH_API_KEY") or None,
            ca_certs=os.environ.get("AGGREGATOR_SEARCH_CA_CERTS") or None,
            verify_certs=os.environ.get("AGGREGATOR_SEARCH_VERIFY_CERTS", "true").lower() != "false",
        )


#: the header every Elasticsearch 8+ response carries (and OpenSearch never sends)
PRODUCT_HEADER = "X-elastic-product"


def _get(url: str, path: str, creds: Credentials, timeout: float) -> tuple[int, dict[str, str], Any]:
    """``GET url+path`` with the user's credentials: (status, headers, parsed JSON body or None)."""
    req = urllib.request.Request(url.rstrip("/") + path, headers={"Accept": "application/json"})
    if creds.api_key:
        req.add_header("Authorization", f"ApiKey {creds.api_key}")
    elif creds.username:
        token = base64.b64encode(f"{creds.username}:{creds.password or ''}".encode()).decode()
        req.add_header("Authorization", f"Basic {token}")
    context = None
    if url.startswith("https"):
        context = ssl.create_default_context(cafile=creds.ca_certs)
        if not creds.verify_certs:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
    try:
        with urllib.request.urlopen(req, timeout=timeout, context=context) as resp:
            status, headers, raw = resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as exc:
        status, headers, raw = exc.code, dict(exc.headers or {}), exc.read()
    except (urllib.error.URLError, OSError) as exc:
        raise SearchUnavailable(f"no search engine answers at {url}: {exc}") from exc
    try:
        body = json.loads(raw.decode("utf-8"))
    except ValueError:
        body = None
    return status, {k.lower(): v for k, v in headers.items()}, body


def probe(url: str, creds: Credentials | None = None, timeout: float = 5.0) -> dict:
    """The server's flavor and version in the shape of ``GET /`` (``version.number``, ``version.distribution``).

    ``GET /`` answers that on most clusters, but not on all: the minimal Elasticsearch build has no
    ``rest-root`` module (HTTP 405) and a user without the ``monitor`` privilege gets 403. Then the version
    comes from ``GET /_nodes/_local`` and the flavor from the ``X-elastic-product`` header that every
    Elasticsearch 8+ response carries and OpenSearch never sends. Raises :class:`SearchUnavailable` when
    nothing answers or the credentials are refused.
    """
    creds = creds or Credentials()
    status, headers, body = _get(url, "/", creds, timeout)
    elastic = headers.get(PRODUCT_HEADER.lower()) == "Elasticsearch"
    if status == 200 and isinstance(body, dict) and (body.get("version") or {}).get("number"):
        if elastic:  # the header is the product check elasticsearch-py itself relies on
            body["version"]["distribution"] = "elasticsearch"
        return body
    if status == 401:
        raise SearchUnavailable(f"{url} answered HTTP 401: the credentials were refused (set AGGREGATOR_SEARCH_USER "
                                "and AGGREGATOR_SEARCH_PASSWORD, or AGGREGATOR_SEARCH_API_KEY)")
    nodes_status, nodes_headers, nodes = _get(url, "/_nodes/_local?filter_path=nodes.*.version", creds, timeout)
    elastic = elastic or nodes_headers.get(PRODUCT_HEADER.lower()) == "Elasticsearch"
    versions = [n.get("version") for n in ((nodes or {}).get("nodes") or {}).values()] if nodes_status == 200 else []
    if not versions or not versions[0]:
        raise SearchUnavailable(
            f"{url} answered HTTP {status} to GET / and HTTP {nodes_status} to GET /_nodes/_local: is it a search "
            "engine, and may these credentials read it (cluster privilege `monitor`)?"
        )
    return {"version": {"number": versions[0], "distribution": "elasticsearch" if elastic else "opensearch"},
            "detected_by": "GET /_nodes/_local"}


class SearchClient:
    """The engine, whichever it is. ``flavor`` is ``"opensearch"`` or ``"elasticsearch"``."""

    def __init__(self, raw: Any, flavor: str, version: str, url: str) -> None:
        self.raw = raw
        self.flavor = flavor
        self.version = version
        self.url = url
        if flavor == "opensearch":
            from opensearchpy import exceptions as exc
            from opensearchpy import helpers
        else:
            from elasticsearch import exceptions as exc
            from elasticsearch import helpers
        self._helpers = helpers
        self.NotFoundError = exc.NotFoundError
        self.TransportError = exc.TransportError
        self.ConnectionError = exc.ConnectionError
        # "the engine answered with an HTTP error": opensearch-py raises TransportError subclasses,
        # elasticsearch-py 8+ raises ApiError, which is *not* a TransportError there
        self.ApiError = exc.TransportError if flavor == "opensearch" else exc.ApiError
        #: every exception the client raises, for callers that spool on any failure
        self.Errors: tuple[type[Exception], ...] = (exc.TransportError, self.ApiError, SearchUnavailable)
        self._extensions: frozenset[str] | None = None
        self._capabilities: dict[str, bool] = {}

    @staticmethod
    def error_status(error: Exception) -> int | None:
        """The HTTP status of a client exception, None when the engine did not answer at all."""
        status = getattr(error, "status_code", None)
        if status is None:
            status = getattr(getattr(error, "meta", None), "status", None)
        return status if isinstance(status, int) else None

    def __repr__(self) -> str:
        return f"SearchClient({self.flavor} {self.version} at {self.url})"

    def _body(self, body: dict | None) -> dict:
        if body is None:
            return {}
        return {"body": body} if self.flavor == "opensearch" else dict(body)

    @staticmethod
    def _plain(resp: Any) -> Any:
        # elasticsearch-py 8+ wraps responses in ObjectApiResponse; callers want plain data
        return getattr(resp, "body", resp)

    # -- documents ---------------------------------------------------------------------------------
    def search(self, index: str, body: dict, **params: Any) -> dict:
        return self._plain(self.raw.search(index=index, **self._body(body), **params))

    def count(self, index: str, query: dict | None = None) -> int:
        body = {"query": query} if query else None
        return int(self._plain(self.raw.count(index=index, **self._body(body)))["count"])

    def get(self, index: str, doc_id: str) -> dict | None:
        try:
            return self._plain(self.raw.get(index=index, id=doc_id))
        except self.NotFoundError:
            return None

    def mget(self, index: str, ids: list[str], fields: list[str] | None = None) -> dict[str, dict]:
        """Id -> ``_source`` of the documents found (realtime); only ``fields`` of each when given."""
        if not ids:
            return {}
        if fields is None:
            resp = self.raw.mget(index=index, **self._body({"ids": ids}))
        elif self.flavor == "opensearch":
            resp = self.raw.mget(index=index, body={"ids": ids}, _source_includes=",".join(fields))
        else:
            resp = self.raw.mget(index=index, ids=ids, source_includes=fields)
        return {d["_id"]: d.get("_source") or {} for d in self._plain(resp)["docs"] if d.get("found")}

    def mget_versions(self, index: str, ids: list[str], fields: list[str]) -> list[dict]:
        """Realtime ``_mget`` of ``ids`` with only ``fields`` of each ``_source``; the raw ``docs`` entries.

        Each entry has ``found`` and, when found, ``_seq_no``/``_primary_term`` for a conditional write
        (``if_seq_no``/``if_primary_term``), or an ``error`` (e.g. ``index_not_found_exception``).
        """
        if not ids:
            return []
        if self.flavor == "opensearch":
            resp = self.raw.mget(index=index, body={"ids": ids}, _source_includes=",".join(fields))
        else:
            resp = self.raw.mget(index=index, ids=ids, source_includes=fields)
        return list(self._plain(resp)["docs"])

    def put(self, index: str, doc_id: str, document: dict, refresh: bool = False) -> dict:
        kwargs = {"body": document} if self.flavor == "opensearch" else {"document": document}
        return self._plain(self.raw.index(index=index, id=doc_id, refresh=refresh, **kwargs))

    def delete(self, index: str, doc_id: str) -> bool:
        try:
            self.raw.delete(index=index, id=doc_id)
            return True
        except self.NotFoundError:
            return False

    def update_by_query(self, index: str, body: dict, refresh: bool = True) -> dict:
        return self._plain(self.raw.update_by_query(index=index, refresh=refresh, conflicts="proceed",
                                                    **self._body(body)))

    def bulk(self, actions: Iterable[dict], **kwargs: Any) -> Iterator[tuple[bool, dict]]:
        """The client's ``streaming_bulk``: per-item results, retries with backoff on 429."""
        kwargs.setdefault("raise_on_error", False)
        kwargs.setdefault("raise_on_exception", True)
        kwargs.setdefault("max_retries", 3)
        kwargs.setdefault("initial_backoff", 1)
        kwargs.setdefault("max_backoff", 30)
        kwargs.setdefault("chunk_size", 500)
        yield from self._helpers.streaming_bulk(self.raw, actions, **kwargs)

    def scan(self, index: str, query: dict | None = None, **kwargs: Any) -> Iterator[dict]:
        body = {"query": query or {"match_all": {}}}
        yield from self._helpers.scan(self.raw, index=index, query=body, **kwargs)

    # -- indices -----------------------------------------------------------------------------------
    def refresh(self, index: str) -> None:
        self.raw.indices.refresh(index=index)

    def index_exists(self, index: str) -> bool:
        return bool(self.raw.indices.exists(index=index))

    def create_index(self, index: str, body: dict | None = None) -> None:
        if body and ("mappings" in body or "settings" in body):
            body = self._fit_analysis(body)
        self.raw.indices.create(index=index, **self._body(body))

    def delete_index(self, index: str) -> None:
        """Delete ``index``; a pattern (``t1-*``) deletes the open and closed indices it matches, one name at a
        time, because Elasticsearch 8+ refuses wildcard deletes (``action.destructive_requires_name``)."""
        if not any(c in index for c in "*?,"):
            self.raw.indices.delete(index=index, ignore_unavailable=True)
            return
        try:
            found = self._plain(self.raw.indices.get_settings(index=index, name="index.uuid", allow_no_indices=True,
                                                              expand_wildcards="open,closed"))
        except self.NotFoundError:
            return
        names = sorted(found)
        for start in range(0, len(names), 50):  # a comma list of names, kept well under the URL length limit
            self.raw.indices.delete(index=",".join(names[start:start + 50]), ignore_unavailable=True)

    def put_index_template(self, name: str, body: dict) -> None:
        if "template" in body:
            body = {**body, "template": self._fit_analysis(body["template"])}
        self.raw.indices.put_index_template(name=name, **self._body(body))

    def get_alias(self, name: str) -> dict:
        try:
            return self._plain(self.raw.indices.get_alias(name=name))
        except self.NotFoundError:
            return {}

    def update_aliases(self, actions: list[dict]) -> None:
        self.raw.indices.update_aliases(**self._body({"actions": actions}))

    def get_settings(self, index: str, name: str) -> dict[str, Any]:
        """Concrete index -> the value of setting ``name`` (e.g. ``index.refresh_interval``) where it is set."""
        resp = self._plain(self.raw.indices.get_settings(index=index, name=name, flat_settings=True))
        values = {idx: (info.get("settings") or {}).get(name) for idx, info in resp.items()}
        return {idx: value for idx, value in values.items() if value is not None}

    def put_settings(self, index: str, settings: dict[str, Any]) -> None:
        """Change dynamic index settings; a None value restores the setting's default."""
        if self.flavor == "opensearch":
            self.raw.indices.put_settings(index=index, body=settings)
        else:
            self.raw.indices.put_settings(index=index, settings=settings)

    def get_mapping(self, index: str) -> dict:
        return self._plain(self.raw.indices.get_mapping(index=index))

    def reindex(self, body: dict, refresh: bool = True, timeout: float | None = None) -> dict:
        """``_reindex`` and wait; ``timeout`` (seconds) lifts the client's request timeout for big copies."""
        kwargs: dict[str, Any] = {"refresh": refresh, "wait_for_completion": True, **self._body(body)}
        raw = self.raw
        if timeout is not None:
            # per-request timeouts: .options() in elasticsearch-py 8+, a keyword argument in opensearch-py
            if self.flavor == "elasticsearch":
                raw = raw.options(request_timeout=timeout)
            else:
                kwargs["request_timeout"] = timeout
        return self._plain(raw.reindex(**kwargs))

    def put_mapping(self, index: str, body: dict) -> None:
        """Apply mapping changes to a live index; the engine refuses anything but additions (HTTP 400)."""
        body = self._fit_analysis({"mappings": body})["mappings"]
        self.raw.indices.put_mapping(index=index, **self._body(body))

    def get_index_template(self, name: str) -> dict | None:
        try:
            resp = self._plain(self.raw.indices.get_index_template(name=name))
        except self.NotFoundError:
            return None
        templates = resp.get("index_templates") or []
        return templates[0]["index_template"] if templates else None

    def delete_index_template(self, name: str) -> None:
        try:
            self.raw.indices.delete_index_template(name=name)
        except self.NotFoundError:
            pass

    def list_indices(self, pattern: str) -> dict[str, dict]:
        """Concrete indices matching ``pattern`` -> their aliases, mappings and settings (``GET /<pattern>``)."""
        try:
            return self._plain(self.raw.indices.get(index=pattern, allow_no_indices=True,
                                                    expand_wildcards="open"))
        except self.NotFoundError:
            return {}

    def ping(self) -> bool:
        """Does the engine answer at all? Any HTTP answer counts (``HEAD /`` is 405 on the minimal
        Elasticsearch build, 403 for a user without ``monitor``): this asks "up or down", not "healthy"."""
        try:
            self.raw.cluster.health()
            return True
        except self.ConnectionError:  # opensearch-py's is a TransportError too: test it first
            return False
        except self.ApiError:
            return True
        except Exception:  # noqa: BLE001 - timeouts and the like: not answering
            return False

    # -- what this cluster can do ------------------------------------------------------------------
    def _request_status(self, method: str, path: str, body: dict | None = None) -> int | None:
        """The HTTP status of one raw request (None when nothing answered), errors included."""
        headers = {"accept": "application/json", "content-type": "application/json"}
        try:
            if self.flavor == "opensearch":
                self.raw.transport.perform_request(method, path, body=body, headers=headers)
            else:
                self.raw.perform_request(method, path, body=body, headers=headers)
            return 200
        except self.ConnectionError:
            return None
        except self.ApiError as exc:
            return self.error_status(exc)

    def extensions(self) -> frozenset[str] | None:
        """Names of the modules and plugins of the node we talk to (``GET /_nodes/_local``), None when this
        user may not read them (cluster privilege ``monitor``). Cached for the client's life."""
        if self._extensions is None:
            try:
                resp = self._plain(self.raw.nodes.info(node_id="_local", metric="plugins",
                                                       filter_path="nodes.*.modules.name,nodes.*.plugins.name"))
            except self.ApiError as exc:
                if self.error_status(exc) in (401, 403):
                    return None
                raise
            names: set[str] = set()
            for node in (resp.get("nodes") or {}).values():
                for entry in (node.get("modules") or []) + (node.get("plugins") or []):
                    names.add(entry.get("name", ""))
            self._extensions = frozenset(names)
        return self._extensions

    def _has_extension(self, *names: str) -> bool | None:
        """A module by its distribution name (``reindex``) or, on an embedded node, plugin class name."""
        found = self.extensions()
        if found is None:
            return None
        return any(n == name or n.rsplit(".", 1)[-1] == name for n in found for name in names)

    def reindex_available(self) -> bool:
        """Can this cluster ``_reindex`` (``aggregator index migrate``)? Not on the minimal Elasticsearch build,
        which has no ``reindex`` module. Asks the node's module list, else sends an empty ``_reindex``: a
        cluster with the module rejects the body (400), one without has no such endpoint (404/405)."""
        if "reindex" not in self._capabilities:
            has = self._has_extension("reindex", "ReindexPlugin", "ReindexModulePlugin")
            if has is None:
                has = self._request_status("POST", "/_reindex", {}) not in (404, 405)
            self._capabilities["reindex"] = has
        return self._capabilities["reindex"]

    def scripts_available(self) -> bool:
        """Can this cluster run painless scripts (story upserts, ``_update_by_query`` edits)? Every distribution
        ships ``lang-painless`` but the minimal Elasticsearch build. Asks the node's module list, else
        assumes yes."""
        if "painless" not in self._capabilities:
            has = self._has_extension("lang-painless", "PainlessPlugin")
            self._capabilities["painless"] = True if has is None else has
        return self._capabilities["painless"]

    def analysis_available(self) -> bool:
        """Does this cluster have the language analyzers (``english``, ``german``, ``cjk``...)? They come with
        the ``analysis-common`` module, which every distribution ships except the minimal Elasticsearch
        build. Asks the node's module list (``monitor``), else ``_analyze`` with ``english`` (``manage``),
        else assumes yes."""
        if "analysis" not in self._capabilities:
            has = self._has_extension("analysis-common", "CommonAnalysisPlugin")
            if has is None:
                status = self._request_status("POST", "/_analyze", {"analyzer": "english", "text": "probe"})
                has = status != 400  # 400: no such analyzer; 403: may not ask, so assume the usual
            self._capabilities["analysis"] = has
        return self._capabilities["analysis"]

    def _fit_analysis(self, template: dict) -> dict:
        """``template`` (``settings`` and ``mappings``) as this cluster can take it: unchanged where the
        language analyzers exist, else every analyzer outside :data:`CORE_ANALYZERS` becomes ``standard``
        and custom analysis settings are dropped (they build on analysis-common's filters)."""
        if self.analysis_available() or not _uses_other_analyzers(template):
            return template
        if not self._capabilities.get("analysis_warned"):
            logger.warning("%s has no analysis-common module: text fields use the standard analyzer "
                           "(no stemming, no stop words)", self.url)
            self._capabilities["analysis_warned"] = True
        fitted = _with_standard_analyzers(template)
        settings = fitted.get("settings")
        if isinstance(settings, dict):
            settings.pop("analysis", None)
            if isinstance(settings.get("index"), dict):
                settings["index"].pop("analysis", None)
        return fitted


#: the analyzers in every build's core; the language ones (``english``...) need the analysis-common module
CORE_ANALYZERS = frozenset({"standard", "simple", "whitespace", "stop", "keyword"})
_ANALYZER_KEYS = ("analyzer", "search_analyzer", "search_quote_analyzer")


def _uses_other_analyzers(node: Any) -> bool:
    if isinstance(node, dict):
        return any((k in _ANALYZER_KEYS and isinstance(v, str) and v not in CORE_ANALYZERS)
                   or (k == "analysis" and v) or _uses_other_analyzers(v) for k, v in node.items())
    if isinstance(node, list):
        return any(_uses_other_analyzers(v) for v in node)
    return False


def _with_standard_analyzers(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: ("standard" if k in _ANALYZER_KEYS and isinstance(v, str) and v not in CORE_ANALYZERS
                    else _with_standard_analyzers(v)) for k, v in node.items()}
    if isinstance(node, list):
        return [_with_standard_analyzers(v) for v in node]
    return node


def _opensearch_serializer() -> Any:
    """opensearch-py's JSON serializer on orjson (elasticsearch-py ships one): the bulk helper serializes every
    article it sends, and with the standard library that was about a third of the indexing process's CPU."""
    import orjson
    from opensearchpy.exceptions import SerializationError
    from opensearchpy.serializer import JSONSerializer

    class OrjsonSerializer(JSONSerializer):
        def dumps(self, data: Any) -> Any:
            if isinstance(data, str):  # already serialized (bulk bodies are joined lines)
                return data
            try:
                # str, not bytes: the bulk helper measures chunk sizes with str.encode
                return orjson.dumps(data, default=self.default, option=orjson.OPT_SERIALIZE_NUMPY).decode()
            except TypeError as exc:  # orjson.JSONEncodeError is a TypeError
                raise SerializationError(data, exc) from exc

        def loads(self, s: Any) -> Any:
            try:
                return orjson.loads(s)
            except ValueError as exc:  # orjson.JSONDecodeError is a ValueError
                raise SerializationError(s, exc) from exc

    return OrjsonSerializer()


#: HTTP connections kept open per engine node: the indexer's requests in flight plus a few searches
POOL_SIZE = 8


def connect(url: str | None = None, creds: Credentials | None = None, timeout: float = 30.0) -> SearchClient:
    """Connect to the engine at ``url`` (default ``AGGREGATOR_SEARCH_URL``), picking the right client."""
    url = url or config.search_url()
    creds = creds or Credentials.from_env()
    info = probe(url, creds)
    version = (info.get("version") or {}).get("number", "0")
    distribution = (info.get("version") or {}).get("distribution", "elasticsearch")
    if distribution == "opensearch":
        from opensearchpy import OpenSearch

        # pool_maxsize: urllib3's default of one connection made every concurrent bulk request (the indexer
        # keeps two in flight) open a new TCP connection and throw it away afterwards
        kwargs: dict[str, Any] = {"hosts": [url], "timeout": timeout, "max_retries": 2, "retry_on_timeout": True,
                                  "pool_maxsize": POOL_SIZE, "serializer": _opensearch_serializer()}
        if creds.username:
            kwargs["http_auth"] = (creds.username, creds.password or "")
        if creds.api_key:
            kwargs["headers"] = {"Authorization": f"ApiKey {creds.api_key}"}
        if url.startswith("https"):
            kwargs.update(use_ssl=True, verify_certs=creds.verify_certs, ca_certs=creds.ca_certs,
                          ssl_show_warn=False)
        raw = OpenSearch(**kwargs)
        return SearchClient(raw, "opensearch", version, url)

    major = int(version.split(".")[0])
    if major < 8:
        raise SearchUnavailable(f"Elasticsearch {version} at {url} is too old: 8.x or 9.x is supported")
    from elasticsearch import Elasticsearch
    from elasticsearch.serializer import OrjsonSerializer

    kwargs = {"hosts": [url], "request_timeout": timeout, "max_retries": 2, "retry_on_timeout": True,
              "connections_per_node": POOL_SIZE, "serializer": OrjsonSerializer()}
    if creds.api_key:
        kwargs["api_key"] = creds.api_key
    elif creds.username:
        kwargs["basic_auth"] = (creds.username, creds.password or "")
    if url.startswith("https"):
        kwargs.update(verify_certs=creds.verify_certs, ca_certs=creds.ca_certs)
    # elasticsearch-py 9 sends "compatible-with=9" headers; an 8.x server accepts them only from an 8.x
    # client, so tell the user instead of failing obscurely.
    import elasticsearch

    client_major = elasticsearch.__versionstr__.split(".")[0]
    if str(major) != client_major:
        raise SearchUnavailable(
            f"Elasticsearch {version} at {url} needs the elasticsearch client {major}.x "
            f"(installed: {elasticsearch.__versionstr__}); pip install 'elasticsearch>={major},<{major + 1}'"
        )
    raw = Elasticsearch(**kwargs)
    return SearchClient(raw, "elasticsearch", version, url)
