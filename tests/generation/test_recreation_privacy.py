"""A recreator's job shows nothing of the author's library beyond what `ExploreWork` shows.

The author's job uses a voiced character it mentions and a prop bound without a mention.
The recreator's job is read through GraphQL with a query built by walking *every* field
reachable from `GenerationJob` in the schema, so a field added later is walked too.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from graphql import GraphQLNonNull, GraphQLObjectType, GraphQLSchema
from strawberry import relay

from accounts import services as account_services
from elements import services as element_services
from elements.models import Element
from generation.explore import services as explore_services
from generation.explore.models import ExploreWork
from generation.models import GenerationJob, JobStatus
from generation.services import JobRequest, generation_submit
from tests.factories import UserFactory
from tests.support.explore import CONSENT, RECREATE, codes, register
from tests.support.media import audio_upload, image_upload

pytestmark = pytest.mark.django_db

VOICE_NAME = "Velvet Baritone Take 7"
HIDDEN_PROP = "Brass Astrolabe"
DESCRIPTION = "A secret description only the author wrote"
PROMPT = 'Shot 1 (2s): [@Little Scholar] waves. Shot 2 (2s): [@Little Scholar] says, "Hello."'


def _unwrap(graphql_type: Any) -> Any:
    while hasattr(graphql_type, "of_type"):
        graphql_type = graphql_type.of_type
    return graphql_type


def selection(schema: GraphQLSchema, type_name: str, path: tuple[str, ...] = ()) -> str:
    """Every field of `type_name` and, recursively, of the object types it leads to (a type
    already on the path is not entered again; connections are asked for their first page)."""
    graphql_type = schema.get_type(type_name)
    assert isinstance(graphql_type, GraphQLObjectType), type_name
    parts = []
    for name, field in graphql_type.fields.items():
        required = [a for a, arg in field.args.items() if isinstance(arg.type, GraphQLNonNull)]
        assert not required, f"{type_name}.{name} needs {required}: give it a value here"
        inner = _unwrap(field.type)
        args = "(first: 10)" if "first" in field.args else ""
        if isinstance(inner, GraphQLObjectType):
            if inner.name in path:
                continue
            parts.append(f"{name}{args} {{ {selection(schema, inner.name, (*path, type_name))} }}")
        elif hasattr(inner, "fields"):  # an interface or union: its typename is enough
            parts.append(f"{name}{args} {{ __typename }}")
        else:
            parts.append(f"{name}{args}")
    return " ".join(parts)


@pytest.fixture
def work(django_capture_on_commit_callbacks: Any) -> ExploreWork:
    author: Any = UserFactory(username="ada")
    account_services.credits_grant(user=author, amount=1000, reason="test credits")
    element_services.element_create(
        owner=author,
        name="Little Scholar",
        element_type="character",
        description=DESCRIPTION,
        main_image=image_upload(),
        extra_images=[image_upload(color=(1, 1, 1))],
        voice_upload=element_services.VoiceUpload(
            file=audio_upload(seconds=6, volume=0.8), name=VOICE_NAME, consent_statement=CONSENT
        ),
    )
    prop = element_services.element_create(
        owner=author,
        name=HIDDEN_PROP,
        element_type="prop",
        main_image=image_upload(color=(200, 150, 10)),
        extra_images=[image_upload(color=(9, 9, 9))],
    ).element
    with django_capture_on_commit_callbacks(execute=True):
        job = generation_submit(
            owner=author,
            request=JobRequest(
                model="VIDEO_3_0_OMNI",  # type: ignore[arg-type]
                prompt=PROMPT,
                bound_element_ids=[prop.pk],
            ),
        )
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error_message
    assert job.elements.count() == 2
    return explore_services.generation_share(
        owner=author, job_id=job.pk, output_id=job.outputs.get().pk, title="Wave"
    )


def test_every_field_of_a_recreated_job_shows_only_what_the_work_shows(
    work: ExploreWork, django_capture_on_commit_callbacks: Any
) -> None:
    from elementsite.schema import schema

    b = register("bob")
    with django_capture_on_commit_callbacks(execute=True):
        made = b(RECREATE, {"workId": str(relay.GlobalID("ExploreWork", str(work.pk)))})
    job_id = made["exploreRecreate"]["job"]["id"]
    query = (
        "query ($id: ID!) { generationJob(id: $id) { "
        f"{selection(schema._schema, 'GenerationJob')} }} }}"
    )
    seen = b(query, {"id": job_id})["generationJob"]
    assert seen["status"] == "SUCCEEDED", seen
    assert seen["recreatedFrom"]["promptText"] == PROMPT

    # the mentioned element by its name, nothing else of it; the unmentioned one not at all
    assert seen["elements"] == [
        {"position": 1, "name": "Little Scholar", "type": None, "version": None, "voiceName": None}
    ]
    text = json.dumps(seen)
    author_elements = Element.objects.filter(owner=work.author)
    secrets = [VOICE_NAME, HIDDEN_PROP, DESCRIPTION, "character", "prop"]
    secrets += [str(relay.GlobalID("Element", str(e.pk))) for e in author_elements]
    secrets += [str(relay.GlobalID("GenerationJob", str(work.job_id)))]
    secrets += [str(relay.GlobalID("MySharedWork", str(work.pk)))]
    secrets += sorted(explore_services.recipe_files(work.recipe))
    leaked = [s for s in secrets if s.lower() in text.lower()]
    assert not leaked, leaked

    # the author's own job still shows its full snapshot
    own = GenerationJob.objects.get(pk=work.job_id)
    author_api = _login(work.author)
    mine = author_api(
        "query ($id: ID!) { generationJob(id: $id) { elements { name type version voiceName } } }",
        {"id": str(relay.GlobalID("GenerationJob", str(own.pk)))},
    )["generationJob"]
    assert mine["elements"] == [
        {"name": "Little Scholar", "type": "character", "version": 1, "voiceName": VOICE_NAME},
        {"name": HIDDEN_PROP, "type": "prop", "version": 1, "voiceName": ""},
    ]


def test_recreate_refuses_a_shared_work_id_of_the_authors_view(work: ExploreWork) -> None:
    b = register("bob")
    balance = b.user.wallet.balance  # type: ignore[attr-defined]
    jobs = GenerationJob.objects.count()
    for type_name in ("MySharedWork", "GenerationJob", "Element"):
        payload = b(RECREATE, {"workId": str(relay.GlobalID(type_name, str(work.pk)))})
        assert codes(payload["exploreRecreate"]) == ["NOT_FOUND"], type_name
    # the author's own handle on it is refused too: only the public id recreates
    author_api = _login(work.author)
    payload = author_api(RECREATE, {"workId": str(relay.GlobalID("MySharedWork", str(work.pk)))})
    assert codes(payload["exploreRecreate"]) == ["NOT_FOUND"]
    b.user.wallet.refresh_from_db()  # type: ignore[attr-defined]
    assert b.user.wallet.balance == balance  # type: ignore[attr-defined]
    assert GenerationJob.objects.count() == jobs
    work.refresh_from_db()
    assert work.recreate_count == 0


def _login(user: Any) -> Any:
    from django.test import Client

    from tests.support.graphql import UploadClient

    client = Client()
    client.force_login(user)
    api = UploadClient(client)
    api.user = user  # type: ignore[attr-defined]
    return api
