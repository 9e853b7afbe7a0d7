"""The prompt compiler, on the user guide's own prompts and on every rule it checks."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generation.catalog import MODELS, ModelCode
from generation.prompts import (
    DialogueLine,
    LibraryElement,
    MentionKind,
    PromptErrorCode,
    PromptPlan,
    compile_prompt,
)

OMNI = MODELS[ModelCode.VIDEO_3_0_OMNI]
O1 = MODELS[ModelCode.VIDEO_O1]
V3 = MODELS[ModelCode.VIDEO_3_0]
IMAGE_OMNI = MODELS[ModelCode.IMAGE_3_0_OMNI]
IMAGE_O1 = MODELS[ModelCode.IMAGE_O1]

SCHOLAR = LibraryElement(1, "Little Scholar", "character", has_voice=True)
BANANA_CAT = LibraryElement(2, "Banana Cat", "animal")
KOREAN_GIRL = LibraryElement(3, "Korean Girl", "character", has_voice=True)
SHIRT_BOY = LibraryElement(4, "Shirt Boy", "character", has_voice=True, source="video")
PERFUME = LibraryElement(5, "Butterfly Perfume", "prop")
BUBBLES = LibraryElement(6, "Colorful Bubbles", "effect")
BANANA = LibraryElement(7, "Banana", "prop")
ASIAN_GIRL = LibraryElement(8, "Asian Girl", "character")
LIBRARY = [SCHOLAR, BANANA_CAT, KOREAN_GIRL, SHIRT_BOY, PERFUME, BUBBLES, BANANA, ASIAN_GIRL]

# The user guide's example prompts, as printed (table pipes removed).
BANANA_CAT_PROMPT = (
    "[Shot 1] The camera follows as [@Banana Cat] strolls through the streets of Tokyo, "
    "encounters [@Korean Girl], and leaps into her arms. [Shot 2] [@Korean Girl] sits on the "
    "sofa from [@Image1] reading a book. [@Banana Cat] plays with the book in her hands on "
    "the sofa. The camera pushes in, revealing their quiet and harmonious moment."
)
SCHOLAR_PROMPT = (
    'Shot 1 (3s): Close-up on the comedy open-mic stage, with a large retro neon "KLING" '
    "sign in the background. Warm golden backlight outlines the scene. The camera follows "
    "the performer as they walk to the microphone, lightly adjusting its height. Shot 2 (4s): "
    'Mid-close shot of [@Little Scholar], who says, "Forget the crazy diets. I’m on a strict '
    'seafood diet." Shot 3 (4s): [@Little Scholar] with a restrained, slight smile, naturally '
    'pausing, saying, "It’s very intuitive: I see food... and I eat it." Shot 4 (2s): Switch '
    "to the audience laughing loudly."
)
ROLLER_COASTER_PROMPT = (
    "[@Little Scholar] and a blonde girl are on a roller coaster. The shot begins with a "
    "close-up of the girl’s mysterious smile, then zooms out to capture them together on the "
    "ride. The coaster plunges down a steep slope at high speed, jolting violently as the "
    "wind howls past their faces. [@Little Scholar] grips the handrail tightly, first gasping "
    'in shock, then screaming, "救命啊,快停下" while the girl calmly looks at [@Little Scholar].'
)
SHIRT_BOY_PROMPT = (
    "Shot 1: 3s, medium shot, front-facing angle. [@Shirt Boy] walks down the hillside and "
    "sits by the pole in [@Image]. Shot 2: 3s, close-up, facial close-up. [@Shirt Boy] leans "
    "against the pole and says, “今天的风,比昨天软一点… 连草叶都变得温柔了,” with a cinematic "
    "feel. Shot 3: 2s, side close-up, facial close-up. [@Shirt Boy] closes his eyes as the "
    "sunlight gently touches his face. Shot 4: 2s, overhead shot. [@Shirt Boy] lies back, "
    "with grass leaves covering his shirt, his arm resting behind his head as he gazes at the "
    'blue sky and says, "希望这样的夏天,永远不会结束."'
)
PERFUME_PROMPT = (
    "[@Butterfly Perfumr] floating in [@image 1], Colorful bubbles fill the air, a dreamy "
    "advertisement poster."
)
START_FRAME_PROMPT = (
    "The camera gradually circles to the front of the girl, who then lifts her head, faces "
    "the camera, and smiles warmly, as if seeing a long-lost friend."
)


def codes(plan: PromptPlan) -> list[str]:
    return [issue.code for issue in plan.issues]


def compile_(text: str, **kwargs: object) -> PromptPlan:
    kwargs.setdefault("model", OMNI)
    kwargs.setdefault("library", LIBRARY)
    return compile_prompt(text, **kwargs)  # type: ignore[arg-type]


def people(count: int, *, start: int = 100, **fields: object) -> list[LibraryElement]:
    return [LibraryElement(start + n, f"Person {n}", **fields) for n in range(count)]  # type: ignore[arg-type]


def mentions_of(elements: list[LibraryElement]) -> str:
    return " and ".join(f"[@{e.name}]" for e in elements) + " dance."


# --- The user guide's examples ----------------------------------------------------------------


def test_guide_little_scholar_four_shots() -> None:
    # when
    plan = compile_(SCHOLAR_PROMPT)

    # then
    assert plan.ok, plan.issues
    assert plan.multi_shot
    assert [(s.index, s.duration, s.duration_stated) for s in plan.shots] == [
        (1, 3, True),
        (2, 4, True),
        (3, 4, True),
        (4, 2, True),
    ]
    assert plan.total_duration == 13
    assert plan.element_ids == (SCHOLAR.element_id,)
    assert [s.element_ids for s in plan.shots] == [(), (1,), (1,), ()]
    assert plan.shots[1].text.startswith("Mid-close shot of [@Little Scholar], who says")
    assert plan.shots[1].provider_text.startswith("Mid-close shot of <<<element_1>>>, who")
    assert plan.shots[3].text == "Switch to the audience laughing loudly."
    # The neon "KLING" sign is a label, not a line anyone speaks.
    assert plan.dialogue == (
        DialogueLine(2, "Forget the crazy diets. I’m on a strict seafood diet.", 1, True),
        DialogueLine(3, "It’s very intuitive: I see food... and I eat it.", 1, True),
    )
    assert plan.shots[0].camera_move == "follow"
    assert plan.shots[0].camera.startswith("Close-up on the comedy open-mic stage")


def test_guide_little_scholar_with_the_jobs_duration() -> None:
    assert compile_(SCHOLAR_PROMPT, duration=13).ok


def test_guide_banana_cat_two_shots_split_evenly() -> None:
    # given: the guide gives no shot durations; the job's 10 s split over two shots
    plan = compile_(BANANA_CAT_PROMPT, attached_images=1, duration=10)

    # then
    assert plan.ok, plan.issues
    assert [(s.duration, s.duration_stated) for s in plan.shots] == [(5, False), (5, False)]
    assert plan.element_ids == (BANANA_CAT.element_id, KOREAN_GIRL.element_id)
    assert [(i.number, i.mentioned) for i in plan.images] == [(1, True)]
    assert plan.shots[0].provider_text == (
        "The camera follows as <<<element_1>>> strolls through the streets of Tokyo, "
        "encounters <<<element_2>>>, and leaps into her arms."
    )
    assert plan.shots[1].provider_text.startswith(
        "<<<element_2>>> sits on the sofa from <<<image_1>>> reading a book. <<<element_1>>>"
    )
    assert plan.shots[1].element_ids == (KOREAN_GIRL.element_id, BANANA_CAT.element_id)
    assert [s.camera_move for s in plan.shots] == ["follow", "push_in"]
    assert (
        plan.shots[1].camera == "The camera pushes in, revealing their quiet and harmonious moment"
    )


def test_guide_banana_cat_as_printed_names_an_element_that_is_not_there() -> None:
    # The guide lists "Asian Girl" as element 2 but its prompt says [@Korean Girl].
    library = [BANANA_CAT, ASIAN_GIRL]

    plan = compile_(BANANA_CAT_PROMPT, library=library, attached_images=1, duration=10)

    assert codes(plan) == [PromptErrorCode.UNKNOWN_MENTION]
    assert "[@Korean Girl]" in plan.issues[0].message
    assert plan.issues[0].suggestions == ["Asian Girl"]


def test_guide_roller_coaster_chinese_dialogue_in_one_shot() -> None:
    plan = compile_(ROLLER_COASTER_PROMPT, duration=5)

    assert plan.ok, plan.issues
    assert not plan.multi_shot
    assert len(plan.shots) == 1
    assert plan.shots[0].duration == 5
    assert plan.total_duration == 5
    assert plan.element_ids == (1,)
    assert plan.provider_prompt.count("<<<element_1>>>") == 3
    assert "[@" not in plan.provider_prompt
    assert plan.dialogue == (DialogueLine(1, "救命啊,快停下", 1, True),)
    assert plan.shots[0].camera_move == "pull_back"


def test_guide_shirt_boy_curly_quotes_and_durations_after_the_colon() -> None:
    plan = compile_(SHIRT_BOY_PROMPT, attached_images=1)

    assert plan.ok, plan.issues
    assert [s.duration for s in plan.shots] == [3, 3, 2, 2]
    assert plan.total_duration == 10
    assert [s.camera for s in plan.shots] == [
        "medium shot, front-facing angle",
        "close-up, facial close-up",
        "side close-up, facial close-up",
        "overhead shot",
    ]
    # `[@Image]` with a single attached image is that image.
    assert plan.shots[0].provider_text == (
        "medium shot, front-facing angle. <<<element_1>>> walks down the hillside and sits by "
        "the pole in <<<image_1>>>."
    )
    assert plan.dialogue == (
        DialogueLine(2, "今天的风,比昨天软一点… 连草叶都变得温柔了,", 4, True),
        DialogueLine(4, "希望这样的夏天,永远不会结束.", 4, True),
    )


def test_guide_perfume_image_prompt_has_a_typo_and_gets_a_suggestion() -> None:
    plan = compile_(PERFUME_PROMPT, model=IMAGE_O1, attached_images=1)

    assert codes(plan) == [PromptErrorCode.UNKNOWN_MENTION]
    assert plan.issues[0].suggestions == ["Butterfly Perfume"]
    assert plan.issues[0].message == (
        "[@Butterfly Perfumr]: no element with this name in your library. Did you mean "
        '"Butterfly Perfume"?'
    )
    assert plan.shots == ()
    assert plan.dialogue == ()
    assert plan.total_duration is None


def test_guide_perfume_image_prompt_as_meant() -> None:
    text = PERFUME_PROMPT.replace("Perfumr", "Perfume")

    plan = compile_(text, model=IMAGE_OMNI, attached_images=1, bound_element_ids=[6])

    assert plan.ok, plan.issues
    # "Colorful bubbles" is plain words; the element comes in bound, after the mention.
    assert [(e.element_id, e.mentioned, e.position) for e in plan.elements] == [
        (5, True, 1),
        (6, False, 2),
    ]
    assert plan.provider_prompt.startswith("<<<element_1>>> floating in <<<image_1>>>,")


def test_guide_start_frame_with_a_bound_element_on_video_3_0() -> None:
    plan = compile_(START_FRAME_PROMPT, model=V3, start_frame=True, bound_element_ids=[3])

    assert plan.ok, plan.issues
    assert plan.element_ids == (3,)
    assert plan.elements[0].mentioned is False
    assert plan.shots[0].camera_move == "orbit"


# --- Mentions ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "mention",
    ["[@Banana Cat]", "[@banana cat]", "[@  BANANA   CAT ]", "@Banana Cat", "@banana cat"],
)
def test_mentions_are_case_insensitive_and_trimmed(mention: str) -> None:
    plan = compile_(f"{mention} naps.")

    assert plan.ok, plan.issues
    assert plan.element_ids == (2,)
    assert plan.provider_prompt == "<<<element_1>>> naps."


def test_bare_mention_takes_the_longest_name() -> None:
    # given: both "Banana" and "Banana Cat" are in the library
    plan = compile_("@Banana Cat eats a @Banana. @banana cat sleeps.")

    assert plan.ok, plan.issues
    assert [(m.name, m.element_id) for m in plan.mentions] == [
        ("Banana Cat", 2),
        ("Banana", 7),
        ("banana cat", 2),
    ]
    assert plan.provider_prompt == "<<<element_1>>> eats a <<<element_2>>>. <<<element_1>>> sleeps."


def test_bare_mention_falls_back_to_the_shorter_name() -> None:
    plan = compile_("@Banana Cathedral", library=[BANANA, BANANA_CAT])

    # "Banana Cat" would end inside a word, so it isn't the match; "Banana" is.
    assert plan.element_ids == (7,)
    assert plan.provider_prompt == "<<<element_1>>> Cathedral"


def test_bare_mention_ends_at_a_word_boundary() -> None:
    plan = compile_("Two @Bananas on a plate.", library=[BANANA])

    assert codes(plan) == [PromptErrorCode.UNKNOWN_MENTION]
    assert plan.issues[0].suggestions == ["Banana"]


def test_at_signs_that_are_not_mentions() -> None:
    plan = compile_("Mail me@banana.com at 5 @ noon, @2x speed.", library=[BANANA])

    assert plan.ok, plan.issues
    assert plan.mentions == ()


def test_elements_are_deduplicated_in_first_mention_order_then_bound_ones() -> None:
    # given
    text = "[@Korean Girl] hugs [@Banana Cat]; [@Korean Girl] waves at @Banana Cat."

    # when
    plan = compile_(text, bound_element_ids=[2, 5, 5, 1])

    # then
    assert [(e.position, e.element_id, e.mentioned) for e in plan.elements] == [
        (1, 3, True),
        (2, 2, True),
        (3, 5, False),
        (4, 1, False),
    ]
    assert plan.provider_prompt == (
        "<<<element_1>>> hugs <<<element_2>>>; <<<element_1>>> waves at <<<element_2>>>."
    )
    assert plan.reference_count == 4


def test_unknown_mention_suggests_close_names() -> None:
    plan = compile_("[@Korean Gril] and [@Korean Gril] and [@Zebra] smile.")

    # each unknown name once, in order
    assert codes(plan) == [PromptErrorCode.UNKNOWN_MENTION] * 2
    gril, zebra = plan.issues
    assert gril.suggestions[0] == "Korean Girl"
    assert "[@Korean Gril]" in gril.message and 'Did you mean "Korean Girl"' in gril.message
    assert zebra.suggestions == []
    assert zebra.message == "[@Zebra]: no element with this name in your library."
    # left as written: the plan isn't sendable anyway
    assert "[@Korean Gril]" in plan.provider_prompt


def test_bare_unknown_mention_is_named_by_the_closest_words() -> None:
    plan = compile_("@Korean Gril strolls in.")

    assert codes(plan) == [PromptErrorCode.UNKNOWN_MENTION]
    assert plan.issues[0].message.startswith("@Korean Gril: ")
    assert plan.issues[0].suggestions[0] == "Korean Girl"


def test_another_users_element_looks_exactly_like_a_missing_one() -> None:
    # given: "Secret Agent" belongs to someone else, so the caller doesn't pass it
    mine = compile_("[@Secret Agent] runs.", library=LIBRARY)
    nobodys = compile_("[@Secret Agent] runs.", library=LIBRARY)
    bound = compile_("runs.", bound_element_ids=[999])

    assert mine.issues == nobodys.issues
    assert codes(mine) == [PromptErrorCode.UNKNOWN_MENTION]
    assert codes(bound) == [PromptErrorCode.NOT_FOUND]
    assert bound.issues[0].field == "elementIds"
    assert bound.issues[0].message == "An element in elementIds does not exist."


@pytest.mark.parametrize(
    ("status", "code"),
    [
        ("blocked", PromptErrorCode.ELEMENT_BLOCKED),
        ("processing", PromptErrorCode.ELEMENT_PROCESSING),
        ("failed", PromptErrorCode.ELEMENT_FAILED),
    ],
)
def test_blocked_and_processing_elements_are_refused(status: str, code: str) -> None:
    element = LibraryElement(50, "Ghost", status=status)

    mentioned = compile_("[@Ghost] waves.", library=[element])
    bound = compile_("waves.", library=[element], bound_element_ids=[50])

    assert codes(mentioned) == [code]
    assert mentioned.issues[0].field == "prompt"
    assert '"Ghost"' in mentioned.issues[0].message
    assert codes(bound) == [code]
    assert bound.issues[0].field == "elementIds"


# --- Images and the input video ---------------------------------------------------------------


@pytest.mark.parametrize(
    "mention", ["[@Image2]", "[@Image 2]", "[@image 2]", "[@IMAGE2]", "@Image2"]
)
def test_image_mentions(mention: str) -> None:
    plan = compile_(f"A cat sits in {mention}.", attached_images=3)

    assert plan.ok, plan.issues
    assert plan.provider_prompt == "A cat sits in <<<image_2>>>."
    # every attached image is sent and counted, in attach order
    assert [(i.position, i.number, i.mentioned) for i in plan.images] == [
        (1, 1, False),
        (2, 2, True),
        (3, 3, False),
    ]
    assert plan.reference_count == 3


@pytest.mark.parametrize(
    ("text", "attached", "message"),
    [
        ("in [@Image2]", 1, "[@Image2]: only 1 image is attached."),
        ("in [@Image4]", 3, "[@Image4]: only 3 images are attached."),
        ("in [@Image1]", 0, "[@Image1]: no image is attached."),
        ("in [@Image0]", 2, "[@Image0]: only 2 images are attached."),
        ("in [@Image]", 0, "[@Image]: no image is attached."),
    ],
)
def test_unknown_image_number(text: str, attached: int, message: str) -> None:
    plan = compile_(text, attached_images=attached)

    assert codes(plan) == [PromptErrorCode.UNKNOWN_IMAGE]
    assert plan.issues[0].message == message


def test_image_without_a_number_when_several_are_attached() -> None:
    plan = compile_("The pole in [@Image].", attached_images=2)

    assert codes(plan) == [PromptErrorCode.IMAGE_NUMBER_MISSING]
    assert "[@Image1] to [@Image2]" in plan.issues[0].message


def test_an_element_named_image_wins_over_the_unnumbered_image_syntax() -> None:
    element = LibraryElement(60, "Image", "prop")

    plan = compile_("[@Image] and [@Image1]", library=[element], attached_images=1)

    assert plan.ok, plan.issues
    assert plan.provider_prompt == "<<<element_1>>> and <<<image_1>>>"


def test_a_longer_element_name_wins_over_a_bare_image_number() -> None:
    element = LibraryElement(61, "Image 2 Pro", "prop")

    plan = compile_("@Image 2 Pro beside @Image2.", library=[element], attached_images=2)

    assert plan.ok, plan.issues
    assert plan.provider_prompt == "<<<element_1>>> beside <<<image_2>>>."


def test_input_video_mention() -> None:
    with_video = compile_("Restyle [@Video] as anime.", input_video=True)
    without = compile_("Restyle [@Video1] as anime.")

    assert with_video.ok, with_video.issues
    assert with_video.provider_prompt == "Restyle <<<video_1>>> as anime."
    assert codes(without) == [PromptErrorCode.UNKNOWN_VIDEO]


def test_video_3_0_takes_no_reference_images() -> None:
    plan = compile_("[@Image1] comes alive.", model=V3, attached_images=1, start_frame=True)

    assert codes(plan) == [PromptErrorCode.IMAGES_NOT_SUPPORTED]
    assert plan.issues[0].field == "attached_images"


# --- Reference limits -------------------------------------------------------------------------


@pytest.mark.parametrize("model", [OMNI, O1])
def test_seven_references_on_omni_video_and_eight_is_too_many(model: object) -> None:
    library = people(6)

    seven = compile_(mentions_of(library), model=model, library=library, attached_images=1)
    eight = compile_(mentions_of(library), model=model, library=library, attached_images=2)

    assert seven.ok, seven.issues
    assert codes(eight) == [PromptErrorCode.TOO_MANY_REFERENCES]
    assert "at most 7 images and elements" in eight.issues[0].message
    assert "this uses 8 (2 images, 6 elements)" in eight.issues[0].message


def test_four_references_with_an_input_video_and_five_is_too_many() -> None:
    library = people(5)

    four = compile_(mentions_of(library[:4]), library=library, input_video=True)
    five = compile_(mentions_of(library), library=library, input_video=True)

    assert four.ok, four.issues
    assert codes(five) == [PromptErrorCode.TOO_MANY_REFERENCES]
    assert "at most 4 images and elements in all with an input video" in five.issues[0].message


def test_bound_elements_count_toward_the_limit() -> None:
    library = people(8)

    plan = compile_(
        mentions_of(library[:1]),
        library=library,
        bound_element_ids=[101, 102, 103, 104, 105, 106, 107],
    )

    assert codes(plan) == [PromptErrorCode.TOO_MANY_REFERENCES]
    assert plan.reference_count == 8
    assert plan.reference_limit == 7


@pytest.mark.parametrize("model", [IMAGE_OMNI, IMAGE_O1])
def test_ten_references_on_image_models_and_eleven_is_too_many(model: object) -> None:
    library = people(8)

    ten = compile_(mentions_of(library), model=model, library=library, attached_images=2)
    eleven = compile_(mentions_of(library), model=model, library=library, attached_images=3)

    assert ten.ok, ten.issues
    assert codes(eleven) == [PromptErrorCode.TOO_MANY_REFERENCES]
    assert "at most 10" in eleven.issues[0].message


@pytest.mark.parametrize("model", [V3, IMAGE_OMNI, IMAGE_O1])
def test_input_video_on_a_model_that_takes_none(model: object) -> None:
    plan = compile_("A calm lake.", model=model, input_video=True, start_frame=model is V3)

    assert codes(plan) == [PromptErrorCode.INPUT_VIDEO_NOT_SUPPORTED]
    assert plan.issues[0].field == "input_video"


@pytest.mark.parametrize("model", [O1, IMAGE_OMNI, IMAGE_O1])
def test_video_character_elements_not_on_o1_or_image_models(model: object) -> None:
    plan = compile_("[@Shirt Boy] waves.", model=model)

    assert codes(plan) == [PromptErrorCode.VIDEO_ELEMENT_NOT_SUPPORTED]
    assert '"Shirt Boy" is a video character element' in plan.issues[0].message


def test_video_character_elements_not_with_an_input_video() -> None:
    ok = compile_("[@Shirt Boy] waves.")
    with_video = compile_("[@Shirt Boy] waves.", input_video=True)

    assert ok.ok, ok.issues
    assert codes(with_video) == [PromptErrorCode.VIDEO_ELEMENT_WITH_INPUT_VIDEO]


# --- Frames (Video 3.0) -----------------------------------------------------------------------


def test_video_3_0_binds_up_to_three_elements_to_a_start_frame() -> None:
    library = people(4)

    three = compile_(mentions_of(library[:3]), model=V3, library=library, start_frame=True)
    both_frames = compile_(
        mentions_of(library[:3]), model=V3, library=library, start_frame=True, end_frame=True
    )
    four = compile_(mentions_of(library), model=V3, library=library, start_frame=True)

    assert three.ok, three.issues
    assert both_frames.ok, both_frames.issues
    assert codes(four) == [PromptErrorCode.TOO_MANY_BOUND_ELEMENTS]
    assert "at most 3 elements" in four.issues[0].message


def test_video_3_0_elements_need_a_start_frame() -> None:
    plain = compile_("A calm lake at dawn.", model=V3)
    with_element = compile_("[@Korean Girl] by a calm lake.", model=V3)

    assert plain.ok, plain.issues  # text to video
    assert codes(with_element) == [PromptErrorCode.ELEMENTS_NEED_START_FRAME]
    assert with_element.issues[0].field == "start_frame"


def test_end_frame_without_a_start_frame() -> None:
    plan = compile_("A calm lake.", model=V3, end_frame=True)

    assert codes(plan) == [PromptErrorCode.END_FRAME_WITHOUT_START_FRAME]
    assert plan.issues[0].field == "end_frame"


@pytest.mark.parametrize("model", [OMNI, O1, IMAGE_OMNI, IMAGE_O1])
def test_frames_on_models_that_take_none(model: object) -> None:
    start = compile_("A calm lake.", model=model, start_frame=True)
    end = compile_("A calm lake.", model=model, end_frame=True)

    assert codes(start) == [PromptErrorCode.FRAMES_NOT_SUPPORTED]
    assert start.issues[0].field == "start_frame"
    assert codes(end) == [PromptErrorCode.FRAMES_NOT_SUPPORTED]
    assert end.issues[0].field == "end_frame"


def test_frames_with_a_multi_shot_prompt() -> None:
    plan = compile_("Shot 1 (2s): A lake. Shot 2 (3s): A boat.", model=V3, start_frame=True)

    assert codes(plan) == [PromptErrorCode.FRAMES_WITH_MULTI_SHOT]


def test_video_3_0_may_start_from_a_frame_without_a_prompt() -> None:
    assert compile_("", model=V3, start_frame=True).ok
    assert codes(compile_("", model=V3)) == [PromptErrorCode.PROMPT_EMPTY]


# --- Prompt and shots -------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   \n "])
def test_empty_prompt(text: str) -> None:
    assert codes(compile_(text)) == [PromptErrorCode.PROMPT_EMPTY]


def test_prompt_of_2500_characters_and_one_more() -> None:
    assert compile_("a" * 2500).ok
    plan = compile_("a" * 2501)

    assert codes(plan) == [PromptErrorCode.PROMPT_TOO_LONG]
    assert plan.issues[0].message == "Prompts are at most 2,500 characters; this one is 2,501."


def test_prompt_length_counts_what_the_provider_receives() -> None:
    # `[@Banana]` (9 characters) is sent as `<<<element_1>>>` (15)
    text = "[@Banana] " + "a" * 2490

    plan = compile_(text)

    assert len(text) == 2500
    assert codes(plan) == [PromptErrorCode.PROMPT_TOO_LONG]
    assert plan.issues[0].message.endswith("this one is 2,506.")


@pytest.mark.parametrize(
    "text",
    [
        "Shot 1 (3s): a. Shot 2 (2s): b.",
        "Shot 1: 3s, a. Shot 2: 2s, b.",
        "[Shot 1] (3s) a. [Shot 2] (2s) b.",
        "[Shot 1 (3s)] a. [Shot 2 (2s)] b.",
        "[Shot 1] 3s, a. [Shot 2]: 2 seconds, b.",
        "shot 1 (3 sec): a.\nSHOT 2 (2s)：b.",
        "Shot 1（3秒）：a. Shot 2（2秒）：b.",
    ],
)
def test_shot_marker_forms(text: str) -> None:
    plan = compile_(text)

    assert plan.ok, plan.issues
    assert [(s.index, s.duration, s.text) for s in plan.shots] == [(1, 3, "a."), (2, 2, "b.")]
    assert plan.total_duration == 5


def test_a_word_that_ends_in_shot_is_no_marker() -> None:
    plan = compile_("A screenshot 1: the desktop. A close-up shot of rain.")

    assert plan.ok, plan.issues
    assert not plan.multi_shot


def test_multi_shot_on_a_model_without_it() -> None:
    plan = compile_(SCHOLAR_PROMPT, model=O1, duration=10)

    assert codes(plan) == [PromptErrorCode.MULTI_SHOT_NOT_SUPPORTED]


def test_multi_shot_on_a_model_without_it_reports_only_that() -> None:
    plan = compile_("[Shot 1] a. [Shot 2] b.", model=O1)

    assert codes(plan) == [PromptErrorCode.MULTI_SHOT_NOT_SUPPORTED]


def test_a_bare_name_running_into_a_shot_marker_is_not_taken() -> None:
    element = LibraryElement(62, "Tom Shot", "character")

    plan = compile_("Shot 1 (2s): @Tom Shot 2 (3s): b.", library=[element])

    assert [s.duration for s in plan.shots] == [2, 3]
    assert plan.element_ids == ()


@pytest.mark.parametrize("model", [IMAGE_OMNI, IMAGE_O1])
def test_image_models_take_no_shots_and_no_duration(model: object) -> None:
    shots = compile_("[Shot 1] a cat. [Shot 2] a dog.", model=model)
    duration = compile_("a cat", model=model, duration=5)

    assert codes(shots) == [PromptErrorCode.SHOTS_NOT_ALLOWED]
    assert codes(duration) == [PromptErrorCode.DURATION_NOT_ALLOWED]
    assert duration.issues[0].field == "duration"


def test_seven_shots_are_too_many() -> None:
    six = " ".join(f"Shot {n} (2s): beat {n}." for n in range(1, 7))
    seven = " ".join(f"Shot {n} (2s): beat {n}." for n in range(1, 8))

    assert compile_(six).ok
    assert PromptErrorCode.TOO_MANY_SHOTS in codes(compile_(seven))


def test_shot_of_512_characters_and_one_more() -> None:
    fits = compile_("Shot 1 (2s): " + "a" * 512 + " Shot 2 (2s): b")
    too_long = compile_("Shot 1 (2s): " + "a" * 513 + " Shot 2 (2s): b")

    assert fits.ok, fits.issues
    assert codes(too_long) == [PromptErrorCode.SHOT_TOO_LONG]
    assert "shot 1 is longer" in too_long.issues[0].message


def test_shot_of_zero_seconds() -> None:
    plan = compile_("Shot 1 (0s): a flash. Shot 2 (4s): calm.")

    assert PromptErrorCode.SHOT_TOO_SHORT in codes(plan)


def test_shot_duration_with_a_fraction() -> None:
    plan = compile_("Shot 1 (2.5s): a. Shot 2 (2.5s): b.")

    assert codes(plan) == [PromptErrorCode.SHOT_DURATION_INVALID]


def test_whole_seconds_written_with_a_decimal_point_are_fine() -> None:
    plan = compile_("Shot 1 (2.0s): a. Shot 2 (3s): b.")

    assert plan.ok, plan.issues
    assert plan.total_duration == 5


def test_empty_shot() -> None:
    plan = compile_("Shot 1 (2s): Shot 2 (3s): b.")

    assert codes(plan) == [PromptErrorCode.SHOT_EMPTY]
    assert plan.issues[0].message == "Shot 1: describe what happens."


def test_shots_out_of_order() -> None:
    plan = compile_("Shot 1 (2s): a. Shot 3 (3s): b.")

    assert codes(plan) == [PromptErrorCode.SHOT_NUMBER_OUT_OF_ORDER]
    assert "found 1, 3" in plan.issues[0].message


def test_text_before_the_first_shot() -> None:
    plan = compile_("A sad story. Shot 1 (2s): a. Shot 2 (3s): b.")

    assert codes(plan) == [PromptErrorCode.TEXT_OUTSIDE_SHOTS]


def test_shot_durations_must_sum_to_the_jobs_duration() -> None:
    plan = compile_(SCHOLAR_PROMPT, duration=10)

    assert codes(plan) == [PromptErrorCode.SHOT_DURATIONS_MISMATCH]
    assert plan.issues[0].message == "The shots add up to 13 s but the video is 10 s long."


def test_missing_shot_durations_with_no_total() -> None:
    plan = compile_("[Shot 1] a. [Shot 2] b.")

    assert codes(plan) == [PromptErrorCode.SHOT_DURATION_MISSING]
    assert "give the video's duration" in plan.issues[0].message
    assert [s.duration for s in plan.shots] == [None, None]


def test_missing_shot_durations_that_do_not_split_evenly() -> None:
    plan = compile_("[Shot 1] a. [Shot 2] b. [Shot 3] c. [Shot 4] d.", duration=13)

    assert codes(plan) == [PromptErrorCode.SHOT_DURATION_MISSING]
    assert plan.issues[0].message.startswith("13 s doesn't split evenly over 4 shots")


def test_some_shots_without_a_duration() -> None:
    plan = compile_("Shot 1 (3s): a. Shot 2: b. Shot 3: c.", duration=9)

    assert codes(plan) == [PromptErrorCode.SHOT_DURATION_MISSING]
    assert plan.issues[0].message.startswith("Shot 2 and 3 have no duration")


@pytest.mark.parametrize(
    ("model", "duration"), [(O1, 11), (O1, 2), (OMNI, 16), (V3, 16), (OMNI, 2)]
)
def test_duration_the_model_does_not_offer(model: object, duration: int) -> None:
    plan = compile_("A calm lake.", model=model, duration=duration)

    assert codes(plan) == [PromptErrorCode.DURATION_NOT_OFFERED]
    assert plan.issues[0].field == "duration"


def test_shots_adding_up_to_a_duration_the_model_does_not_offer() -> None:
    plan = compile_("Shot 1 (10s): a. Shot 2 (6s): b.")

    assert codes(plan) == [PromptErrorCode.DURATION_NOT_OFFERED]
    assert plan.issues[0].message == (
        "The shots add up to 16 s; Video 3.0 Omni makes 3–15 s videos."
    )
    assert plan.issues[0].field == "prompt"


def test_single_shot_duration_defaults_to_the_models() -> None:
    assert compile_("A calm lake.").total_duration == 5
    assert compile_("A calm lake.", duration=8).shots[0].duration == 8


def test_camera_words_found_in_text_whose_lower_case_is_longer() -> None:
    # "İ" lower-cases to two characters; positions must still line up.
    plan = compile_("İİİ İstanbul at night. The camera pans left over the domes.")

    assert plan.shots[0].camera == "The camera pans left over the domes"
    assert plan.shots[0].camera_move == "pan_left"


# --- Dialogue ---------------------------------------------------------------------------------


def test_dialogue_goes_to_the_closest_character_before_it() -> None:
    plan = compile_('[@Little Scholar] meets [@Korean Girl]. [@Korean Girl] asks, "你好吗？"')

    assert plan.dialogue == (DialogueLine(1, "你好吗？", 3, True),)


@pytest.mark.parametrize(
    "quoted",
    [
        '"Hello there"',
        "“Hello there”",
        "「Hello there」",
        "『Hello there』",
        "«Hello there»",
        "„Hello there“",
    ],
)
def test_dialogue_quote_styles(quoted: str) -> None:
    plan = compile_(f"[@Korean Girl] says {quoted} and leaves.")

    assert plan.dialogue == (DialogueLine(1, "Hello there", 3, True),)


def test_dialogue_after_the_quote_when_none_before() -> None:
    plan = compile_('"Meow," [@Banana Cat] says.')

    # Banana Cat has no voice bound
    assert plan.dialogue == (DialogueLine(1, "Meow,", 2, False),)


def test_dialogue_with_no_element_speaking() -> None:
    plan = compile_('[@Korean Girl] watches. A stranger shouts, "Run!"')

    assert plan.dialogue == (DialogueLine(1, "Run!", None, False),)


def test_dialogue_skips_props_and_names_said_inside_a_line() -> None:
    text = (
        'Shot 1 (2s): [@Korean Girl] says, "I love [@Little Scholar]." '
        'Shot 2 (3s): [@Korean Girl] lifts [@Butterfly Perfume] and whispers "mine".'
    )

    plan = compile_(text)

    assert plan.dialogue == (
        DialogueLine(1, "I love [@Little Scholar].", 3, True),
        DialogueLine(2, "mine", 3, True),
    )


def test_dialogue_stays_within_its_shot() -> None:
    plan = compile_('Shot 1 (2s): [@Korean Girl] smiles. Shot 2 (3s): "Hello," says a voice.')

    assert plan.dialogue == (DialogueLine(2, "Hello,", None, False),)


def test_quoted_labels_are_not_dialogue() -> None:
    plan = compile_('[@Korean Girl] under a neon "OPEN" sign reads the word "exit".')

    assert plan.dialogue == ()


# --- Raising ----------------------------------------------------------------------------------


def test_raise_if_invalid_groups_codes_by_field() -> None:
    plan = compile_(
        "[@Korean Gril] in [@Image3]", model=O1, duration=12, input_video=False, start_frame=True
    )

    with pytest.raises(ValidationError) as caught:
        plan.raise_if_invalid()

    errors = caught.value.error_dict
    assert [e.code for e in errors["prompt"]] == [
        PromptErrorCode.UNKNOWN_MENTION,
        PromptErrorCode.UNKNOWN_IMAGE,
    ]
    assert [e.code for e in errors["start_frame"]] == [PromptErrorCode.FRAMES_NOT_SUPPORTED]
    assert [e.code for e in errors["duration"]] == [PromptErrorCode.DURATION_NOT_OFFERED]
    assert caught.value.message_dict["prompt"][0].startswith("[@Korean Gril]")


def test_raise_if_invalid_does_nothing_when_ok() -> None:
    plan = compile_(SCHOLAR_PROMPT)

    assert plan.ok
    plan.raise_if_invalid()


def test_every_code_is_a_stable_string() -> None:
    for code in PromptErrorCode:
        assert code.value == code.name


# --- Properties -------------------------------------------------------------------------------

FORBIDDEN_IN_NAMES = "[]@\r\n"
_IMAGE_OR_VIDEO = re.compile(r"(?:image|video)[ \t]*\d*", re.IGNORECASE)

names = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters=FORBIDDEN_IN_NAMES),
    min_size=1,
    max_size=40,
).filter(lambda n: n == n.strip() and n.isprintable() and not _IMAGE_OR_VIDEO.fullmatch(n))

libraries = st.lists(
    names, min_size=1, max_size=12, unique_by=lambda n: " ".join(n.split()).casefold()
).map(lambda ns: [LibraryElement(1000 + i, n) for i, n in enumerate(ns)])
safe_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="[]@"), max_size=30
)
PROPERTY_SETTINGS = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@PROPERTY_SETTINGS
@given(
    text=st.text(max_size=600)
    | st.lists(
        st.sampled_from(
            [
                "[@",
                "]",
                "@",
                "Shot 1",
                "[Shot 2]",
                " (3s):",
                ": 2s,",
                '"',
                "“",
                "”",
                "「",
                "」",
                "Banana",
                " Cat",
                "Image1",
                "[@Image",
                ". ",
                "\n",
                "0",
                "2.5s",
                "秒",
                "saying, ",
            ]
        )
        | st.text(max_size=5),
        max_size=40,
    ).map("".join),
    model=st.sampled_from(list(MODELS.values())),
    attached=st.integers(min_value=-1, max_value=12),
    bound=st.lists(st.integers(min_value=0, max_value=10), max_size=4),
    duration=st.none() | st.integers(min_value=-2, max_value=20),
    flags=st.tuples(st.booleans(), st.booleans(), st.booleans()),
)
def test_compiler_never_raises(
    text: str,
    model: object,
    attached: int,
    bound: list[int],
    duration: int | None,
    flags: tuple[bool, bool, bool],
) -> None:
    library = [
        *LIBRARY,
        LibraryElement(9, "Blocked", status="blocked"),
        LibraryElement(10, "Image", source="video"),
    ]

    plan = compile_prompt(
        text,
        model=model,  # type: ignore[arg-type]
        library=library,
        attached_images=attached,
        bound_element_ids=bound,
        duration=duration,
        input_video=flags[0],
        start_frame=flags[1],
        end_frame=flags[2],
    )

    assert plan.ok == (not plan.issues)
    assert all(isinstance(issue.code, PromptErrorCode) for issue in plan.issues)
    for mention in plan.mentions:
        assert 0 <= mention.start < mention.end <= len(text)
    if not plan.ok:
        with pytest.raises(ValidationError):
            plan.raise_if_invalid()


@PROPERTY_SETTINGS
@given(data=st.data(), library=libraries)
def test_mentions_round_trip(data: st.DataObject, library: list[LibraryElement]) -> None:
    # given: a random sequence of library names as `[@Name]` between random safe text
    picks = data.draw(st.lists(st.sampled_from(library), max_size=12))
    gaps = data.draw(st.lists(safe_text, min_size=len(picks) + 1, max_size=len(picks) + 1))
    text = gaps[0] + "".join(f"[@{e.name}]{gap}" for e, gap in zip(picks, gaps[1:], strict=True))

    # when
    plan = compile_prompt(text, model=IMAGE_OMNI, library=library)

    # then: every mention resolves to its element, in order
    resolved = [m for m in plan.mentions if m.bracketed]
    assert [m.kind for m in resolved] == [MentionKind.ELEMENT] * len(picks)
    assert [m.element_id for m in resolved] == [e.element_id for e in picks]
    first_seen = list(dict.fromkeys(e.element_id for e in picks))
    assert plan.element_ids == tuple(first_seen)
    tokens = [int(n) for n in re.findall(r"<<<element_(\d+)>>>", plan.provider_prompt)]
    assert tokens == [first_seen.index(e.element_id) + 1 for e in picks]
    assert not [i for i in plan.issues if i.code is PromptErrorCode.UNKNOWN_MENTION]
