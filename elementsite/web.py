"""The built web studio (web/dist) served by the service itself.

`web/dist` is made by `npm run build` in web/ (`make run` does it); it is never committed. Its
hashed files under `assets/` never change once built, so they are cached for a year; the HTML
pages are revalidated on every load so a new build is picked up at once. The SPA speaks only
the public GraphQL API with the session cookie, so every HTML page sets the `csrftoken` cookie
the client sends back as `X-CSRFToken`.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_safe

ASSET_CACHE = "public, max-age=31536000, immutable"

NOT_BUILT_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} is not built</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font:16px/1.5 system-ui,sans-serif;background:#111418;color:#e6e8eb;
max-width:40rem;margin:4rem auto;padding:0 1rem}}code{{background:#23272e;padding:.1rem .3rem;
border-radius:4px}}</style></head>
<body><h1>{title} is not built yet</h1>
<p>The service is running: the API answers at <a href="/graphql">/graphql</a> and the staff
admin at <a href="/admin/">/admin/</a>.</p>
<p>To build the browser client, install Node.js 20.19 or newer and run <code>make run</code>,
or <code>cd web &amp;&amp; npm ci &amp;&amp; npm run build</code>.</p></body></html>
"""


def dist_dir() -> Path:
    return Path(settings.WEB_DIST)


def _page(name: str, title: str) -> HttpResponse:
    page = dist_dir() / name
    try:
        body = page.read_bytes()
    except FileNotFoundError:
        response = HttpResponse(NOT_BUILT_PAGE.format(title=title))
    else:
        response = HttpResponse(body, content_type="text/html; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    return response


@require_safe
@ensure_csrf_cookie
def studio_index(request: HttpRequest, path: str = "") -> HttpResponse:
    """Every client-side route answers the SPA's index.html; the router picks the screen."""
    return _page("index.html", "The web studio")


@ensure_csrf_cookie
def graphiql_page(request: HttpRequest) -> HttpResponse:
    """GraphiQL built into web/dist from the `graphiql` npm package: nothing from a CDN."""
    return _page("graphiql.html", "GraphiQL")


@require_safe
def studio_asset(request: HttpRequest, name: str) -> FileResponse:
    """A hashed build file, gzipped when the build left a `.gz` beside it and the client
    accepts it."""
    root = (dist_dir() / "assets").resolve()
    target = (root / name).resolve()
    if not target.is_relative_to(root) or not target.is_file() or target.suffix == ".gz":
        raise Http404("no such asset")
    content_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    compressed = target.with_name(target.name + ".gz")
    accepts_gzip = "gzip" in request.headers.get("Accept-Encoding", "")
    if accepts_gzip and compressed.is_file():
        response = FileResponse(compressed.open("rb"), content_type=content_type)
        response["Content-Encoding"] = "gzip"
    else:
        response = FileResponse(target.open("rb"), content_type=content_type)
    # FileResponse guesses "gzip" itself from the .gz name; the type is the original file's.
    response["Content-Type"] = content_type
    response["Cache-Control"] = ASSET_CACHE
    patch_vary_headers(response, ["Accept-Encoding"])
    return response
