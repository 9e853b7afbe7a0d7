"""Prompts reach every element the user may use: their own library, then their teams'.

`[@Name]` resolves in the personal library first, then in the teams; a name in two teams or
more (and not personal) is AMBIGUOUS_MENTION, whose suggestions are the qualified forms
`Name@handle`; `[@Name@handle]` and `[@Name@me]` resolve in that library only and compile back
to the same elements. A job is its submitter's: charged to them, pinned as the element was,
kept when they leave the team; a member who left has lost the team's elements at once.
(Teams are made as rows here: the team services are another change's.)"""

from __future__ import annotations

from typing import Any, cast

import pytest
from django.core.exceptions import ValidationError
from strawberry import relay

from accounts import services as account_services
from accounts.models import CreditLedgerEntry
from elements import selectors
from elements.models import Element, ElementStatus
from elements.teams.models import Team, TeamMembership, TeamRole
from elements.teams.policy import Library, personal_library
from generation import services
from generation.catalog import MODELS, ModelCode
from generation.explore import services as explore_services
from generation.models import GenerationJob, JobStatus
from generation.prompts import (
    LibraryElement,
    MentionKind,
    PromptErrorCode,
    compile_prompt,
    qualified_mention,
    qualified_prompt,
)
from tests.conftest import media_files
from tests.factories import ElementFactory, GenerationOutputFactory, UserFactory
from tests.support.graphql import logged_in_client
from tests.support.studio import PREVIEW, job_of, studio_client, submit

IMAGE = MODELS[ModelCode.IMAGE_O1]


# --- The compiler (no database) ---------------------------------------------------------------


def el(element_id: int, name: str, library: str = "me", **kwargs: Any) -> LibraryElement:
    return LibraryElement(element_id, name, library=library, **kwargs)


def compile_(text: str, library: list[LibraryElement], **kwargs: Any) -> Any:
    return compile_prompt(text, model=IMAGE, library=library, **kwargs)


def codes(plan: Any) -> list[str]:
    return [issue.code for issue in plan.issues]


def test_a_name_resolves_in_the_personal_library_first():
    library = [el(2, "Hero", "studio-nine"), el(1, "Hero"), el(3, "Hero", "north")]

    for text in ("[@Hero] waves.", "[@ hero ] waves.", "@Hero waves."):
        plan = compile_(text, library)
        assert plan.ok, plan.issues
        assert plan.element_ids == (1,)
        assert plan.provider_prompt == "<<<element_1>>> waves."


def test_a_name_only_a_team_has_resolves_there():
    plan = compile_("[@Villain] and @Villain laugh.", [el(1, "Hero"), el(7, "Villain", "north")])

    assert plan.ok, plan.issues
    assert plan.element_ids == (7,)
    assert plan.elements[0].element.library == "north"
    assert plan.provider_prompt == "<<<element_1>>> and <<<element_1>>> laugh."


def test_a_name_in_two_teams_is_ambiguous_and_lists_the_qualified_forms():
    library = [el(3, "Hero", "studio-nine"), el(2, "Hero", "north"), el(9, "Tokyo Street")]

    plan = compile_("[@Hero] walks down [@Tokyo Street].", library)

    assert codes(plan) == [PromptErrorCode.AMBIGUOUS_MENTION]
    (issue,) = plan.issues
    assert issue.suggestions == ["Hero@north", "Hero@studio-nine"]
    assert issue.message == (
        '[@Hero]: "Hero" is in more than one of your team libraries; say which: '
        "[@Hero@north] or [@Hero@studio-nine]."
    )
    assert plan.element_ids == (9,)  # the ambiguous one is left as written
    assert plan.provider_prompt == "[@Hero] walks down <<<element_1>>>."
    # Bare, the same; reported once per name.
    bare = compile_("@Hero waves at [@Hero].", library)
    assert codes(bare) == [PromptErrorCode.AMBIGUOUS_MENTION]
    assert [m.kind for m in bare.mentions] == [MentionKind.AMBIGUOUS] * 2


def test_qualified_forms_resolve_in_that_library_only():
    library = [el(1, "Hero"), el(2, "Hero", "north"), el(3, "Hero", "studio-nine")]

    for text, expected in [
        ("[@Hero@north] waves.", 2),
        ("[@Hero@STUDIO-NINE] waves.", 3),
        ("[@ Hero @ studio-nine ] waves.", 3),
        ("[@hero@me] waves.", 1),
        ("@Hero@north waves.", 2),
        ("@Hero@studio-nine, waves.", 3),
    ]:
        plan = compile_(text, library)
        assert plan.ok, (text, plan.issues)
        assert plan.element_ids == (expected,), text
        assert plan.provider_prompt.startswith("<<<element_1>>>"), text
        assert plan.provider_prompt.endswith("waves."), text
    # Each library's element is its own reference.
    both = compile_("[@Hero@north] meets [@Hero@studio-nine] and [@Hero].", library)
    assert both.element_ids == (2, 3, 1)
    assert both.provider_prompt == "<<<element_1>>> meets <<<element_2>>> and <<<element_3>>>."


def test_a_qualified_mention_of_an_unknown_library_or_name_is_unknown_with_suggestions():
    library = [el(2, "Hero", "north"), el(3, "Hero", "studio-nine"), el(4, "Sidekick", "north")]

    elsewhere = compile_("[@Hero@nowhere] waves.", library)
    assert codes(elsewhere) == [PromptErrorCode.UNKNOWN_MENTION]
    assert elsewhere.issues[0].suggestions == ["Hero@north", "Hero@studio-nine"]
    assert elsewhere.issues[0].message.startswith(
        "[@Hero@nowhere]: no element with this name in the library @nowhere."
    )
    # Not in the personal library: the teams that have it.
    mine = compile_("[@Hero@me] waves.", library)
    assert codes(mine) == [PromptErrorCode.UNKNOWN_MENTION]
    assert mine.issues[0].suggestions == ["Hero@north", "Hero@studio-nine"]
    # A typo within a library: its close names there, as they are mentioned.
    typo = compile_("[@Sidekik@north] waves.", library)
    assert codes(typo) == [PromptErrorCode.UNKNOWN_MENTION]
    assert typo.issues[0].suggestions == ["Sidekick"]
    # `@` after a name is the library's, never an image or the video.
    image = compile_("[@Image1@me] waves.", library, attached_images=1)
    assert PromptErrorCode.UNKNOWN_MENTION in codes(image)
    assert [m.kind for m in image.mentions] == [MentionKind.UNKNOWN]


def test_a_mention_with_nothing_after_its_at_says_the_library_is_missing():
    library = [el(1, "Hero"), el(2, "Hero", "north")]

    plan = compile_("[@Hero@] waves.", library)

    assert codes(plan) == [PromptErrorCode.UNKNOWN_MENTION]
    assert plan.issues[0].message == (
        '[@Hero@]: no library is named after the "@": write [@Hero] for your own library or '
        '[@Hero@team-handle] for a team\'s. Did you mean "Hero" or "Hero@north"?'
    )
    assert plan.issues[0].suggestions == ["Hero", "Hero@north"]


def test_the_did_you_mean_of_an_unqualified_typo_is_qualified_when_it_must_be():
    library = [el(2, "Hero", "north"), el(3, "Hero", "studio-nine"), el(4, "Villain", "north")]

    plan = compile_("[@Hreo] and [@Vilain] wave.", library)

    assert [i.suggestions for i in plan.issues] == [
        ["Hero@north", "Hero@studio-nine"],
        ["Villain"],
    ]


def test_a_plan_written_back_qualified_compiles_to_the_same_elements():
    library = [
        el(1, "Hero"),
        el(2, "Villain", "north"),
        el(3, "Tokyo Street", "studio-nine"),
        el(4, "Hero", "north"),
    ]
    text = (
        "Shot 1 (2s): [@Hero] meets @Villain in [@Tokyo Street]. Shot 2 (3s): [@Hero@north] runs."
    )
    model = MODELS[ModelCode.VIDEO_3_0_OMNI]
    plan = compile_prompt(text, model=model, library=library)
    assert plan.ok, plan.issues

    written = qualified_prompt(plan)

    assert written == (
        "Shot 1 (2s): [@Hero@me] meets [@Villain@north] in [@Tokyo Street@studio-nine]. "
        "Shot 2 (3s): [@Hero@north] runs."
    )
    again = compile_prompt(written, model=model, library=library)
    assert again.ok, again.issues
    assert again.element_ids == plan.element_ids
    assert again.provider_prompt == plan.provider_prompt
    assert [s.element_ids for s in again.shots] == [s.element_ids for s in plan.shots]
    # It keeps naming the same elements when the libraries change around them.
    grown = [*library, el(5, "Villain"), el(6, "Tokyo Street", "north")]
    assert compile_prompt(written, model=model, library=grown).element_ids == plan.element_ids
    assert qualified_mention(" Hero ", "north") == "[@Hero@north]"
    assert library[1].qualified_mention == "[@Villain@north]"


# --- Teams in the database --------------------------------------------------------------------


def team(handle: str, *members: tuple[Any, str]) -> Team:
    row = Team.objects.create(name=handle.title(), handle=handle, created_by=members[0][0])
    for user, role in members:
        TeamMembership.objects.create(team=row, user=user, role=role)
    return row


def team_element(creator: Any, in_team: Team, name: str, **kwargs: Any) -> Element:
    return cast(Element, ElementFactory(owner=creator, team=in_team, name=name, **kwargs))


@pytest.fixture
def ana(db):
    return UserFactory(username="ana")


@pytest.fixture
def ben(db):
    user = UserFactory(username="ben")
    account_services.credits_grant(user=user, amount=500, reason="test credits")
    return user


@pytest.fixture
def studio(ana, ben):
    return team("studio-nine", (ana, TeamRole.OWNER), (ben, TeamRole.VIEWER))


def request(prompt: str, **kwargs: Any) -> services.JobRequest:
    return services.JobRequest(model=ModelCode.IMAGE_O1, prompt=prompt, **kwargs)


def error_codes(exc: ValidationError) -> list[str]:
    return [e.code for errors in exc.error_dict.values() for e in errors]


def debits(user: Any) -> list[int]:
    return list(
        CreditLedgerEntry.objects.filter(user=user, kind="debit").values_list("amount", flat=True)
    )


@pytest.mark.django_db
def test_the_library_is_every_usable_element_in_one_query_whatever_the_teams(
    ana, ben, studio, django_assert_num_queries
):
    ElementFactory(owner=ben, name="Hero", images=0)
    team_element(ana, studio, "Hero", images=0)
    ElementFactory(owner=ana, name="Ana's Own", images=0)  # her personal library: not ben's

    with django_assert_num_queries(1):
        library = services.owner_library(ben)
    assert sorted((e.name, e.library) for e in library) == [
        ("Hero", "me"),
        ("Hero", "studio-nine"),
    ]
    for n in range(4):
        more = team(f"team-{n}", (ana, TeamRole.OWNER), (ben, TeamRole.EDITOR))
        team_element(ana, more, f"Prop {n}", images=0)
    with django_assert_num_queries(1):
        assert len(services.owner_library(ben)) == 6


@pytest.mark.django_db
def test_a_submit_reaches_a_team_element_and_is_charged_to_the_submitter(ana, ben, studio):
    hero = team_element(ana, studio, "Hero")
    ana_before = debits(ana)

    job = services.generation_submit(owner=ben, request=request("[@Hero] waves."))

    assert job.owner_id == ben.pk
    assert [(p.element_id, p.name) for p in job.elements.all()] == [(hero.pk, "Hero")]
    assert debits(ben) == [-job.credits_charged]
    assert job.credits_charged > 0
    assert debits(ana) == ana_before == []
    assert job.plan["elements"][0]["library"] == "studio-nine"
    # The team's other members don't see it: it is ben's.
    ana_api = logged_in_client(ana)
    jobs = ana_api.post("query { generationJobs(first: 10) { edges { node { id } } } }").json()
    assert jobs["data"]["generationJobs"]["edges"] == []
    job_id = relay.to_base64("GenerationJob", job.pk)
    one = ana_api.post("query ($id: ID!) { generationJob(id: $id) { id } }", {"id": job_id}).json()
    assert one["data"]["generationJob"] is None


@pytest.mark.django_db
def test_a_qualified_submit_pins_the_element_as_it_was(ana, ben, studio):
    team_element(ana, studio, "Hero", description="Red cape.")
    mine = ElementFactory(owner=ben, name="Hero", description="Blue cape.")
    team_hero = Element.objects.get(team=studio, name="Hero")

    job = services.generation_submit(
        owner=ben, request=request("[@Hero@studio-nine] waves at [@Hero].")
    )
    Element.objects.filter(pk=team_hero.pk).update(
        name="Hero II", description="Green cape.", version=team_hero.version + 1
    )
    team_hero.images.all().delete()

    pins = list(job.elements.order_by("position").values_list("element_id", "name", "description"))
    assert pins == [(team_hero.pk, "Hero", "Red cape."), (mine.pk, "Hero", "Blue cape.")]
    pinned = job.elements.get(position=1)
    assert pinned.version == team_hero.version
    assert pinned.images.count() == 2  # the files it had, kept by the pin


@pytest.mark.django_db
def test_a_removed_member_loses_the_teams_elements_at_once(ana, ben, studio):
    team_element(ana, studio, "Hero")
    TeamMembership.objects.filter(team=studio, user=ben).delete()
    files = media_files()

    preview = services.generation_preview(owner=ben, request=request("[@Hero@studio-nine] waves."))
    assert [i.code for i in preview.plan.issues] == [PromptErrorCode.UNKNOWN_MENTION]
    for prompt in ("[@Hero] waves.", "[@Hero@studio-nine] waves."):
        with pytest.raises(ValidationError) as refused:
            services.generation_submit(owner=ben, request=request(prompt))
        assert error_codes(refused.value) == [PromptErrorCode.UNKNOWN_MENTION]

    assert not GenerationJob.objects.exists()
    assert debits(ben) == []
    assert media_files() == files


@pytest.mark.django_db
def test_a_member_removed_between_the_compile_and_the_pin_gets_no_job(
    ana, ben, studio, monkeypatch
):
    team_element(ana, studio, "Hero")
    compiled = services.owner_library

    def library_then_removed(owner: Any) -> list[LibraryElement]:
        library = compiled(owner)
        TeamMembership.objects.filter(team=studio, user=ben).delete()
        return library

    monkeypatch.setattr(services, "owner_library", library_then_removed)

    with pytest.raises(ValidationError) as refused:
        services.generation_submit(owner=ben, request=request("[@Hero] waves."))

    assert error_codes(refused.value) == [PromptErrorCode.UNKNOWN_MENTION]
    assert not GenerationJob.objects.exists()
    assert debits(ben) == []


@pytest.mark.django_db
def test_bound_element_ids_from_a_team_work_and_a_strangers_are_not_found(ana, ben, studio):
    hero = team_element(ana, studio, "Hero")
    other = team("elsewhere", (ana, TeamRole.OWNER))
    secret = team_element(ana, other, "Secret")
    model = ModelCode.IMAGE_O1

    job = services.generation_submit(
        owner=ben,
        request=services.JobRequest(model=model, prompt="A portrait.", bound_element_ids=[hero.pk]),
    )
    assert [p.element_id for p in job.elements.all()] == [hero.pk]

    preview = services.generation_preview(
        owner=ben,
        request=services.JobRequest(
            model=model, prompt="A portrait.", bound_element_ids=[secret.pk]
        ),
    )
    assert [(i.code, i.field) for i in preview.plan.issues] == [
        (PromptErrorCode.NOT_FOUND, "elementIds")
    ]


@pytest.mark.django_db
def test_a_member_who_leaves_keeps_their_jobs_and_outputs(ana, ben, studio):
    team_element(ana, studio, "Hero")
    job = services.generation_submit(owner=ben, request=request("[@Hero] waves."))
    GenerationJob.objects.filter(pk=job.pk).update(status=JobStatus.SUCCEEDED, progress=100)
    GenerationOutputFactory(job=job)

    TeamMembership.objects.filter(team=studio, user=ben).delete()

    api = logged_in_client(ben)
    data = api.post(
        """query {
          generationJobs(first: 10) { edges { node { id status elements { name } } } }
          generationOutputs(first: 10) { edges { node { url jobId } } }
        }"""
    ).json()["data"]
    (node,) = [e["node"] for e in data["generationJobs"]["edges"]]
    assert node["id"] == relay.to_base64("GenerationJob", job.pk)
    assert node["elements"] == [{"name": "Hero"}]
    (output,) = [e["node"] for e in data["generationOutputs"]["edges"]]
    assert output["jobId"] == node["id"] and output["url"]
    assert api.client.get(output["url"]).status_code == 200
    # …and the team's elements are gone from their prompts.
    assert selectors.mention_suggestions(owner=ben, query="her") == []


@pytest.mark.django_db
def test_a_shared_work_made_with_a_qualified_mention_recreates(ana, ben, studio):
    team_element(ana, studio, "Hero")
    ElementFactory(owner=ben, name="Hero")
    job = services.generation_submit(owner=ben, request=request("[@Hero@studio-nine] waves."))
    GenerationJob.objects.filter(pk=job.pk).update(status=JobStatus.SUCCEEDED, progress=100)
    output = GenerationOutputFactory(job=job)
    work = explore_services.generation_share(
        owner=ben, job_id=job.pk, output_id=output.pk, title="Wave"
    )
    TeamMembership.objects.filter(team=studio, user=ben).delete()  # snapshots, not the team

    preview = explore_services.recreate_preview(
        work=work, overrides=explore_services.RecreateOverrides()
    )

    assert preview.plan.ok, preview.plan.issues
    assert [ref.name for ref in preview.plan.elements] == ["Hero"]
    assert preview.plan.provider_prompt == "<<<element_1>>> waves."


# --- The picker -------------------------------------------------------------------------------

SUGGEST = """
query ($q: String!, $library: String) {
  mentionSuggestions(query: $q, first: 20, library: $library) {
    name libraryQualifier libraryName mention
  }
}"""


@pytest.fixture
def libraries(ana, ben, studio):
    north = team("north", (ana, TeamRole.OWNER), (ben, TeamRole.EDITOR))
    ElementFactory(owner=ben, name="Hero", images=0)
    team_element(ana, studio, "Hero", images=0)
    team_element(ana, studio, "Herald", images=0)
    team_element(ana, north, "Herald", images=0)
    team_element(ana, north, "Hermit", images=0)
    team_element(ana, studio, "Heron", images=0, status=ElementStatus.BLOCKED, blocked_reason="x")
    team_element(ana, north, "Heron", images=0)
    ElementFactory(owner=ana, name="Hermes", images=0)  # ana's own: never ben's
    return north


@pytest.mark.django_db
def test_suggestions_come_from_every_library_with_the_mention_that_resolves(ben, libraries):
    api = logged_in_client(ben)

    rows = api.post(SUGGEST, {"q": "her"}).json()["data"]["mentionSuggestions"]

    assert sorted((r["name"], r["libraryQualifier"], r["mention"]) for r in rows) == [
        ("Herald", "north", "[@Herald@north]"),
        ("Herald", "studio-nine", "[@Herald@studio-nine]"),
        ("Hermit", "north", "[@Hermit]"),
        ("Hero", "me", "[@Hero]"),
        ("Hero", "studio-nine", "[@Hero@studio-nine]"),
        # The blocked Heron is not offered, but it makes [@Heron] ambiguous.
        ("Heron", "north", "[@Heron@north]"),
    ]
    assert {r["libraryName"] for r in rows} == {"Personal", "North", "Studio-Nine"}
    # Every mention offered compiles to that very element.
    library = services.owner_library(ben)
    for row in rows:
        plan = compile_prompt(row["mention"], model=IMAGE, library=library)
        assert plan.ok, (row, plan.issues)
        assert plan.elements[0].element.library == row["libraryQualifier"]


@pytest.mark.django_db
def test_suggestions_of_one_library_and_an_unknown_one(ben, libraries):
    api = logged_in_client(ben)

    north = api.post(SUGGEST, {"q": "her", "library": "north"}).json()["data"]
    mine = api.post(SUGGEST, {"q": "", "library": "me"}).json()["data"]
    unknown = api.post(SUGGEST, {"q": "her", "library": "elsewhere"}).json()

    assert [(r["name"], r["mention"]) for r in north["mentionSuggestions"]] == [
        ("Heron", "[@Heron@north]"),
        ("Herald", "[@Herald@north]"),
        ("Hermit", "[@Hermit]"),
    ]
    assert [r["mention"] for r in mine["mentionSuggestions"]] == ["[@Hero]"]
    (error,) = unknown["errors"]
    assert error["extensions"]["code"] == "NOT_FOUND"
    assert error["extensions"]["field"] == "library"


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["", "her", "ero", "Hreo", "é"])
def test_suggestions_take_as_many_queries_for_five_teams_as_for_one(ana, ben, query):
    def counted(user: Any, library: Library | None = None) -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            selectors.mention_suggestions(owner=user, query=query, first=5, library=library)
        return len(ctx.captured_queries)

    solo = UserFactory()
    for n in range(12):
        ElementFactory(owner=solo, name=f"Hero {n}", images=0)
    one = UserFactory()
    t = team("only-one", (ana, TeamRole.OWNER), (one, TeamRole.VIEWER))
    for n in range(12):
        team_element(ana, t, f"Hero {n}", images=0)
    for n in range(5):
        more = team(f"five-{n}", (ana, TeamRole.OWNER), (ben, TeamRole.VIEWER))
        for k in range(12):
            team_element(ana, more, f"Hero {k}", images=0)

    assert counted(solo) == counted(one) == counted(ben)
    assert counted(solo, personal_library(solo)) == counted(ben, Library(team=more))


# --- The preview and the provider -------------------------------------------------------------


@pytest.mark.django_db
def test_the_preview_shows_an_ambiguous_mention_with_its_qualified_forms(ana, ben, libraries):
    api = logged_in_client(ben)

    preview = api.post(
        PREVIEW, {"input": {"model": "IMAGE_O1", "prompt": "[@Herald] waves."}}
    ).json()["data"]["generationPromptPreview"]

    assert preview["ok"] is False
    (issue,) = preview["issues"]
    assert issue["code"] == "AMBIGUOUS_MENTION"
    assert issue["suggestions"] == ["Herald@north", "Herald@studio-nine"]
    assert "[@Herald@north] or [@Herald@studio-nine]" in issue["message"]
    fixed = api.post(
        PREVIEW, {"input": {"model": "IMAGE_O1", "prompt": "[@Herald@north] waves."}}
    ).json()["data"]["generationPromptPreview"]
    assert fixed["ok"] is True, fixed["issues"]
    assert fixed["providerPrompt"] == "<<<element_1>>> waves."


@pytest.mark.django_db
def test_a_qualified_mention_reaches_kling_as_the_element_token_and_list(
    ana, user, kling, django_capture_on_commit_callbacks
):
    api = studio_client(user)
    studio = team("studio-nine", (ana, TeamRole.OWNER), (user, TeamRole.EDITOR))
    team_element(ana, studio, "Tokyo Street", type="scene")  # the member has one of their own

    with django_capture_on_commit_callbacks(execute=True):
        result = submit(
            api,
            prompt="[@Little Scholar@me] reads in [@Tokyo Street@studio-nine].",
            model="IMAGE_O1",
        )

    job = job_of(result)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error_message
    team_street = Element.objects.get(team=studio)
    assert [(p.position, p.element_id) for p in job.elements.order_by("position")] == [
        (1, api.scholar.pk),
        (2, team_street.pk),
    ]
    (_family, body), *_ = [b for b in kling.bodies if b[0] == "omni-image"]
    assert body["prompt"] == "<<<element_1>>> reads in <<<element_2>>>."
    assert len(body["element_list"]) == 2


@pytest.mark.django_db
def test_the_database_narrows_the_rows_without_changing_the_answers(ana, ben, studio):
    """`mention_suggestions` reads only the names the database finds may match: the same
    answers as ranking every usable name of every library in Python, for random names and
    terms (prefixes, middles, typos, case, names beyond ASCII)."""
    import random

    from tests.support.mentions import ranked_in_python

    rng = random.Random(7)
    words = ["amber", "Fox", "knight", "Straße", "élan", "Ökonom", "river", "moon", "100%",
             "under_score", "Coffee", "cup", "Tokyo", "street", "ash", "Zed"]  # fmt: skip
    north = team("north", (ana, TeamRole.OWNER), (ben, TeamRole.VIEWER))
    names: set[str] = set()
    while len(names) < 240:
        names.add(" ".join(rng.sample(words, rng.randint(1, 3))) + rng.choice(["", " 2", "s"]))
    rows = []
    for n, name in enumerate(sorted(names)):
        where = n % 3
        if where == 0:
            element = cast(Element, ElementFactory(owner=ben, name=name, images=0))
        else:
            element = team_element(ana, studio if where == 1 else north, name, images=0)
        rows.append((element.pk, element.name, element.type))
    rows.sort()
    terms = ["", "a", "fo", "KNI", "knigth", "stras", "strasse", "élan", "ökon", "oon", "100%",
             "_", "under_", "cofee cp", "zzz", "river moon", "tokio", "Ash Fo", "s 2"]  # fmt: skip
    for _ in range(25):  # a typo of a real name: one letter dropped, doubled or swapped
        name = rng.choice(rows)[1].casefold()
        i = rng.randrange(len(name))
        terms.append(rng.choice([name[:i] + name[i + 1 :], name[:i] + name[i] + name[i:]]))

    for first in (5, 20):
        for term in terms:
            got = [
                (s.element_id, s.match)
                for s in selectors.mention_suggestions(owner=ben, query=term, first=first)
            ]
            assert got == ranked_in_python(rows, term, first), (term, first)


@pytest.mark.django_db
def test_the_scope_of_images_and_voices_follows_the_teams(ana, ben, studio):
    from elements.models import ReferenceImage, Voice
    from elements.teams.policy import Action, permitted
    from tests.factories import VoiceFactory

    hero = team_element(ana, studio, "Hero")
    stranger = UserFactory()
    voice = VoiceFactory(owner=ana, team=studio)

    for user, sees in ((ben, True), (ana, True), (stranger, False)):
        images = permitted(user, ReferenceImage, Action.VIEW).filter(element=hero)
        assert images.count() == (2 if sees else 0)
        assert permitted(user, Voice, Action.USE).filter(pk=voice.pk).exists() is sees
    TeamMembership.objects.filter(team=studio, user=ben).delete()
    assert not permitted(ben, ReferenceImage, Action.VIEW).filter(element=hero).exists()
