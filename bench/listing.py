"""Listing benchmark: the library of 150 elements through the GraphQL `elements` connection
vs a hand-written Django JSON view of the same rows, over HTTP, under the same load.

    .venv/bin/python bench/listing.py [--quick]   # alone
    make bench                                    # bench/run.py runs it at the end

Both sides are served by one WSGI server (Django's `ThreadedWSGIServer`, what `runserver`
and so `manage.py serve` use: the stdlib's `wsgiref` with `socketserver.ThreadingMixIn`,
HTTP/1.1 keep-alive) in a thread of this process, on 127.0.0.1 and a free port, through the
full middleware stack with the same bearer token. `CLIENTS` client threads with keep-alive
`http.client` connections fetch the whole library again and again for a fixed time per
round; each round measures both sides, one after the other. The page size is capped at
100, so both sides page the same way: a page of 100, then the remaining 50 after the first
page's cursor (GraphQL) or offset (JSON). One listing is two requests on either side.

Each round runs the application under a different number of extra stack frames, the same
for both sides; see `StackPadding` for why.
"""

from __future__ import annotations

import argparse
import datetime
import http.client
import json
import resource
import statistics
import sys
import tempfile
import threading
import time
import types
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ELEMENTS = 150
PAGE = 100
CLIENTS = 4
JSON_PATH = "/bench/elements.json"

# The GraphQL listing: one query text, the cursor as a variable, as a client would send it.
LISTING_QUERY = """
query Listing($after: String) {
  elements(first: 100, after: $after) {
    pageInfo { hasNextPage endCursor }
    edges { node {
      name type description version
      voice { name audioUrl }
      images { url thumbnailUrl width height role }
    } }
  }
}
"""


# --- The baseline: a hand-written JSON view ------------------------------------------------


def element_listing_view(request: Any) -> Any:
    """What a careful hand-written endpoint would do: the same selector and scoping, one
    query for the page with its voices, one for the images, the same signed URLs, offset
    paging with the same cap, and the enum names GraphQL returns."""
    from django.db.models import Prefetch
    from django.http import JsonResponse

    from elements import selectors
    from elements.media_urls import media_url
    from elements.models import ReferenceImage, VoiceStatus

    user = request.user
    if not (user.is_authenticated and user.is_active):
        return JsonResponse({"error": "Log in or send an API token first."}, status=401)
    try:
        first = int(request.GET.get("first", PAGE))
        offset = int(request.GET.get("after", 0))
    except ValueError:
        return JsonResponse({"error": "first and after are integers."}, status=400)
    if not (0 <= first <= PAGE and offset >= 0):
        return JsonResponse({"error": f"first is at most {PAGE}."}, status=400)

    images = ReferenceImage.objects.order_by("position", "id").only(
        "element_id", "role", "image", "thumbnail", "width", "height"
    )
    rows = list(
        selectors.element_list(owner=user)
        .select_related("voice")
        .only(
            "name",
            "type",
            "description",
            "version",
            "voice__name",
            "voice__audio",
            "voice__owner_id",
            "voice__status",
        )
        .prefetch_related(Prefetch("images", queryset=images))[offset : offset + first + 1]
    )
    has_next = len(rows) > first
    rows = rows[:first]
    owner_id = user.pk
    elements = []
    for element in rows:
        voice = element.voice
        # The same visibility as the Voice type: own voices, and presets while active.
        if voice is not None and not (
            voice.owner_id == owner_id
            or (voice.owner_id is None and voice.status == VoiceStatus.ACTIVE)
        ):
            voice = None
        elements.append(
            {
                "name": element.name,
                "type": element.type.upper(),
                "description": element.description,
                "version": element.version,
                "voice": None
                if voice is None
                else {
                    "name": voice.name,
                    "audioUrl": media_url(
                        voice.audio.name,
                        owner_id=voice.owner_id,
                        request=request,
                        # As the Voice type signs it: a preset for any logged-in user,
                        # an own voice for the viewer, re-checked as that voice's.
                        voice_id=voice.pk if voice.owner_id is not None else None,
                    ),
                },
                "images": [
                    {
                        "url": media_url(
                            image.image.name,
                            owner_id=owner_id,
                            request=request,
                            element_id=element.pk,
                        ),
                        "thumbnailUrl": media_url(
                            image.thumbnail.name,
                            owner_id=owner_id,
                            request=request,
                            element_id=element.pk,
                        ),
                        "width": image.width,
                        "height": image.height,
                        "role": image.role.upper(),
                    }
                    for image in element.images.all()
                ],
            }
        )
    return JsonResponse(
        {
            "elements": elements,
            "hasNextPage": has_next,
            "endCursor": str(offset + len(rows)) if rows else None,
        }
    )


def bench_urlconf() -> str:
    """A urlconf of the app's routes plus the JSON view, registered under a module name of
    its own so the app's urls stay untouched."""
    from django.urls import path

    from elementsite.urls import urlpatterns

    name = "bench_listing_urls"
    module = types.ModuleType(name)
    # Ahead of the app's routes: the last one answers every other path with the studio.
    module.urlpatterns = [  # type: ignore[attr-defined]
        path(JSON_PATH.lstrip("/"), element_listing_view, name="bench-element-listing"),
        *urlpatterns,
    ]
    sys.modules[name] = module
    return name


# --- Data -------------------------------------------------------------------------------------


def seed(username: str = "bench-listing") -> str:
    """One user with ELEMENTS characters, each with 2–4 image rows and a bound voice (three of
    their own, one preset); returns a bearer token. Rows only: URLs are signed, not
    fetched, so no file is needed."""
    from django.utils import timezone

    from accounts.models import User
    from accounts.services import api_token_create
    from elements.models import Element, ReferenceImage, Voice

    user = User.objects.create_user(username=username)
    now = timezone.now()
    voices = [
        Voice.objects.create(
            owner=user,
            name=f"Bench voice {n}",
            audio=f"voices/bench-{n}.wav",
            duration_ms=12_000,
            sha256="0" * 64,
            source="upload",
            consent_statement="I recorded this myself.",
            consent_at=now,
        )
        for n in range(3)
    ]
    voices.append(
        Voice.objects.create(
            name="Bench preset",
            audio="voices/bench-preset.wav",
            duration_ms=9_000,
            sha256="0" * 64,
            source="preset",
        )
    )
    elements = Element.objects.bulk_create(
        Element(
            owner=user,
            name=f"Bench element {n:03d}",
            type="character",
            description=f"Element number {n}, with a description of ordinary length.",
            voice=voices[n % len(voices)],
            version=1 + n % 5,
            updated_at=now - datetime.timedelta(seconds=n),
        )
        for n in range(ELEMENTS)
    )
    ReferenceImage.objects.bulk_create(
        ReferenceImage(
            element=element,
            role="main" if position == 0 else "extra",
            position=position,
            image=f"elements/bench-{element.pk}-{position}.jpg",
            thumbnail=f"elements/thumbs/bench-{element.pk}-{position}.jpg",
            width=1024,
            height=768 + position,
            sha256="0" * 64,
        )
        for n, element in enumerate(elements)
        for position in range(2 + n % 3)
    )
    _, raw = api_token_create(user=user, name="bench listing")
    return raw


# --- Server and clients -----------------------------------------------------------------------


class Meter:
    """What serving a request cost the server thread: CPU time, and the minor page faults
    (Linux only; see `StackPadding`), summed per side. Hooked to Django's request_started
    and request_finished signals, so it adds no frame; it costs both sides the same, two
    getrusage calls a request."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.local = threading.local()
        self.totals: dict[str, list[float]] = {}

    def reset(self) -> None:
        with self.lock:
            self.totals = {}

    def per_request(self, side: str) -> tuple[float, float]:
        """Mean CPU seconds and minor page faults per request of `side`."""
        requests, cpu, faults = self.totals.get(side, [0, 0.0, 0.0])
        return (cpu / requests, faults / requests) if requests else (0.0, 0.0)

    @staticmethod
    def _usage() -> tuple[float, float]:
        if hasattr(resource, "RUSAGE_THREAD"):
            usage = resource.getrusage(resource.RUSAGE_THREAD)
            return usage.ru_utime + usage.ru_stime, float(usage.ru_minflt)
        return time.thread_time(), 0.0

    def started(self, sender: Any, environ: dict[str, Any], **kwargs: Any) -> None:
        side = "graphql" if environ.get("PATH_INFO") == "/graphql" else "json"
        self.local.start = (side, *self._usage())

    def finished(self, sender: Any, **kwargs: Any) -> None:
        start = getattr(self.local, "start", None)
        if start is None:
            return
        self.local.start = None
        side, cpu, faults = start
        cpu_now, faults_now = self._usage()
        with self.lock:
            totals = self.totals.setdefault(side, [0, 0.0, 0.0])
            totals[0] += 1
            totals[1] += cpu_now - cpu
            totals[2] += faults_now - faults

    @contextmanager
    def connected(self) -> Iterator[Meter]:
        from django.core.signals import request_finished, request_started

        request_started.connect(self.started, dispatch_uid="bench-listing-meter")
        request_finished.connect(self.finished, dispatch_uid="bench-listing-meter")
        try:
            yield self
        finally:
            request_started.disconnect(dispatch_uid="bench-listing-meter")
            request_finished.disconnect(dispatch_uid="bench-listing-meter")


class StackPadding:
    """The WSGI application, called under `frames` extra Python frames.

    On CPython 3.11 the cost of deep recursion depends on where the stack stands when it
    starts: the interpreter's frame stack grows in chunks, and a chunk is unmapped as soon
    as the frame that opened it returns, so code that keeps calling across a chunk boundary
    maps and unmaps memory on every call (python/cpython#142183; the fix, a spare chunk
    kept per thread, was backported to 3.13, not to 3.11). GraphQL execution recurses for
    every field, so its cost varies up to 3x with the depth of the server's and
    middleware's frames under it, repeating every chunk (about 114 frames of `_call`); a
    JSON view recurses far less. A measurement at one depth is a draw from that lottery,
    and one frame more in the middleware would redraw it. The rounds therefore spread over
    one chunk's worth of depths, the same for both sides, and the page faults per request
    (`Meter`) show how much of it a round met.
    """

    def __init__(self, app: Any) -> None:
        self.app = app
        self.frames = 0

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self._call(self.frames, environ, start_response)

    def _call(self, frames: int, environ: dict[str, Any], start_response: Any) -> Any:
        if frames > 0:
            return self._call(frames - 1, environ, start_response)
        return self.app(environ, start_response)


@contextmanager
def serve() -> Iterator[tuple[int, StackPadding]]:
    """The project's WSGI application on 127.0.0.1 and a free port, in a background thread."""
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
    from django.core.wsgi import get_wsgi_application

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    app = StackPadding(get_wsgi_application())
    server = ThreadedWSGIServer(("127.0.0.1", 0), QuietHandler, allow_reuse_address=False)
    server.set_app(app)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield server.server_address[1], app
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    body: bytes | None
    headers: dict[str, str]


def fetch(connection: http.client.HTTPConnection, call: Call) -> bytes:
    connection.request(call.method, call.path, body=call.body, headers=call.headers)
    response = connection.getresponse()
    body = response.read()
    if response.status != 200 or b'"errors"' in body:
        raise SystemExit(f"{call.method} {call.path} failed: {response.status} {body[:300]!r}")
    return body


def load(port: int, calls: list[Call], seconds: float) -> float:
    """Requests/s of CLIENTS threads, each sending `calls` in a loop over its own keep-alive
    connection until `seconds` have passed. Each thread's rate counts its requests up to its
    last completed one, so the request in flight at the deadline neither counts nor
    stretches the time."""
    rates: list[float] = []
    errors: list[BaseException] = []
    start = threading.Barrier(CLIENTS)
    lock = threading.Lock()

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            start.wait()
            began = time.perf_counter()
            deadline = began + seconds
            done, last = 0, began
            while last < deadline:
                fetch(connection, calls[done % len(calls)])
                done += 1
                last = time.perf_counter()
            with lock:
                rates.append(done / (last - began))
        except BaseException as exc:  # reported below, in the main thread
            with lock:
                errors.append(exc)
            start.abort()
        finally:
            connection.close()

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise SystemExit(f"listing load failed: {errors[0]!r}")
    return sum(rates)


# --- Checking that both sides return the same data --------------------------------------------


def _url_key(url: str) -> tuple[str, Any]:
    """A URL without its timestamp and signature: the prefix and the signed payload."""
    from django.core import signing

    from elements.media_urls import MEDIA_TOKEN_SALT

    parts = urllib.parse.urlsplit(url)
    prefix, token = parts.path.rsplit("/", 1)
    payload = signing.loads(urllib.parse.unquote(token), salt=MEDIA_TOKEN_SALT)
    return f"{parts.scheme}://{parts.netloc}{prefix}/", payload


def _comparable(element: dict[str, Any]) -> dict[str, Any]:
    voice = element["voice"]
    return {
        **element,
        "voice": voice and {**voice, "audioUrl": _url_key(voice["audioUrl"])},
        "images": [
            {
                **image,
                "url": _url_key(image["url"]),
                "thumbnailUrl": _url_key(image["thumbnailUrl"]),
            }
            for image in element["images"]
        ],
    }


def calls_for(port: int, token: str) -> tuple[list[Call], list[Call]]:
    """The two requests of one listing on each side, with the second page's cursor taken
    from a real first page, after checking that both sides list the same ELEMENTS elements
    (URLs compared by what they sign: their timestamps differ)."""
    auth = {"Authorization": f"Bearer {token}"}

    def graphql(after: str | None) -> Call:
        body = json.dumps({"query": LISTING_QUERY, "variables": {"after": after}}).encode()
        return Call("POST", "/graphql", body, {**auth, "Content-Type": "application/json"})

    def rest(after: str | None) -> Call:
        query = urllib.parse.urlencode({"first": PAGE, **({"after": after} if after else {})})
        return Call("GET", f"{JSON_PATH}?{query}", None, auth)

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        gql_pages = [json.loads(fetch(connection, graphql(None)))["data"]["elements"]]
        gql_cursor = gql_pages[0]["pageInfo"]["endCursor"]
        gql_pages.append(json.loads(fetch(connection, graphql(gql_cursor)))["data"]["elements"])
        json_pages = [json.loads(fetch(connection, rest(None)))]
        json_cursor = json_pages[0]["endCursor"]
        json_pages.append(json.loads(fetch(connection, rest(json_cursor))))
    finally:
        connection.close()

    via_graphql = [edge["node"] for page in gql_pages for edge in page["edges"]]
    via_json = [element for page in json_pages for element in page["elements"]]
    if not (
        len(via_graphql) == ELEMENTS
        and [page["pageInfo"]["hasNextPage"] for page in gql_pages] == [True, False]
        and [page["hasNextPage"] for page in json_pages] == [True, False]
        and [_comparable(e) for e in via_graphql] == [_comparable(e) for e in via_json]
    ):
        raise SystemExit("The GraphQL listing and the JSON view don't return the same data.")
    return [graphql(None), graphql(gql_cursor)], [rest(None), rest(json_cursor)]


# --- The benchmark ----------------------------------------------------------------------------


# Extra frames per round: spread over one chunk of CPython 3.11's frame stack (StackPadding).
PADDINGS = (0, 19, 38, 57, 76, 95)
QUICK_PADDINGS = (0, 38, 76)


def run_listing(quick: bool) -> dict[str, float]:
    """Django must be set up, with a migrated database. Returns the ratio GraphQL/JSON of
    requests/s (higher is better). Each side's requests/s is the harmonic mean of its rounds:
    the rate at the mean time per request over the stack depths the rounds cover."""
    from django.test.utils import override_settings

    paddings, seconds = (QUICK_PADDINGS, 0.75) if quick else (PADDINGS, 1.25)
    token = seed()
    graphql_rates: list[float] = []
    json_rates: list[float] = []
    with (
        override_settings(ROOT_URLCONF=bench_urlconf(), ALLOWED_HOSTS=["127.0.0.1"]),
        serve() as (port, app),
        Meter().connected() as meter,
    ):
        graphql_calls, json_calls = calls_for(port, token)
        load(port, graphql_calls, seconds / 2)  # warm-up: caches, connections, lazy imports
        load(port, json_calls, seconds / 2)
        meter.reset()
        for n, frames in enumerate(paddings):
            app.frames = frames
            # Which side goes first alternates, so drift hits both alike.
            sides = [(json_calls, json_rates), (graphql_calls, graphql_rates)]
            for calls, rates in sides if n % 2 == 0 else sides[::-1]:
                rates.append(load(port, calls, seconds))

    ratios = [g / j for g, j in zip(graphql_rates, json_rates, strict=True)]
    graphql_rate = statistics.harmonic_mean(graphql_rates)
    json_rate = statistics.harmonic_mean(json_rates)
    ratio = graphql_rate / json_rate
    graphql_cpu, graphql_faults = meter.per_request("graphql")
    json_cpu, json_faults = meter.per_request("json")
    print(
        f"\nListing {ELEMENTS} elements with their images (signed URLs) and voice over HTTP: "
        f"one WSGI server\non 127.0.0.1, {CLIENTS} keep-alive clients, pages of {PAGE} then "
        f"{ELEMENTS - PAGE} on both sides (2 requests a listing)"
    )

    def line(label: str, rate: float, cpu: float, faults: float) -> str:
        return (
            f"  {label:<40} {rate:>7.1f} req/s   server CPU "
            f"{cpu * 1e3:>6.1f} ms/req, {faults:>6.0f} page faults/req"
        )

    print(line(f"JSON view GET {JSON_PATH}", json_rate, json_cpu, json_faults))
    print(line("GraphQL elements(first: 100, after: …)", graphql_rate, graphql_cpu, graphql_faults))
    print(
        f"  ratio GraphQL/JSON {ratio:.2f}x in req/s (target ≥ 0.65x, higher is better); "
        f"{json_cpu / graphql_cpu if graphql_cpu else 0:.2f}x in server CPU per request\n"
        f"  per round (extra frames: ratio): "
        + ", ".join(f"{f}: {r:.2f}" for f, r in zip(paddings, ratios, strict=True))
        + f"\n  ({len(paddings)} rounds x {seconds:.2f} s a side; req/s: harmonic means of "
        "the rounds)"
    )
    return {"listing": ratio}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter rounds, a rough answer")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from run import setup_django

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="elementsite-bench-") as workdir:
        setup_django(Path(workdir))
        from django.db import connections

        try:
            run_listing(args.quick)
        finally:
            connections.close_all()
    print(f"took {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
