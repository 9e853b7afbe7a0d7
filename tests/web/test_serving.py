"""How the service serves the built web studio and GraphiQL (no browser needed)."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

INDEX = (
    '<!doctype html><html><head><script type="module" src="/assets/studio-abc.js"></script>'
    '</head><body><div id="root"></div></body></html>'
)


SCRIPT = b"console.log('studio');" * 50


@pytest.fixture
def dist(tmp_path: Path, settings) -> Path:
    root = tmp_path / "dist"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text(INDEX)
    (root / "graphiql.html").write_text(
        "<!doctype html><title>GraphiQL</title><div id=graphiql></div>"
    )
    (root / "assets" / "studio-abc.js").write_text("console.log('studio');" * 50)
    (root / "assets" / "studio-abc.js.gz").write_bytes(gzip.compress(SCRIPT))
    (root / "assets" / "studio-abc.css").write_text("body{color:red}")
    (tmp_path / "secret.txt").write_text("outside dist")
    settings.WEB_DIST = root
    return root


@pytest.mark.parametrize(
    "path", ["/", "/library", "/elements/RWxlbWVudDox", "/elements/new/video", "/voices?x=1"]
)
def test_client_routes_answer_the_spa_with_a_csrf_cookie(dist: Path, path: str) -> None:
    response = Client().get(path)
    assert response.status_code == 200
    assert response.content.decode() == INDEX
    assert response["Content-Type"].startswith("text/html")
    assert response["Cache-Control"] == "no-cache"
    assert "csrftoken" in response.cookies


def test_hashed_assets_are_cached_for_a_year_and_gzipped_when_accepted(dist: Path) -> None:
    plain = Client().get("/assets/studio-abc.js")
    assert plain.status_code == 200
    assert plain["Content-Type"] == "text/javascript"
    assert plain["Cache-Control"] == "public, max-age=31536000, immutable"
    assert "Content-Encoding" not in plain
    assert b"".join(plain.streaming_content) == SCRIPT

    zipped = Client().get("/assets/studio-abc.js", HTTP_ACCEPT_ENCODING="gzip, br")
    assert zipped["Content-Encoding"] == "gzip"
    assert zipped["Content-Type"] == "text/javascript"
    assert "Accept-Encoding" in zipped["Vary"]
    assert gzip.decompress(b"".join(zipped.streaming_content)) == SCRIPT

    css = Client().get("/assets/studio-abc.css", HTTP_ACCEPT_ENCODING="gzip")
    assert css["Content-Type"] == "text/css"
    assert "Content-Encoding" not in css


@pytest.mark.parametrize(
    "path",
    [
        "/assets/missing.js",
        "/assets/../secret.txt",
        "/assets/%2e%2e/secret.txt",
        "/assets/studio-abc.js.gz",
    ],
)
def test_unknown_or_outside_assets_are_404(dist: Path, path: str) -> None:
    response = Client().get(path)
    assert response.status_code == 404
    assert b"outside dist" not in response.content


def test_assets_refuse_writes(dist: Path) -> None:
    assert Client().post("/assets/studio-abc.js").status_code == 405
    assert Client().post("/library").status_code == 405


def test_without_a_build_the_root_says_how_to_build_it(tmp_path: Path, settings) -> None:
    settings.WEB_DIST = tmp_path / "nothing-here"
    response = Client().get("/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "not built yet" in body
    assert "npm ci &amp;&amp; npm run build" in body
    assert "<script" not in body


def test_api_admin_and_media_paths_are_not_swallowed_by_the_spa(dist: Path) -> None:
    assert Client().get("/admin").status_code == 301
    assert Client().get("/admin/").status_code == 302  # to the admin login
    assert Client().get("/media-files/nope").status_code == 404
    assert Client().get("/graphqlx").status_code == 404
    body = Client().post(
        "/graphql", {"query": "{ me { username } }"}, content_type="application/json"
    )
    assert body.json() == {"data": {"me": None}}


def test_graphiql_is_our_build_with_no_cdn(dist: Path) -> None:
    response = Client().get("/graphql", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    body = response.content.decode()
    assert "<div id=graphiql>" in body
    assert "unpkg" not in body and "jsdelivr" not in body and "esm.sh" not in body
    assert "csrftoken" in response.cookies


def test_graphiql_without_a_build_says_how_to_build_it(tmp_path: Path, settings) -> None:
    settings.WEB_DIST = tmp_path / "nothing-here"
    response = Client().get("/graphql", HTTP_ACCEPT="text/html")
    body = response.content.decode()
    assert "GraphiQL is not built yet" in body
    assert "http" not in body.replace('href="/', "")


def test_the_real_build_loads_nothing_from_outside(settings) -> None:
    """The committed build config: every script and style of both pages is one of ours."""
    dist = Path(settings.WEB_DIST)
    if not (dist / "index.html").is_file():
        from tests.conftest import service_missing

        service_missing("web/dist is not built")
    for page in ("index.html", "graphiql.html"):
        html = (dist / page).read_text()
        assert "://" not in html, f"{page} refers to an outside address"
