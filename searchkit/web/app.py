"""The web application: the search, article and reuse pages and the JSON API under /api/, over
one index, read-only (only GET and HEAD are answered).

Every handler runs in a worker thread (a search blocks) inside ``_answered``, which turns what
a user typed wrong into a 400 page, an unknown id into a 404 and an index that cannot be read
into a 503, each with a one-line reason: a traceback never reaches the browser. Every response
carries a strict Content-Security-Policy: scripts and styles only from /static/ (no inline
script or style), nothing else loaded, forms sent only here."""

import sys
import traceback
from importlib.resources import files
from pathlib import Path
from typing import Callable, Optional

from jinja2 import Environment, PackageLoader, StrictUndefined
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from .. import Searcher
from ..cli import render
from ..config import SearchOptions
from ..errors import NotFoundError, QueryError, SearchkitError, UsageError
from . import pages
from .current import CurrentIndex
from .local import LoopbackHostOnly
from .params import (
    DEFAULT_GROUPS,
    MAX_GROUPS,
    SEARCH_PARAMS,
    BadRequest,
    Params,
    SearchRequest,
    id_from_path,
)

SECURITY_HEADERS = {
    "content-security-policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
                               "img-src 'self'; form-action 'self'; base-uri 'none'; "
                               "frame-ancestors 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}
STATIC = {"style.css": "text/css; charset=utf-8", "searchkit.js": "text/javascript; charset=utf-8",
          "favicon.svg": "image/svg+xml"}
JSON = "application/json; charset=utf-8"
JSONL = "application/x-ndjson; charset=utf-8"
# Paragraphs up to which the article page lists where else each one appeared (each one's
# group looked up), and places it lists at most: a longer article, or one whose paragraphs
# appeared in more places (a split-up dump of a feed's lines), lists the marked one's only.
MAX_REPRINT_LOOKUPS = 5000
MAX_PLACES_LISTED = 5000
_BAD = (BadRequest, QueryError, UsageError)


class _SecurityHeaders:
    """ASGI middleware: ``SECURITY_HEADERS`` on every response, error pages included."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        async def sending(message):
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, sending if scope["type"] == "http" else send)


class _Site:
    """The routes' handlers, sharing the open index and the templates."""

    def __init__(self, current: CurrentIndex):
        self.current = current
        self.templates = Environment(loader=PackageLoader("searchkit.web", "templates"),
                                     autoescape=True, undefined=StrictUndefined,
                                     trim_blocks=True, lstrip_blocks=True)
        folder = files("searchkit.web") / "static"
        self.static = {name: (folder / name).read_bytes() for name in STATIC}

    def page(self, template: str, context: dict, status: int = 200) -> HTMLResponse:
        html = self.templates.get_template(template).render(**context)
        return HTMLResponse(html, status_code=status)

    def error(self, api: bool, status: int, message: str,
              request: Optional[Request] = None) -> Response:
        if api:
            return Response(render.dumps({"error": message}), status, media_type=JSON)
        # (a refused search keeps what can be kept of it, to be corrected)
        kept = (SearchRequest.salvage(request.query_params.multi_items())
                if request is not None and request.url.path == "/" else None)
        return self.page("error.html", pages.error_page(status, message, kept), status)

    # -- pages -------------------------------------------------------------------------------

    def search(self, request: Request) -> Response:
        params = Params(request.query_params.multi_items(), SEARCH_PARAMS[:-1], ("source",))
        wanted = SearchRequest.read(params)
        searcher = self.current.get()
        if not wanted.query:
            stats = render.stats_record(searcher.stats())
            return self.page("home.html", {"request": wanted, **pages.stats_page(stats)})
        try:
            results = searcher.search(wanted.query, filters=pages.filters(wanted),
                                      **wanted.options())
        except (QueryError, UsageError) as error:  # the form stays, with what to change
            context = pages.error_page(400, str(error), wanted)
            return self.page("error.html", context, 400)
        return self.page("search.html", pages.search_page(wanted, results))

    def article(self, request: Request) -> Response:
        params = Params(request.query_params.multi_items(), ("p",))
        article_id = id_from_path(request.path_params["id"])
        number = params.number("p", 0, 1, 10_000_000)
        searcher = self.current.get()
        view = searcher.show(f"{article_id}#{number}" if number else article_id)
        looked_up = len(view.paragraphs) <= MAX_REPRINT_LOOKUPS
        if looked_up:
            # (by a paragraph's id: an article "story#12" is also story's paragraph 12)
            reprints = searcher.reprints(view.paragraphs[0].id)
            looked_up = sum(map(len, reprints.values())) <= MAX_PLACES_LISTED
        if not looked_up:
            reprints = {view.marked: view.duplicates} if view.marked else {}
        context = pages.article_page(view, reprints, looked_up)
        return self.page("article.html", {"request": SearchRequest(), **context})

    def reuse(self, request: Request) -> Response:
        params = Params(request.query_params.multi_items(), ("min", "n"))
        min_size = params.number("min", 2, 2, 1_000_000)
        limit = params.number("n", DEFAULT_GROUPS, 1, MAX_GROUPS)
        groups = self.current.get().duplicate_groups(min_size=min_size, limit=limit)
        context = pages.reuse_page(groups, min_size, limit)
        return self.page("reuse.html", {"request": SearchRequest(), **context})

    def static_file(self, request: Request) -> Response:
        name = request.path_params["name"]
        if name not in STATIC:  # a fixed list: no path from the URL reaches the disk
            raise NotFoundError(f"no file {name!r} here")
        return Response(self.static[name], media_type=STATIC[name],
                        headers={"cache-control": "no-cache"})

    # -- the JSON API: the records of --format jsonl -------------------------------------------

    def api_search(self, request: Request) -> Response:
        params = Params(request.query_params.multi_items(), SEARCH_PARAMS, ("source",))
        wanted = SearchRequest.read(params)
        if not wanted.query:
            raise BadRequest("give q, the query")
        fmt = params.choice("format", ("json", "jsonl"), "json")
        results = self.current.get().search(wanted.query, filters=pages.filters(wanted),
                                            **wanted.options())
        if fmt == "jsonl":
            return Response(pages.search_jsonl(results), media_type=JSONL)
        return _json(pages.search_record(results))

    def api_article(self, request: Request) -> Response:
        Params(request.query_params.multi_items(), ())
        view = self.current.get().show(id_from_path(request.path_params["id"]))
        return _json(render.article_record(view))

    def api_duplicates(self, request: Request) -> Response:
        params = Params(request.query_params.multi_items(), ("min", "n", "format"))
        min_size = params.number("min", 2, 2, 1_000_000)
        limit = params.number("n", DEFAULT_GROUPS, 1, MAX_GROUPS)
        fmt = params.choice("format", ("json", "jsonl"), "json")
        groups = self.current.get().duplicate_groups(min_size=min_size, limit=limit)
        if fmt == "jsonl":
            return Response(render.duplicate_groups_jsonl(groups) + "\n" if groups else "",
                            media_type=JSONL)
        return _json(pages.duplicates_record(groups))

    def api_stats(self, request: Request) -> Response:
        Params(request.query_params.multi_items(), ())
        return _json(render.stats_record(self.current.get().stats()))

    # -- errors ----------------------------------------------------------------------------

    def answered(self, handler: Callable[[Request], Response], api: bool = False):
        """``handler`` in a worker thread, its failures as error responses (see the module)."""

        async def endpoint(request: Request) -> Response:
            try:
                return await run_in_threadpool(handler, request)
            except _BAD as error:  # the query typed stays in the box, to be corrected
                return self.error(api, 400, str(error), request)
            except NotFoundError as error:
                return self.error(api, 404, str(error))
            except (SearchkitError, OSError) as error:  # the index, not the request
                return self.error(api, 503, f"the index cannot be read: {error}")
            except Exception:  # a fault of searchkit's: logged for its developers
                print(render.printable(traceback.format_exc()), file=sys.stderr)
                return self.error(api, 500, "searchkit failed on this request; the server's "
                                            "log has the details")

        return endpoint

    async def not_found(self, request: Request, error) -> Response:
        api = request.url.path.startswith("/api/")
        if getattr(error, "status_code", 404) == 405:
            refused = self.error(api, 405, "this server only reads: GET and HEAD only")
            refused.headers["allow"] = "GET, HEAD"  # what a 405 must name (RFC 9110)
            return refused
        return self.error(api, 404, f"no page {request.url.path!r} here")


def _json(data) -> Response:
    return Response(render.dumps(data), media_type=JSON)


def create_app(index_dir: Path, searcher: Optional[Searcher] = None,
               options: SearchOptions = SearchOptions(), local_only: bool = False) -> Starlette:
    """The ASGI application over ``index_dir`` (``searcher``: one already open on it;
    ``local_only``: answer only requests whose Host header names this machine, as a server
    on a loopback address should)."""
    site = _Site(CurrentIndex(index_dir, searcher, options))
    page, api = site.answered, (lambda handler: site.answered(handler, api=True))
    routes = [
        Route("/", page(site.search)),
        Route("/article/{id:path}", page(site.article)),
        Route("/reuse", page(site.reuse)),
        Route("/static/{name}", page(site.static_file)),
        Route("/api/search", api(site.api_search)),
        Route("/api/article/{id:path}", api(site.api_article)),
        Route("/api/duplicates", api(site.api_duplicates)),
        Route("/api/stats", api(site.api_stats)),
    ]
    app = Starlette(routes=routes, exception_handlers={404: site.not_found,
                                                       405: site.not_found})
    if local_only:
        app.add_middleware(LoopbackHostOnly)
    app.add_middleware(_SecurityHeaders)  # the outermost: on every response
    app.state.current = site.current
    return app
