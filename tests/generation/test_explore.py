"""Explore: sharing, the feed, recreating, reports and moderation, and every bad input with
its code and nothing changed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from strawberry import relay

from accounts import services as account_services
from accounts.models import CreditLedgerEntry, User
from elements import services as element_services
from elements.models import Element
from generation.explore import services as explore_services
from generation.explore.models import (
    ExploreModerationEvent,
    ExploreRecreation,
    ExploreReport,
    ExploreWork,
    ExploreWorkFile,
    WorkStatus,
)
from generation.models import GenerationJob, JobStatus
from generation.selectors import pinned_file_names
from generation.services import job_finish
from tests.conftest import media_files
from tests.factories import TEST_PASSWORD, UserFactory
from tests.support.explore import (
    FEED,
    PROMPT,
    RECREATE,
    REPORT,
    SHARE,
    UNSHARE,
    codes,
    make_job,
    make_work,
    register,
)

pytestmark = pytest.mark.django_db


def gid(type_name: str, pk: Any) -> str:
    return str(relay.GlobalID(type_name, str(pk)))


@pytest.fixture
def author(db: None) -> User:
    user: Any = UserFactory(username="ada")
    account_services.credits_grant(user=user, amount=1000, reason="test credits")
    return user


@contextmanager
def nothing_changed() -> Iterator[None]:
    """Assert the block left no row, no file and no credit movement behind."""
    counts = lambda: (  # noqa: E731
        ExploreWork.objects.count(),
        ExploreWorkFile.objects.count(),
        ExploreReport.objects.count(),
        ExploreRecreation.objects.count(),
        ExploreModerationEvent.objects.count(),
        GenerationJob.objects.count(),
        CreditLedgerEntry.objects.count(),
        list(ExploreWork.objects.values_list("status", "recreate_count", "unshared_at")),
    )
    before, files = counts(), media_files()
    yield
    assert counts() == before
    assert media_files() == files


def share_call(api: Any, job: GenerationJob, output_id: Any = None, title: str = "T") -> dict:
    return api(
        SHARE,
        {
            "jobId": gid("GenerationJob", job.pk),
            "outputId": gid("GenerationOutput", output_id or job.outputs.get().pk),
            "title": title,
        },
    )["generationShare"]


# --- Sharing ----------------------------------------------------------------------------------


def test_bad_shares_each_have_a_code_and_change_nothing(author, django_capture_on_commit_callbacks):
    commits = django_capture_on_commit_callbacks
    job = make_job(author, commits)
    api = Client(enforce_csrf_checks=True)
    assert api.login(username=author.username, password=TEST_PASSWORD)
    from tests.support.graphql import UploadClient

    a = UploadClient(api)
    queued = make_job(author, commits, run=False)
    failed = make_job(author, commits, run=False)
    with transaction.atomic():
        job_finish(GenerationJob.objects.get(pk=failed.pk), JobStatus.FAILED, message="boom")
    output = job.outputs.get()
    other = make_job(author, commits, run=False)
    b = register("bob")

    with nothing_changed():
        # a job that did not succeed (queued, failed); an output of another job
        assert codes(share_call(a, queued, output_id=output.pk)) == ["JOB_NOT_SUCCEEDED"]
        assert codes(share_call(a, failed, output_id=output.pk)) == ["JOB_NOT_SUCCEEDED"]
        assert codes(share_call(a, job, output_id=999999)) == ["NOT_FOUND"]
        # someone else's job, even with its real ids
        assert codes(share_call(b, job)) == ["NOT_FOUND"]
        assert codes(share_call(b, job, title="   ")) == ["TITLE_REQUIRED"]
        assert codes(share_call(a, job, title="x" * 81)) == ["TITLE_TOO_LONG"]
        # a wrong kind of id
        bad = a(
            SHARE,
            {"jobId": gid("Element", 1), "outputId": gid("GenerationOutput", 1), "title": "T"},
        )["generationShare"]
        assert codes(bad) == ["NOT_FOUND"]
    assert other.status == JobStatus.QUEUED

    # sharing twice: the first is kept, the second refused by code and by the database
    assert share_call(a, job)["__typename"] == "ExploreShareResult"
    with nothing_changed():
        assert codes(share_call(a, job)) == ["ALREADY_SHARED"]
        work = ExploreWork.objects.get()
        with pytest.raises(IntegrityError), transaction.atomic():
            ExploreWork.objects.create(
                author=author,
                job=job,
                output=output,
                title="again",
                model=work.model,
                output_kind=work.output_kind,
                prompt=work.prompt,
                recipe=work.recipe,
                status=WorkStatus.APPROVED,
            )


def test_unshare_then_share_again(author, django_capture_on_commit_callbacks):
    work = make_work(author, django_capture_on_commit_callbacks)
    b = register("bob")
    with nothing_changed():
        assert codes(b(UNSHARE, {"id": gid("MySharedWork", work.pk)})["exploreUnshare"]) == [
            "NOT_FOUND"
        ]
    a = Client(enforce_csrf_checks=True)
    assert a.login(username=author.username, password=TEST_PASSWORD)
    from tests.conftest import GraphQLClient

    api = GraphQLClient(a)
    gone = api(UNSHARE, {"id": gid("MySharedWork", work.pk)})["exploreUnshare"]
    assert gone["work"]["unsharedAt"] is not None and gone["work"]["public"] is None
    assert b(FEED, {})["exploreFeed"]["totalCount"] == 0
    with nothing_changed():
        assert codes(b(RECREATE, {"workId": gid("ExploreWork", work.pk)})["exploreRecreate"]) == [
            "WORK_UNSHARED"
        ]
        assert codes(api(UNSHARE, {"id": gid("MySharedWork", work.pk)})["exploreUnshare"]) == [
            "WORK_UNSHARED"
        ]
    again = share_call(api, work.job)
    assert again["__typename"] == "ExploreShareResult"
    assert b(FEED, {})["exploreFeed"]["totalCount"] == 1


@pytest.mark.parametrize("mode", ["pre", "post"])
def test_moderation_setting(settings, author, django_capture_on_commit_callbacks, mode):
    settings.EXPLORE_MODERATION = mode
    work = make_work(author, django_capture_on_commit_callbacks)
    b = register("bob")
    feed = b(FEED, {})["exploreFeed"]
    if mode == "post":
        assert work.status == WorkStatus.APPROVED
        assert feed["totalCount"] == 1
        return
    assert work.status == WorkStatus.PENDING
    assert feed["totalCount"] == 0
    with nothing_changed():
        made = b(RECREATE, {"workId": gid("ExploreWork", work.pk)})["exploreRecreate"]
        assert codes(made) == ["NOT_FOUND"]
    staff = User.objects.create_superuser("mod", "m@example.com", TEST_PASSWORD)
    explore_services.explore_work_approve(staff=staff, work=work)
    assert b(FEED, {})["exploreFeed"]["totalCount"] == 1
    assert ExploreModerationEvent.objects.get().action == "approved"


# --- Recreate ---------------------------------------------------------------------------------


def test_recreate_refusals(author, django_capture_on_commit_callbacks):
    commits = django_capture_on_commit_callbacks
    work = make_work(author, commits)
    work_id = gid("ExploreWork", work.pk)
    poor = register("poor", credits=0)
    b = register("bob")
    staff = User.objects.create_superuser("mod", "m@example.com", TEST_PASSWORD)

    with nothing_changed():
        assert codes(poor(RECREATE, {"workId": work_id})["exploreRecreate"]) == [
            "INSUFFICIENT_CREDITS"
        ]
        assert codes(b(RECREATE, {"workId": gid("ExploreWork", 999999)})["exploreRecreate"]) == [
            "NOT_FOUND"
        ]
        assert codes(b(RECREATE, {"workId": gid("Element", work.pk)})["exploreRecreate"]) == [
            "NOT_FOUND"
        ]
        # The same row through the author's own view of it is not a work of the feed.
        assert codes(b(RECREATE, {"workId": gid("MySharedWork", work.pk)})["exploreRecreate"]) == [
            "NOT_FOUND"
        ]
        assert codes(b(RECREATE, {"workId": "not-a-global-id"})["exploreRecreate"]) == ["NOT_FOUND"]
        changed = b(
            RECREATE,
            {"workId": work_id, "overrides": {"promptText": "Nobody at all, just a sofa."}},
        )["exploreRecreate"]
        assert codes(changed) == ["MENTIONS_CHANGED"]
        assert codes(
            b(RECREATE, {"workId": work_id, "overrides": {"aspectRatio": "7:3"}})["exploreRecreate"]
        ) == ["INVALID_ASPECT_RATIO"]

    # the element it used is blocked by staff
    element = Element.objects.get(owner=author)
    element_services.element_block(staff=staff, element=element, reason="Impersonation")
    with nothing_changed():
        assert codes(b(RECREATE, {"workId": work_id})["exploreRecreate"]) == ["ELEMENT_BLOCKED"]
    element_services.element_unblock(staff=staff, element=Element.objects.get(pk=element.pk))

    # the voice it speaks with is taken down
    element_services.voice_take_down(staff=staff, voice=element.voice, reason="No consent")
    with nothing_changed():
        assert codes(b(RECREATE, {"workId": work_id})["exploreRecreate"]) == ["VOICE_TAKEN_DOWN"]


def test_recreate_with_overrides_and_after_the_author_deletes_the_element(
    author, django_capture_on_commit_callbacks
):
    commits = django_capture_on_commit_callbacks
    work = make_work(author, commits)
    recipe_files = set(ExploreWorkFile.objects.filter(work=work).values_list("file", flat=True))
    assert recipe_files == explore_services.recipe_files(work.recipe)
    assert pinned_file_names(recipe_files) == recipe_files

    # The author deletes the element: the recipe's files stay, recreations still speak.
    element_services.element_delete(owner=author, element_id=Element.objects.get(owner=author).pk)
    assert Element.objects.filter(owner=author).count() == 0
    stored = media_files()
    assert recipe_files <= stored

    b = register("bob")
    new_prompt = PROMPT.replace("walks next to", "dances beside")
    with commits(execute=True):
        made = b(
            RECREATE,
            {
                "workId": gid("ExploreWork", work.pk),
                "overrides": {"promptText": new_prompt, "aspectRatio": "1:1"},
            },
        )["exploreRecreate"]
    assert made["__typename"] == "ExploreRecreateResult", made
    assert (made["job"]["prompt"], made["job"]["aspectRatio"]) == (new_prompt, "1:1")
    job = GenerationJob.objects.get(pk=relay.GlobalID.from_id(made["job"]["id"]).node_id)
    assert job.status == JobStatus.SUCCEEDED, job.error_message
    assert job.outputs.get().has_audio is True
    work.refresh_from_db()
    assert work.recreate_count == 1


# --- Reports ----------------------------------------------------------------------------------


def test_reports(author, django_capture_on_commit_callbacks):
    work = make_work(author, django_capture_on_commit_callbacks)
    work_id = gid("ExploreWork", work.pk)
    from tests.conftest import GraphQLClient

    client = Client(enforce_csrf_checks=True)
    assert client.login(username=author.username, password=TEST_PASSWORD)
    a = GraphQLClient(client)
    b = register("bob")

    with nothing_changed():
        assert codes(a(REPORT, {"workId": work_id, "reason": "spam"})["exploreReport"]) == [
            "OWN_WORK"
        ]
        assert codes(b(REPORT, {"workId": work_id, "reason": "  "})["exploreReport"]) == [
            "REASON_REQUIRED"
        ]
        assert codes(
            b(REPORT, {"workId": gid("ExploreWork", 999999), "reason": "spam"})["exploreReport"]
        ) == ["NOT_FOUND"]
    assert b(REPORT, {"workId": work_id, "reason": "Stolen character"})["exploreReport"] == {
        "__typename": "ExploreReportResult",
        "reported": True,
    }
    with nothing_changed():
        assert codes(b(REPORT, {"workId": work_id, "reason": "again"})["exploreReport"]) == [
            "ALREADY_REPORTED"
        ]
    report = ExploreReport.objects.get()
    assert (report.reporter.username, report.reason) == ("bob", "Stolen character")


def test_admin_queue_puts_reported_works_first_and_audits_every_action(
    author, django_capture_on_commit_callbacks
):
    commits = django_capture_on_commit_callbacks
    reported = make_work(author, commits, title="Reported")
    make_work(author, commits, title="Quiet", name="Other One")
    b = register("bob")
    explore_services.explore_report(user=b.user, work_id=reported.pk, reason="Gore")
    staff = User.objects.create_superuser("mod", "m@example.com", TEST_PASSWORD)
    admin = Client()
    assert admin.login(username="mod", password=TEST_PASSWORD)

    queue = admin.get("/admin/explore/explorework/")
    assert [w.title for w in queue.context["cl"].result_list] == ["Reported", "Quiet"]
    page = admin.get(f"/admin/explore/explorework/{reported.pk}/change/")
    assert page.status_code == 200
    assert b"Gore" in page.content and b"<video" in page.content
    preview = admin.get(f"/admin/explore/explorework/file/output/{reported.pk}/")
    assert preview.status_code == 200 and preview["Content-Type"] == "video/mp4"
    assert Client().get(f"/admin/explore/explorework/file/output/{reported.pk}/").status_code == 302

    # hide needs a reason: without one the form comes back and nothing changes
    with nothing_changed():
        form = admin.post(
            "/admin/explore/explorework/",
            {"action": "hide_works", "_selected_action": [reported.pk], "apply": "1", "reason": ""},
        )
        assert form.status_code == 200
    with pytest.raises(ValidationError) as refused, nothing_changed():
        explore_services.explore_work_hide(staff=staff, work=reported, reason=" ")
    assert refused.value.error_dict["reason"][0].code == "REASON_REQUIRED"

    admin.post(
        "/admin/explore/explorework/",
        {"action": "hide_works", "_selected_action": [reported.pk], "apply": "1", "reason": "Gore"},
    )
    reported.refresh_from_db()
    assert (reported.status, reported.hidden_reason) == (WorkStatus.HIDDEN, "Gore")
    assert ExploreReport.objects.get().resolved_at is not None
    queue = admin.get("/admin/explore/explorework/")
    assert [w.title for w in queue.context["cl"].result_list] == ["Quiet", "Reported"]

    admin.post(
        "/admin/explore/explorework/",
        {"action": "restore_works", "_selected_action": [reported.pk]},
    )
    reported.refresh_from_db()
    assert (reported.status, reported.hidden_reason) == (WorkStatus.APPROVED, "")
    assert b(FEED, {})["exploreFeed"]["totalCount"] == 2
    events = list(
        ExploreModerationEvent.objects.order_by("id").values_list(
            "action", "reason", "reports_resolved", "staff__username"
        )
    )
    assert events == [("hidden", "Gore", 1, "mod"), ("restored", "Restored", 0, "mod")]

    # a non-staff user can't act through the service either
    with nothing_changed(), pytest.raises(PermissionDenied):
        explore_services.explore_work_hide(staff=b.user, work=reported, reason="x")


# --- The feed ---------------------------------------------------------------------------------


def _clone_work(work: ExploreWork, n: int) -> ExploreWork:
    """Another shared work over a new output row (same files): feeds of many works without
    rendering each one."""
    output = work.output
    output.pk = None
    output.save()
    clone = ExploreWork.objects.get(pk=work.pk)
    clone.pk = None
    clone.output = output
    clone.title = f"Work {n}"
    clone.recreate_count = n % 7
    if n % 2:
        clone.model, clone.output_kind = "IMAGE_O1", "image"
    clone.save()
    return clone


def test_feed_orders_filters_and_keeps_a_constant_query_count(
    author, django_capture_on_commit_callbacks
):
    work = make_work(author, django_capture_on_commit_callbacks)
    b = register("bob")

    def run(**variables: Any) -> tuple[dict, int]:
        with CaptureQueriesContext(connection) as queries:
            feed = b(FEED, variables)["exploreFeed"]
        return feed, len(queries)

    for n in range(1, 5):
        _clone_work(work, n)
    five, five_queries = run()
    assert five["totalCount"] == 5
    for n in range(5, 30):
        _clone_work(work, n)
    thirty, thirty_queries = run()
    assert thirty["totalCount"] == 30
    assert thirty_queries == five_queries, (five_queries, thirty_queries)

    popular, _ = run(order="MOST_RECREATED")
    counts = [e["node"]["recreateCount"] for e in popular["edges"]]
    assert counts == sorted(counts, reverse=True)
    images, _ = run(kind="IMAGE")
    assert images["totalCount"] == 15
    assert {e["node"]["model"] for e in images["edges"]} == {"IMAGE_O1"}
    omni, _ = run(model="VIDEO_3_0_OMNI", kind="VIDEO")
    assert omni["totalCount"] == 15
    # hidden works and pending ones are not in it
    ExploreWork.objects.filter(title__in=["Work 2", "Work 4"]).update(
        status=WorkStatus.HIDDEN, hidden_reason="x"
    )
    ExploreWork.objects.filter(title="Work 6").update(status=WorkStatus.PENDING)
    assert run()[0]["totalCount"] == 27


def test_no_field_path_leads_from_a_public_work_into_an_account():
    """Walk the schema from the public types: no field reaches an element, voice, image,
    job, pinned snapshot, user, or the owner's view of a work."""
    from elementsite.schema import schema

    forbidden = {
        "Element",
        "Voice",
        "ReferenceImage",
        "GenerationJob",
        "GenerationOutput",
        "PinnedElement",
        "MySharedWork",
        "Usage",
        "User",
        "Node",
    }
    gql_schema = schema._schema
    seen: set[str] = set()
    todo = ["ExploreWork", "ExploreOutput"]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        graphql_type = gql_schema.get_type(name)
        for field in getattr(graphql_type, "fields", {}).values():
            inner = field.type
            while hasattr(inner, "of_type"):
                inner = inner.of_type
            todo.append(inner.name)
    assert not (seen & forbidden), seen & forbidden
    fields = set(gql_schema.get_type("ExploreWork").fields)  # type: ignore[union-attr]
    assert fields == {
        "id",
        "title",
        "caption",
        "model",
        "outputKind",
        "recreateCount",
        "createdAt",
        "promptText",
        "authorName",
        "output",
    }
    # A recreator's own job shows the pinned snapshot by name only: no id, no file.
    pinned = set(gql_schema.get_type("PinnedElement").fields)  # type: ignore[union-attr]
    assert pinned == {"position", "name", "type", "version", "voiceName"}


def test_recipe_files_are_unreachable_from_another_account(
    author, django_capture_on_commit_callbacks
):
    commits = django_capture_on_commit_callbacks
    work = make_work(author, commits)
    element = Element.objects.get(owner=author)
    b = register("bob")
    with commits(execute=True):
        made = b(RECREATE, {"workId": gid("ExploreWork", work.pk)})["exploreRecreate"]
    new_job = GenerationJob.objects.get(pk=relay.GlobalID.from_id(made["job"]["id"]).node_id)
    pinned = new_job.elements.get()
    query = """query ($id: ID!) { node(id: $id) { __typename } }"""
    ids = [
        gid("Element", element.pk),
        gid("Voice", element.voice_id),
        gid("ReferenceImage", element.images.first().pk),  # type: ignore[union-attr]
        gid("GenerationJob", work.job_id),
        gid("GenerationOutput", work.output_id),
        gid("MySharedWork", work.pk),
        gid("Element", pinned.pk),  # the pin's own id, tried as an element
    ]
    for global_id in ids:
        assert b(query, {"id": global_id})["node"] is None, global_id
    # B's own job: the pinned snapshot by name, its files never offered
    seen = b(
        """query ($id: ID!) { generationJob(id: $id) { elements { name voiceName }
        recreatedFrom { authorName } } }""",
        {"id": made["job"]["id"]},
    )["generationJob"]
    assert seen == {
        "elements": [{"name": "Little Scholar", "voiceName": None}],
        "recreatedFrom": {"authorName": "ada"},
    }
    # a signed link to a recipe file is A's alone: B fetching it gets a bare 404
    from elements.media_urls import media_url

    for name in (pinned.voice_file, pinned.images.first().file):  # type: ignore[union-attr]
        assert b.client.get(media_url(name, owner_id=author.pk)).status_code == 404
    # A's usage record is A's: B asking for it through B's own elements gets nothing of A's
    assert b("{ elements(first: 5) { totalCount } }")["elements"]["totalCount"] == 0
    assert default_storage.exists(pinned.voice_file)


USAGE = """
query Usage($id: ID!) {
  node(id: $id) {
    ... on Element {
      usage {
        jobs(first: 50) { totalCount edges { node { id status outputs { id } } } }
        sharedWorks(first: 50) {
          totalCount edges { node { id title status recreateCount public { id } } }
        }
        recreationCount
      }
    }
  }
}"""


def test_usage_lists_keep_a_constant_query_count(author, django_capture_on_commit_callbacks):
    commits = django_capture_on_commit_callbacks
    image_prompt = "[@Little Scholar] reads a book by the window."
    from tests.conftest import GraphQLClient

    client = Client(enforce_csrf_checks=True)
    assert client.login(username=author.username, password=TEST_PASSWORD)
    a = GraphQLClient(client)
    b = register("bob")
    make_work(author, commits, model="IMAGE_3_0_OMNI", prompt=image_prompt)
    element_id = gid("Element", Element.objects.get(owner=author).pk)

    def run() -> tuple[dict, int]:
        with CaptureQueriesContext(connection) as queries:
            usage = a(USAGE, {"id": element_id})["node"]["usage"]
        return usage, len(queries)

    run()  # the first request also fetches a CSRF cookie
    one, one_queries = run()
    assert (one["jobs"]["totalCount"], one["sharedWorks"]["totalCount"]) == (1, 1)
    for n in range(3):
        work = make_work(
            author, commits, model="IMAGE_3_0_OMNI", prompt=image_prompt, title=f"More {n}"
        )
        with commits(execute=True):
            explore_services.explore_recreate(user=b.user, work_id=work.pk)
    many, many_queries = run()
    assert (many["jobs"]["totalCount"], many["sharedWorks"]["totalCount"]) == (4, 4)
    assert many["recreationCount"] == 3
    assert many_queries == one_queries, (one_queries, many_queries)
    # B's recreations are B's jobs: not in A's job list
    assert GenerationJob.objects.count() == 7
