from __future__ import annotations

import importlib
import os
import shutil
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client

from tests.factories import TEST_PASSWORD, UserFactory

# Shared with the test modules through tests/support/; imported here for the fixtures below
# and for the modules that still import them from conftest.
from tests.support.graphql import GraphQLClient
from tests.support.media import media_files

__all__ = ["GraphQLClient", "media_files", "service_missing"]

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    from django.conf import settings

    shutil.rmtree(settings.MEDIA_ROOT, ignore_errors=True)
    shutil.rmtree(settings.GENERATION_WORK_DIR, ignore_errors=True)


def service_missing(reason: str) -> None:
    """Skip a test whose outside service (PostgreSQL, Redis…) is absent; fail in CI, where
    every service must be there."""
    if IN_CI:
        pytest.fail(f"service missing in CI: {reason}")
    pytest.skip(f"service missing: {reason}")


@pytest.fixture(autouse=True)
def _seeded_rows_in_transactional_tests(request: pytest.FixtureRequest) -> None:
    """Transactional tests flush the database, data migrations included: seed it again."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None or not marker.kwargs.get("transaction"):
        return
    request.getfixturevalue("transactional_db")
    from django.apps import apps

    importlib.import_module("accounts.migrations.0002_seed_membership_tiers").seed(apps, None)
    importlib.import_module("accounts.migrations.0004_membership_tier_signup_grant").seed(
        apps, None
    )
    importlib.import_module("generation.migrations.0002_seed_prices").seed(apps, None)


@pytest.fixture
def gql() -> GraphQLClient:
    return GraphQLClient()


@pytest.fixture
def user(db: None) -> Any:
    return UserFactory()


@pytest.fixture
def logged_in(user: Any) -> Callable[[], GraphQLClient]:
    def make() -> GraphQLClient:
        client = Client(enforce_csrf_checks=True)
        assert client.login(username=user.username, password=TEST_PASSWORD)
        return GraphQLClient(client)

    return make


@pytest.fixture
def cluster_name(monkeypatch: pytest.MonkeyPatch) -> str:
    """A cluster name of this test's own, so a real qcluster takes only this test's tasks."""
    from tests.support import clusters

    return clusters.use_cluster_name(monkeypatch)


@pytest.fixture
def broker(cluster_name: str) -> Iterator[Any]:
    """The configured broker (ORM, or Redis when REDIS_URL is set) for that cluster."""
    from tests.support import clusters

    with clusters.open_broker(cluster_name) as broker:
        yield broker
