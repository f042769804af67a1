"""The editors' review app: browse story clusters, see why articles were grouped, fix the grouping.

Server-rendered with Jinja2 (autoescape on for every template) and plain HTML forms, so there is no
script on the page at all and the Content-Security-Policy can forbid scripts outright: scraped text
is hostile and the page must stay inert whatever an article contains. Every change is a POST carrying
the session's CSRF token from a signed-in editor; the decision is stored and applied through
:mod:`aggregator.decisions` so the dedup stage can honour it on later runs.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aggregator import config, decisions
from aggregator.review import auth
from aggregator.review.text import highlight_shared, shared_fraction, similarity

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
TABS = {"newest": "Newest", "largest": "Largest", "review": "Needs review"}
MAX_WINDOW = 10_000  # the engine's default max_result_window: deeper pages are refused, not errors

CSP = ("default-src 'none'; script-src 'none'; style-src 'self'; img-src 'self'; font-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")


def _env_flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


@dataclass
class Settings:
    """What the deployment decides; :meth:`from_env` reads the ``AGGREGATOR_REVIEW_*`` variables."""

    public: bool = False  # read-only pages without signing in
    secret: str = ""
    secure_cookies: bool = False  # set behind HTTPS so the session cookie is never sent in clear
    page_size: int = 20
    low_confidence: float = 0.6
    session_max_age: int = 12 * 3600
    max_body_chars: int = 6000
    throttle: auth.LoginThrottle = field(default_factory=auth.LoginThrottle)

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            public=_env_flag("AGGREGATOR_REVIEW_PUBLIC", False),
            secret=auth.session_secret(),
            secure_cookies=_env_flag("AGGREGATOR_REVIEW_SECURE_COOKIES", False),
            low_confidence=float(os.environ.get("AGGREGATOR_REVIEW_LOW_CONFIDENCE", "0.6")),
        )


class SecurityHeaders:
    """Adds the headers that keep hostile article text inert even if escaping ever failed somewhere."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.setdefault("headers", [])
                present = {k.lower() for k, _ in headers}
                extra = {
                    b"content-security-policy": CSP.encode(),
                    b"x-frame-options": b"DENY",
                    b"x-content-type-options": b"nosniff",
                    b"referrer-policy": b"same-origin",
                    b"cross-origin-opener-policy": b"same-origin",
                }
                if not scope["path"].startswith("/static/"):
                    extra[b"cache-control"] = b"no-store"
                headers.extend((k, v) for k, v in extra.items() if k not in present)
            await send(message)

        await self.app(scope, receive, send_with_headers)


# -- formatting helpers used by the templates ---------------------------------------------------------

def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def fmt_time(value: str | None) -> str:
    parsed = parse_time(value)
    return parsed.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC") if parsed else "—"


def fmt_delta(seconds: float) -> str:
    """``+2h 05m`` style offsets for the timeline: how long after the first report an outlet followed."""
    if seconds <= 0:
        return "first"
    minutes = int(seconds // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"+{days}d {hours}h"
    if hours:
        return f"+{hours}h {minutes:02d}m"
    return f"+{minutes}m"


def fmt_pct(value: float | None) -> str:
    return "—" if value is None else f"{round(float(value) * 100)}%"


def http_url(value: str | None) -> str:
    """The URL if it is plain http(s), else empty: scraped ``javascript:``/``data:`` links must not be clickable."""
    text = str(value or "").strip()
    return text if text.lower().startswith(("http://", "https://")) else ""


def safe_next(target: str | None) -> str:
    """Only same-site relative paths may be redirect targets after login (no open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def build_templates() -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(HERE / "templates")),
        autoescape=True,  # every template, whatever its extension
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(time=fmt_time, pct=fmt_pct, http_url=http_url)
    env.globals["split_story_id"] = decisions.split_story_id  # audit entries link the story a split created
    return Jinja2Templates(env=env)


# -- queries -----------------------------------------------------------------------------------------

def _parse_day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def list_query(tab: str, q: str, source: str, day_from: date | None, day_to: date | None,
               low_confidence: float) -> dict:
    """The stories query for a tab and the filters; user text only ever goes into simple_query_string."""
    filters: list[dict] = []
    must: list[dict] = []
    must_not: list[dict] = [{"terms": {"status": ["merged", "empty"]}}]
    if q:
        must.append({"bool": {"should": [
            {"simple_query_string": {"query": q, "fields": ["headline^3", "members.title"],
                                     "default_operator": "and", "lenient": True}},
            {"term": {"story_id": q}},
        ], "minimum_should_match": 1}})
    if source:
        filters.append({"term": {"sources": source}})
    if day_from:
        filters.append({"range": {"last_seen": {"gte": day_from.isoformat()}}})
    if day_to:
        filters.append({"range": {"first_seen": {"lte": day_to.isoformat() + "T23:59:59Z"}}})
    if tab == "review":
        filters.append({"bool": {"should": [
            {"term": {"needs_review": True}},
            {"bool": {"filter": [
                {"term": {"status": "auto"}},
                {"bool": {"should": [
                    {"range": {"confidence": {"lt": low_confidence}}},
                    {"script": {"script": {"lang": "painless", "source": "doc['sources'].size() > 1"}}},
                ], "minimum_should_match": 1}},
            ]}},
        ], "minimum_should_match": 1}})
    return {"bool": {"must": must, "filter": filters, "must_not": must_not}}


def list_sort(tab: str) -> list[dict]:
    last = {"last_seen": {"order": "desc", "unmapped_type": "date"}}
    tie = {"story_id": {"order": "asc", "unmapped_type": "keyword"}}
    if tab == "largest":
        return [{"member_count": {"order": "desc", "unmapped_type": "integer"}}, last, tie]
    if tab == "review":
        return [{"confidence": {"order": "asc", "unmapped_type": "float", "missing": "_first"}},
                {"member_count": {"order": "desc", "unmapped_type": "integer"}}, last, tie]
    return [last, tie]


# -- the application ---------------------------------------------------------------------------------

def create_app(client: Any = None, settings: Settings | None = None) -> Starlette:
    """The review app; ``client`` is a :class:`~aggregator.search.client.SearchClient` (connected lazily
    to ``AGGREGATOR_SEARCH_URL`` when omitted) and ``settings`` default to :meth:`Settings.from_env`."""
    settings = settings or Settings.from_env()
    if not settings.secret:
        settings.secret = auth.session_secret()
    templates = build_templates()
    lock = threading.Lock()
    state: dict[str, Any] = {"client": client}

    def engine() -> Any:
        with lock:
            if state["client"] is None:
                from aggregator.search.client import connect

                state["client"] = connect(config.search_url())
            return state["client"]

    def editor_of(request: Request) -> str | None:
        return request.session.get("editor")

    def render(request: Request, name: str, context: dict, status_code: int = 200) -> Response:
        base = {"editor": editor_of(request), "csrf": auth.csrf_token(request.session),
                "public": settings.public, "flash": request.session.pop("flash", None)}
        return templates.TemplateResponse(request, name, base | context, status_code=status_code)

    def error(request: Request, status_code: int, message: str) -> Response:
        return render(request, "error.html", {"status": status_code, "message": message},
                      status_code=status_code)

    def may_read(request: Request) -> bool:
        return settings.public or editor_of(request) is not None

    def login_redirect(request: Request) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse("/login?" + urlencode({"next": target}), status_code=303)

    # -- pages --------------------------------------------------------------------------------------

    async def stories(request: Request) -> Response:
        if not may_read(request):
            return login_redirect(request)
        params = request.query_params
        tab = params.get("tab") if params.get("tab") in TABS else "newest"
        q = (params.get("q") or "").strip()[:300]
        source = (params.get("source") or "").strip()[:100]
        day_from, day_to = _parse_day(params.get("from")), _parse_day(params.get("to"))
        try:
            page = max(1, int(params.get("page") or 1))
        except ValueError:
            page = 1
        size = settings.page_size
        offset = min((page - 1) * size, MAX_WINDOW - size)
        body = {"query": list_query(tab, q, source, day_from, day_to, settings.low_confidence),
                "sort": list_sort(tab), "from": offset, "size": size, "track_total_hits": True,
                "aggs": {"sources": {"terms": {"field": "sources", "size": 300, "order": {"_key": "asc"}}}},
                "_source": {"excludes": ["members"]}}
        index = decisions.index_names()["stories"]

        def fetch() -> dict:
            return engine().search(index, body)

        resp = await run_in_threadpool(fetch)
        total = int((resp["hits"].get("total") or {}).get("value", 0))
        rows = [h["_source"] for h in resp["hits"]["hits"]]
        sources = [b["key"] for b in resp.get("aggregations", {}).get("sources", {}).get("buckets", [])]
        filters = {"tab": tab, "q": q, "source": source,
                   "from": day_from.isoformat() if day_from else "", "to": day_to.isoformat() if day_to else ""}

        def link(**changes: Any) -> str:
            merged = {k: v for k, v in (filters | {"page": page} | changes).items() if v not in ("", None, 1)}
            return "/?" + urlencode(merged)

        pages = max(1, min(-(-total // size), MAX_WINDOW // size))
        return render(request, "stories.html", {
            "tabs": TABS, "filters": filters, "rows": rows, "total": total, "page": page, "pages": pages,
            "sources": sources, "link": link, "low_confidence": settings.low_confidence,
        })

    def story_context(story_id: str, merge_q: str) -> dict | None:
        client = engine()
        names = decisions.index_names()
        story = decisions.get_story(client, story_id)
        if story is None:
            return None
        members = list(story.get("members") or [])
        articles = client.mget(names["articles"], [m["article_id"] for m in members])
        # a story document may lack a member's URL (written before the article's); the article has it
        members = [{**m, "published_at": m.get("published_at"),  # undated members carry no key at all
                    "url": m.get("url") or (articles.get(m["article_id"]) or {}).get("canonical_url")
                    or (articles.get(m["article_id"]) or {}).get("url")} for m in members]
        canonical_id = story.get("canonical_id")
        canonical = articles.get(canonical_id or "") or {}
        others = [a.get("body") for aid, a in articles.items() if aid != canonical_id]
        cards = []
        for member in members:
            art = articles.get(member["article_id"]) or {}
            is_canonical = member["article_id"] == canonical_id
            sim = member.get("similarity")
            if sim is None and art:
                sim = 1.0 if is_canonical else similarity(art.get("body"), canonical.get("body"))
            reference = others if is_canonical else [canonical.get("body")]
            cards.append({
                "member": member, "article": art, "canonical": is_canonical, "similarity": sim,
                "shared": shared_fraction(art.get("body"), reference) if art else None,
                "title_html": highlight_shared(art.get("title") or member.get("title"),
                                               [canonical.get("title")] if not is_canonical else [], n=3),
                "body_html": highlight_shared(art.get("body"), reference, max_chars=settings.max_body_chars),
                "lead": art.get("lead"),
            })
        cards.sort(key=lambda c: (not c["canonical"], -(c["similarity"] or 0), c["member"]["article_id"]))
        dated = sorted((m for m in members if parse_time(m.get("published_at"))),
                       key=lambda m: (m["published_at"], m["article_id"]))
        timeline = []
        if dated:
            first = parse_time(dated[0]["published_at"])
            for m in dated:
                offset = (parse_time(m["published_at"]) - first).total_seconds()  # type: ignore[operator]
                timeline.append({"member": m, "delta": fmt_delta(offset)})
        undated = [m for m in members if not parse_time(m.get("published_at"))]
        candidates: list[dict] = []
        if merge_q:
            query = list_query("newest", merge_q, "", None, None, settings.low_confidence)
            query["bool"]["must_not"].append({"ids": {"values": [story_id]}})
            resp = client.search(names["stories"], {"query": query, "size": 10,
                                                    "_source": {"excludes": ["members"]}})
            candidates = [h["_source"] for h in resp["hits"]["hits"]]
        return {"story": story, "merged_into": decisions.merged_into(client, story), "cards": cards,
                "timeline": timeline, "undated": undated,
                "audit": decisions.decisions_for_story(client, story), "merge_q": merge_q,
                "candidates": candidates, "members": members}

    async def story_page(request: Request) -> Response:
        if not may_read(request):
            return login_redirect(request)
        story_id = request.path_params["story_id"]
        merge_q = (request.query_params.get("merge_q") or "").strip()[:300]
        context = await run_in_threadpool(story_context, story_id, merge_q)
        if context is None:
            # the indexer deletes story documents absorbed by a merge: follow the survivor's merged_from
            survivor = await run_in_threadpool(
                decisions.merged_into, engine(), {"story_id": story_id, "status": "merged"})
            if survivor:
                return RedirectResponse(f"/story/{survivor}", status_code=303)
            return error(request, 404, f"No story with id {story_id}.")
        return render(request, "story.html", context)

    # -- sign in / out ------------------------------------------------------------------------------

    async def login_page(request: Request) -> Response:
        next_url = safe_next(request.query_params.get("next"))
        if editor_of(request):
            return RedirectResponse(next_url, status_code=303)
        return render(request, "login.html", {"next": next_url, "message": None, "name": ""})

    async def login_submit(request: Request) -> Response:
        form = await request.form()
        name = str(form.get("name") or "").strip()[:64]
        password = str(form.get("password") or "")[:1024]
        next_url = safe_next(str(form.get("next") or "/"))
        if not auth.csrf_ok(request.session, str(form.get("csrf") or "")):
            return error(request, 403, "The form expired or did not come from this site. Reload and try again.")
        keys = [f"ip:{request.client.host if request.client else '?'}", f"user:{name.casefold()}"]
        wait = settings.throttle.retry_after(keys)
        if wait:
            response = render(request, "login.html", {
                "next": next_url, "name": name,
                "message": f"Too many failed sign-ins. Try again in {max(1, wait // 60)} minute(s)."},
                status_code=429)
            response.headers["Retry-After"] = str(wait)
            return response
        editors = await run_in_threadpool(auth.load_editors)
        ok = await run_in_threadpool(auth.verify, editors, name, password)
        if not ok:
            settings.throttle.failed(keys)
            log.warning("review: failed sign-in for %r from %s", name, keys[0])
            return render(request, "login.html", {"next": next_url, "name": name,
                                                  "message": "Unknown editor or wrong password."},
                          status_code=401)
        settings.throttle.succeeded(keys)
        request.session.clear()  # a fresh session (and CSRF token) at every sign-in: no fixation
        request.session["editor"] = name
        auth.csrf_token(request.session)
        log.info("review: %s signed in", name)
        return RedirectResponse(next_url, status_code=303)

    async def logout(request: Request) -> Response:
        form = await request.form()
        if not auth.csrf_ok(request.session, str(form.get("csrf") or "")):
            return error(request, 403, "Invalid CSRF token.")
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    # -- actions ------------------------------------------------------------------------------------

    async def action(request: Request) -> Response:
        """One endpoint per action name; all share the checks: signed in, CSRF, a valid decision."""
        editor = editor_of(request)
        form = await request.form()
        if editor is None:
            return error(request, 403, "Sign in as an editor to change stories.")
        if not auth.csrf_ok(request.session, str(form.get("csrf") or "")):
            return error(request, 403, "Invalid CSRF token: reload the page and try again.")
        story_id = request.path_params["story_id"]
        kind = request.path_params["action"].replace("-", "_")

        def field_(name: str) -> str | None:
            value = str(form.get(name) or "").strip()
            return value[:200] or None

        try:
            decision = decisions.Decision(
                action=kind, editor=editor, story_id=story_id, article_id=field_("article_id"),
                other_story_id=field_("other_story_id"), other_article_id=field_("other_article_id"),
                note=(field_("note") or "")[:500])
            affected = await run_in_threadpool(decisions.decide, engine(), decision)
        except decisions.DecisionError as exc:
            return error(request, 400, str(exc))
        log.info("review: %s %s on %s -> %s", editor, kind, story_id, affected)
        target = story_id
        if kind == "merge" and affected:
            target = affected[0]  # the survivor
        messages = {
            "confirm": "Story confirmed.",
            "split": f"Article split out into story {affected[-1] if affected else ''}.",
            "merge": f"Stories merged into {target}.",
            "not_duplicate": "Recorded: the two articles are not duplicates.",
        }
        request.session["flash"] = messages[kind]
        return RedirectResponse(f"/story/{target}", status_code=303)

    async def healthz(request: Request) -> Response:
        return Response("ok\n", media_type="text/plain")

    routes = [
        Route("/", stories, methods=["GET"]),
        Route("/story/{story_id:str}", story_page, methods=["GET"]),
        Route("/story/{story_id:str}/{action:str}", action, methods=["POST"]),
        Route("/login", login_page, methods=["GET"]),
        Route("/login", login_submit, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        Mount("/static", app=StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    middleware = [
        Middleware(SecurityHeaders),
        Middleware(SessionMiddleware, secret_key=settings.secret, session_cookie="review_session",
                   max_age=settings.session_max_age, same_site="lax", https_only=settings.secure_cookies),
    ]

    async def on_error(request: Request, exc: Exception) -> Response:
        log.exception("review: engine error on %s", request.url.path)
        return Response("The search engine did not answer; try again shortly.\n", status_code=503,
                        media_type="text/plain")

    from aggregator.search.client import SearchUnavailable

    app = Starlette(routes=routes, middleware=middleware,
                    exception_handlers={SearchUnavailable: on_error, ConnectionError: on_error})
    app.state.settings = settings
    app.state.engine = engine
    return app
