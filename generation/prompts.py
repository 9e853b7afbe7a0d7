"""The prompt compiler: from what the user typed to what the provider is sent.

`compile_prompt` is a pure function (no database): the caller passes the owner's library,
and only the owner's, so another user's element looks exactly like one that doesn't exist.
It never raises on any text: everything wrong with the input becomes a `PromptIssue` with a
stable code, and `PromptPlan.raise_if_invalid()` turns those into a `ValidationError`.

What it understands:
- `[@Element Name]` (case-insensitive, trimmed) and bare `@Element Name` (the longest name
  in the library that matches there, ending at a word boundary);
- qualified mentions `[@Element Name@studio-nine]` / `[@Element Name@me]` (and bare
  `@Element Name@studio-nine`): the name in that library only. The library is a team's
  handle or "me"; an element name can't hold an `@` and a handle is `[a-z0-9-]`, so the
  last `@` always splits them. An unqualified name resolves in the personal library first,
  then in the teams; in two teams or more (and not personal) it is AMBIGUOUS_MENTION, whose
  suggestions are the qualified forms;
- `[@Image1]`, `[@Image 1]`, `[@image 1]`: attached images, 1-based in attach order;
  `[@Image]` when exactly one image is attached; `[@Video]` for the input video;
- shots: `Shot 1 (3s): …`, `Shot 1: 3s, …`, `[Shot 2] …`, `[Shot 2 (3s)] …`;
- quoted dialogue ("…", “…”, „…“, «…», 「…」, 『…』) and who speaks it.
"""

from __future__ import annotations

import bisect
import dataclasses
import difflib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from django.core.exceptions import ValidationError

from elements.teams.models import PERSONAL_LIBRARY
from generation.camera import (
    MOVE_PATTERN,
    MOVES,
    CameraMove,
    camera_acts,
    find_misspelled_move,
    find_move,
    pan_direction,
)
from generation.catalog import (
    MAX_SHOTS,
    MIN_SHOT_SECONDS,
    PROMPT_MAX_CHARS,
    SHOT_MAX_CHARS,
    ModelSpec,
)

# The input field of elements attached without a mention, as preview and submit both name it.
BOUND_ELEMENTS_FIELD = "elementIds"


class PromptErrorCode(StrEnum):
    PROMPT_EMPTY = "PROMPT_EMPTY"
    PROMPT_TOO_LONG = "PROMPT_TOO_LONG"
    UNKNOWN_MENTION = "UNKNOWN_MENTION"
    # `[@Name]` names elements of two or more of the user's team libraries (and none of their
    # own): the suggestions are the qualified forms, `Name@handle`, one per library.
    AMBIGUOUS_MENTION = "AMBIGUOUS_MENTION"
    # An `elementIds` entry that is not one of the owner's elements (exactly as if it did not
    # exist): the code every "not yours" answers with.
    NOT_FOUND = "NOT_FOUND"
    ELEMENT_BLOCKED = "ELEMENT_BLOCKED"
    ELEMENT_PROCESSING = "ELEMENT_PROCESSING"
    ELEMENT_FAILED = "ELEMENT_FAILED"
    # Its faces match another user's claimed likeness, who has not allowed it (or withdrew).
    ELEMENT_HELD = "ELEMENT_HELD"
    UNKNOWN_IMAGE = "UNKNOWN_IMAGE"
    IMAGE_NUMBER_MISSING = "IMAGE_NUMBER_MISSING"
    IMAGES_NOT_SUPPORTED = "IMAGES_NOT_SUPPORTED"
    UNKNOWN_VIDEO = "UNKNOWN_VIDEO"
    TOO_MANY_REFERENCES = "TOO_MANY_REFERENCES"
    INPUT_VIDEO_NOT_SUPPORTED = "INPUT_VIDEO_NOT_SUPPORTED"
    VIDEO_ELEMENT_NOT_SUPPORTED = "VIDEO_ELEMENT_NOT_SUPPORTED"
    VIDEO_ELEMENT_WITH_INPUT_VIDEO = "VIDEO_ELEMENT_WITH_INPUT_VIDEO"
    ELEMENTS_NEED_START_FRAME = "ELEMENTS_NEED_START_FRAME"
    TOO_MANY_BOUND_ELEMENTS = "TOO_MANY_BOUND_ELEMENTS"
    END_FRAME_WITHOUT_START_FRAME = "END_FRAME_WITHOUT_START_FRAME"
    FRAMES_NOT_SUPPORTED = "FRAMES_NOT_SUPPORTED"
    FRAMES_WITH_MULTI_SHOT = "FRAMES_WITH_MULTI_SHOT"
    MULTI_SHOT_NOT_SUPPORTED = "MULTI_SHOT_NOT_SUPPORTED"
    TEXT_OUTSIDE_SHOTS = "TEXT_OUTSIDE_SHOTS"
    SHOT_NUMBER_OUT_OF_ORDER = "SHOT_NUMBER_OUT_OF_ORDER"
    TOO_MANY_SHOTS = "TOO_MANY_SHOTS"
    SHOT_EMPTY = "SHOT_EMPTY"
    SHOT_TOO_LONG = "SHOT_TOO_LONG"
    SHOT_TOO_SHORT = "SHOT_TOO_SHORT"
    SHOT_DURATION_INVALID = "SHOT_DURATION_INVALID"
    SHOT_DURATION_MISSING = "SHOT_DURATION_MISSING"
    SHOT_DURATIONS_MISMATCH = "SHOT_DURATIONS_MISMATCH"
    DURATION_NOT_OFFERED = "DURATION_NOT_OFFERED"
    DURATION_NOT_ALLOWED = "DURATION_NOT_ALLOWED"
    SHOTS_NOT_ALLOWED = "SHOTS_NOT_ALLOWED"


# Element types that can speak a quoted line; a prop or a scene never does.
SPEAKER_TYPES = frozenset({"character", "animal", "other"})


# --- Inputs and outputs -----------------------------------------------------------------------


@dataclass(frozen=True)
class LibraryElement:
    """One of the elements the user may use, as the compiler needs it."""

    element_id: int
    name: str
    type: str = "character"
    status: str = "active"  # "active" | "processing" | "blocked" | "failed"
    has_voice: bool = False
    source: str = "images"  # "images" | "video"
    # Offered as a "did you mean" suggestion; the caller applies the library's one rule
    # (`elements.selectors.element_is_mentionable`), shared with `mentionSuggestions`.
    mentionable: bool = True
    # The library it is in, as a qualified mention names it: "me" (the user's own) or a
    # team's handle.
    library: str = PERSONAL_LIBRARY

    @property
    def personal(self) -> bool:
        return self.library == PERSONAL_LIBRARY

    @property
    def qualified_mention(self) -> str:
        return qualified_mention(self.name, self.library)


def qualified_mention(name: str, library: str) -> str:
    """The mention that names `name` in `library` only, whatever else the user may use:
    `[@Hero@studio-nine]`, `[@Hero@me]`. It compiles back to the same element."""
    return f"[@{name.strip()}@{library}]"


class MentionKind(StrEnum):
    ELEMENT = "element"
    IMAGE = "image"
    VIDEO = "video"
    UNKNOWN = "unknown"
    AMBIGUOUS = "ambiguous"  # an unqualified name in two or more team libraries


@dataclass(frozen=True)
class Mention:
    """A reference as written: `text[start:end]` is replaced in the provider rendering."""

    kind: MentionKind
    start: int
    end: int
    name: str  # what was written after the `@`, trimmed, without its library
    bracketed: bool
    element_id: int | None = None
    image_number: int | None = None
    library: str | None = None  # the library written after the name (lower-cased), if any
    # An ambiguous mention's qualified forms (`Name@handle`), one per library, by handle.
    choices: tuple[str, ...] = ()

    @property
    def written(self) -> str:
        """The mention as the user wrote it (its name trimmed)."""
        name = self.name if self.library is None else f"{self.name}@{self.library}"
        return f"[@{name}]" if self.bracketed else f"@{name}"


@dataclass(frozen=True)
class ElementRef:
    position: int  # N in `<<<element_N>>>`
    element: LibraryElement
    mentioned: bool  # False: bound by the caller without a mention

    @property
    def element_id(self) -> int:
        return self.element.element_id

    @property
    def name(self) -> str:
        return self.element.name


@dataclass(frozen=True)
class ImageRef:
    position: int  # N in `<<<image_N>>>`
    number: int  # attach order, as in `[@Image1]`
    mentioned: bool


@dataclass(frozen=True)
class ShotPlan:
    index: int  # 1-based, as sent in Kling's `multi_prompt`
    duration: int | None  # seconds; None when it can't be known
    duration_stated: bool  # False: split from the job's duration, or the job's duration
    text: str
    provider_text: str
    element_ids: tuple[int, ...]
    camera: str  # the shot's camera wording ("medium shot, front-facing angle"), or ""
    camera_move: CameraMove | None  # None: the words say nothing about a move
    # What the compiler chose that the words did not say (a pan's direction, a move it
    # does not know), in a sentence for the preview; "" when the words said it all.
    camera_note: str = ""
    image_numbers: tuple[int, ...] = ()  # attached images the shot mentions, in order


@dataclass(frozen=True)
class DialogueLine:
    shot_index: int
    text: str
    speaker_element_id: int | None
    has_voice: bool


@dataclass(frozen=True)
class PromptIssue:
    code: PromptErrorCode
    message: str
    field: str = "prompt"
    # `field` is taken by the attribute above, hence the module-qualified call.
    suggestions: list[str] = dataclasses.field(default_factory=list)


@dataclass(frozen=True)
class PromptPlan:
    text: str
    model: ModelSpec
    elements: tuple[ElementRef, ...]
    images: tuple[ImageRef, ...]
    input_video: bool
    mentions: tuple[Mention, ...]
    multi_shot: bool
    shots: tuple[ShotPlan, ...]
    dialogue: tuple[DialogueLine, ...]
    total_duration: int | None
    provider_prompt: str
    issues: list[PromptIssue]

    @property
    def ok(self) -> bool:
        return not self.issues

    @property
    def element_ids(self) -> tuple[int, ...]:
        return tuple(ref.element_id for ref in self.elements)

    @property
    def reference_count(self) -> int:
        return len(self.elements) + len(self.images)

    @property
    def reference_limit(self) -> int:
        return self.model.reference_limit(input_video=self.input_video)

    def raise_if_invalid(self) -> None:
        """Raise every issue at once, grouped by the input field it is about."""
        if not self.issues:
            return
        errors: dict[str, list[ValidationError]] = {}
        for issue in self.issues:
            errors.setdefault(issue.field, []).append(
                ValidationError(issue.message, code=issue.code)
            )
        raise ValidationError(errors)


# --- Patterns ---------------------------------------------------------------------------------

# `[@…]`: names can't hold brackets, `@` or line breaks (elements.models), so neither can this.
_BRACKET_MENTION = re.compile(r"\[@([^\[\]\r\n]{0,200})\]")
# A bare `@` not inside a word (so `user@example` is no mention) with something after it.
# (The look-behind follows the `@`, so the scan runs at the speed of a literal search.)
_BARE_AT = re.compile(r"@(?<![\w@]@)(?=[^\s@\[\]])")
_IMAGE_NAME = re.compile(r"image[ \t]*(\d{1,6})?", re.IGNORECASE)
_VIDEO_NAME = re.compile(r"video[ \t]*(1)?", re.IGNORECASE)
_BARE_IMAGE = re.compile(r"image[ \t]?(\d{1,6})(?!\w)", re.IGNORECASE)
_BARE_IMAGE_ALONE = re.compile(r"image(?!\w)", re.IGNORECASE)
_BARE_VIDEO = re.compile(r"video[ \t]?1(?!\w)", re.IGNORECASE)
# Up to four words after an unmatched bare `@`, to name it and find close names.
_BARE_WORDS = re.compile(r"[^\W_][\w'’\-]*(?:[ \t]+[^\W_][\w'’\-]*){0,3}")

_DUR = r"(\d{1,4}(?:\.\d+)?)[ \t]*(?:seconds?|secs?|s|秒)(?!\w)"
_SHOT_MARKER = re.compile(
    # The leading look-ahead lets the engine skip to candidate characters.
    rf"""
    (?=[\[sS])(?:
    \[[ \t]*shot[ \t]*(?P<bn>\d{{1,3}})[ \t]*
        (?:[(（][ \t]*{_DUR.replace("(", "(?P<d1>", 1)}[ \t]*[)）]
          |[,，:：][ \t]*{_DUR.replace("(", "(?P<d2>", 1)})?
    [ \t]*\]
    (?:[ \t]*[(（][ \t]*{_DUR.replace("(", "(?P<d3>", 1)}[ \t]*[)）])?
    (?:[ \t]*[:：])?
  | (?<![\w@])shot[ \t]*(?P<un>\d{{1,3}})[ \t]*
        (?:[(（][ \t]*{_DUR.replace("(", "(?P<d4>", 1)}[ \t]*[)）][ \t]*[:：]?|[:：])
    )""",
    re.IGNORECASE | re.VERBOSE,
)
# `Shot 1: 3s, medium shot…`: a duration right after the marker.
_POST_DURATION = re.compile(rf"[ \t]*{_DUR}[ \t]*[,，:：;.]?")

_QUOTE = re.compile(r'"[^"]*"|“[^”]*”|„[^“”]*[“”]|«[^»]*»|「[^」]*」|『[^』]*』')
# Where clauses end, outside quotes and mentions (those are masked first): a comma, colon or
# semicolon, a CJK full stop, or a Western one followed by a space (not "3.5", not "...x").
# Each is one character; the look-behinds test the character just matched, so the scan
# runs as one character class.
_SENTENCE_ENDERS = ".!?…。！？"
_CLAUSE_END = re.compile(r"[,，;；:：.!?…。！？](?:(?<=[.!?…])(?=\s|$)|(?<![.!?…]))")

# Words after which a quote is something said (`says, "…"`, `whispers "…"`, `他说“…”`).
_SPEECH_WORDS = frozenset(
    f"{stem}{ending}"
    for stem, endings in {
        "say": ("", "s", "ing"),
        "said": ("",),
        "ask": ("", "s", "ed", "ing"),
        "repl": ("y", "ies", "ied", "ying"),
        "answer": ("", "s", "ed", "ing"),
        "shout": ("", "s", "ed", "ing"),
        "scream": ("", "s", "ed", "ing"),
        "yell": ("", "s", "ed", "ing"),
        "whisper": ("", "s", "ed", "ing"),
        "exclaim": ("", "s", "ed", "ing"),
        "mutter": ("", "s", "ed", "ing"),
        "murmur": ("", "s", "ed", "ing"),
        "sing": ("", "s", "ing"),
        "sang": ("",),
        "cr": ("y", "ies", "ied", "ying"),
        "call": ("", "s", "ed", "ing"),
        "out": ("",),
        "add": ("", "s", "ed", "ing"),
        "declar": ("e", "es", "ed", "ing"),
        "announc": ("e", "es", "ed", "ing"),
        "speak": ("", "s", "ing"),
        "spoke": ("",),
        "tell": ("", "s", "ing"),
        "told": ("",),
        "shriek": ("", "s", "ed", "ing"),
        "gasp": ("", "s", "ed", "ing"),
        "sigh": ("", "s", "ed", "ing"),
        "laugh": ("", "s", "ed", "ing"),
        "sob": ("", "s", "bed", "bing"),
    }.items()
    for ending in endings
)
_SPEECH_CHARS = "说道喊问叫唱答讲念"

# Words that say something about the camera: what the camera wording of a shot is made of.
# Every move of the vocabulary (`generation.camera`) is one of them. Run on lower-cased text.
CAMERA_CUE_WORDS = (
    r"(?=[abcdfhmopstz])\b(?:camera|shot|close[- ]?ups?|angle|overhead|aerial|bird'?s[- ]eye"
    r"|pov|zoom\w*|pan|pans|panning|panned|push\w*|pull\w*|dolly|dollies|dollying|tilt\w*"
    r"|track\w*|follow\w*|orbit\w*|circl\w*|crane|handheld|moves?\s+closer)\b"
    rf"|{MOVE_PATTERN}|镜头"
)
# Where one can start: a Latin word at a word boundary with one of CAMERA_CUE_STARTS; a
# Chinese one (outside ASCII) or "360度" anywhere. Tried only there, the ~60 alternatives
# are not tried at every other position of the text (a 2,500-character prompt: 2.0 → 0.36
# ms). tests/generation/test_camera.py derives the starts from the pattern and checks these.
CAMERA_CUE_STARTS = "abcdfghjlmoprstwz3"
CAMERA_CUE_ANYWHERE = "3"
_CAMERA_CUE = re.compile(
    rf"(?:(?<![a-z0-9_])(?=[{CAMERA_CUE_STARTS}])|(?=[{CAMERA_CUE_ANYWHERE}]|[^\x00-\x7f]))"
    rf"(?:{CAMERA_CUE_WORDS})"
)


def _norm(name: str) -> str:
    return " ".join(name.split()).casefold()


# --- The library, indexed for lookups ---------------------------------------------------------


class _Library:
    """The usable elements indexed by name, per library.

    A name is unique within a library, not across them: `find` resolves a qualified name in
    its library only, an unqualified one in the personal library first, then in the teams."""

    def __init__(self, elements: Sequence[LibraryElement]) -> None:
        self.by_id: dict[int, LibraryElement] = {}
        # Folded name -> {library qualifier: element}.
        self.by_name: dict[str, dict[str, LibraryElement]] = {}
        # First folded character -> (name length, folded name), longest first, each name once.
        self.by_first: dict[str, list[tuple[int, str]]] = {}
        for element in elements:
            self.by_id.setdefault(element.element_id, element)
            key = _norm(element.name)
            if not key:
                continue
            libraries = self.by_name.setdefault(key, {})
            if element.library in libraries:
                continue
            libraries[element.library] = element
            if len(libraries) > 1:
                continue
            name = element.name.strip()
            folded = name.casefold()
            if len(folded) == len(name):  # names whose folding changes length: brackets only
                self.by_first.setdefault(folded[0], []).append((len(name), folded))
        for candidates in self.by_first.values():
            candidates.sort(key=lambda c: -c[0])
        self._folded_names = [
            key for key, found in self.by_name.items() if any(e.mentionable for e in found.values())
        ]

    def find(
        self, name: str, library: str | None = None
    ) -> tuple[LibraryElement | None, tuple[LibraryElement, ...]]:
        """The element `name` names (in `library` only when given), or None with the
        elements of the two or more team libraries an unqualified name is ambiguous between
        (ordered by library), or None and () when there is none."""
        found = self.by_name.get(_norm(name))
        if not found:
            return None, ()
        if library is not None:
            return found.get(library), ()
        personal = found.get(PERSONAL_LIBRARY)
        if personal is not None:
            return personal, ()
        if len(found) == 1:
            return next(iter(found.values())), ()
        return None, tuple(sorted(found.values(), key=lambda e: e.library))

    def has(self, name: str) -> bool:
        return _norm(name) in self.by_name

    def longest_at(self, text: str, pos: int) -> str | None:
        """The longest name of any library written at `pos` (ending at a word boundary), as
        written there."""
        if pos >= len(text):
            return None
        for length, folded in self.by_first.get(text[pos].casefold()[:1], ()):
            end = pos + length
            if end > len(text) or text[pos:end].casefold() != folded:
                continue
            if end < len(text) and _is_word(folded[-1]) and _is_word(text[end]):
                continue
            return text[pos:end]
        return None

    def mention_text(self, element: LibraryElement) -> str:
        """What to write inside `[@…]` for `element`: its name when that resolves to it, else
        the qualified `Name@library`."""
        found, _ = self.find(element.name)
        if found is not None and found.element_id == element.element_id:
            return element.name
        return f"{element.name}@{element.library}"

    def suggestions(self, name: str, n: int = 3, library: str | None = None) -> list[str]:
        """Close names, each as the text that mentions it (qualified when it must be); within
        `library` only when given."""
        out: list[str] = []
        for key in self._close(name, n if library is None else max(1, len(self._folded_names))):
            for element in self.by_name[key].values():
                if not element.mentionable or (library is not None and element.library != library):
                    continue
                text = self.mention_text(element)
                if text not in out:
                    out.append(text)
        return out[:n]

    def _close(self, name: str, n: int) -> list[str]:
        return difflib.get_close_matches(_norm(name), self._folded_names, n=n, cutoff=0.6)

    def best_ratio(self, name: str) -> float:
        folded = _norm(name)
        matches = self._close(name, 1)
        return difflib.SequenceMatcher(None, folded, matches[0]).ratio() if matches else 0.0


def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_"


# --- Scanning ---------------------------------------------------------------------------------


@dataclass
class _Marker:
    start: int
    end: int  # where the shot's text begins
    number: int
    duration: str | None  # as written, e.g. "3" or "2.5"


class _Spans:
    """Sorted, non-overlapping spans, for "is this position inside one?"."""

    def __init__(self, spans: Iterable[tuple[int, int]]) -> None:
        self.spans = sorted(spans)
        self.starts = [s for s, _ in self.spans]

    def covering(self, pos: int) -> tuple[int, int] | None:
        i = bisect.bisect_right(self.starts, pos) - 1
        if i >= 0 and self.spans[i][0] <= pos < self.spans[i][1]:
            return self.spans[i]
        return None

    def overlaps(self, start: int, end: int) -> bool:
        i = bisect.bisect_left(self.starts, end) - 1
        return i >= 0 and self.spans[i][1] > start


def _element_mention(
    library: _Library,
    name: str,
    qualifier: str | None,
    start: int,
    end: int,
    bracketed: bool,
) -> Mention:
    """A mention of an element by name (in `qualifier`'s library only, when given)."""
    element, ambiguous = library.find(name, qualifier)
    if element is not None:
        return Mention(
            MentionKind.ELEMENT, start, end, name, bracketed, element.element_id, library=qualifier
        )
    if ambiguous:
        choices = tuple(f"{e.name}@{e.library}" for e in ambiguous)
        return Mention(MentionKind.AMBIGUOUS, start, end, name, bracketed, choices=choices)
    return Mention(MentionKind.UNKNOWN, start, end, name, bracketed, library=qualifier)


def _scan_brackets(text: str, library: _Library, attached_images: int) -> list[Mention]:
    mentions: list[Mention] = []
    for match in _BRACKET_MENTION.finditer(text):
        name = match.group(1).strip()
        start, end = match.span()
        if "@" in name:  # `[@Hero@studio-nine]`: an element of that library, nothing else
            name, _, qualifier = name.rpartition("@")
            mentions.append(
                _element_mention(library, name.strip(), qualifier.strip().lower(), start, end, True)
            )
            continue
        known = library.has(name)
        image = _IMAGE_NAME.fullmatch(name)
        # `[@Image2]` is always an image; a plain `[@Image]` is the element of that name if
        # there is one.
        if image and (image.group(1) is not None or not known):
            number = _image_number(image.group(1), attached_images)
            mentions.append(Mention(MentionKind.IMAGE, start, end, name, True, image_number=number))
            continue
        video = _VIDEO_NAME.fullmatch(name)
        if video and (video.group(1) is not None or not known):
            mentions.append(Mention(MentionKind.VIDEO, start, end, name, True))
            continue
        mentions.append(_element_mention(library, name, None, start, end, True))
    return mentions


def _image_number(digits: str | None, attached_images: int) -> int | None:
    """The image a mention names; 0 for a number that names none, None for `[@Image]`."""
    if digits is None:
        return 1 if attached_images == 1 else None
    number = int(digits)
    return number if 1 <= number <= attached_images else 0


def _scan_markers(text: str, taken: _Spans) -> list[_Marker]:
    markers: list[_Marker] = []
    for match in _SHOT_MARKER.finditer(text):
        if taken.overlaps(*match.span()):
            continue
        number = int(match.group("bn") or match.group("un"))
        duration = match.group("d1") or match.group("d2") or match.group("d3")
        duration = duration or match.group("d4")
        end = match.end()
        if duration is None:
            post = _POST_DURATION.match(text, end)
            if post:
                duration = post.group(1)
                end = post.end()
        markers.append(_Marker(match.start(), end, number, duration))
    return markers


# A library written right after a bare mention's name: `@Hero@studio-nine`.
_BARE_QUALIFIER = re.compile(r"@([a-z0-9](?:[a-z0-9-]*[a-z0-9])?)(?![\w@-])", re.IGNORECASE)


def _scan_bare(text: str, library: _Library, attached_images: int, taken: _Spans) -> list[Mention]:
    mentions: list[Mention] = []
    for match in _BARE_AT.finditer(text):
        at = match.start()
        if taken.covering(at) is not None:
            continue
        pos = at + 1
        written = library.longest_at(text, pos)
        element_end = pos + len(written) if written is not None else pos
        if taken.overlaps(at, element_end):  # a name running into a shot marker
            written, element_end = None, pos
        image = _BARE_IMAGE.match(text, pos)
        # `@Image2` is an image, unless a longer element name starts there (`@Image 2 Pro`).
        if image and image.end() >= element_end:
            number = _image_number(image.group(1), attached_images)
            name = image.group(0)
            mentions.append(
                Mention(MentionKind.IMAGE, at, image.end(), name, False, image_number=number)
            )
            continue
        video = _BARE_VIDEO.match(text, pos)
        if video and video.end() >= element_end:
            mentions.append(Mention(MentionKind.VIDEO, at, video.end(), video.group(0), False))
            continue
        if written is not None:
            qualifier = _BARE_QUALIFIER.match(text, element_end)
            if qualifier is not None and not taken.overlaps(element_end, qualifier.end()):
                mentions.append(
                    _element_mention(
                        library, written, qualifier.group(1).lower(), at, qualifier.end(), False
                    )
                )
            else:
                mentions.append(_element_mention(library, written, None, at, element_end, False))
            continue
        image = _BARE_IMAGE_ALONE.match(text, pos)
        if image:
            number = _image_number(None, attached_images)
            mentions.append(
                Mention(
                    MentionKind.IMAGE, at, image.end(), image.group(0), False, image_number=number
                )
            )
            continue
        if not text[pos].isalpha():
            continue  # "@ 5pm", "@2x": not meant as a mention
        words = _BARE_WORDS.match(text, pos)
        if words is None:
            continue
        name = _bare_unknown_name(words.group(0), library)
        if taken.overlaps(at, pos + len(name)):
            name = words.group(0).split()[0]
            if taken.overlaps(at, pos + len(name)):
                continue
        mentions.append(Mention(MentionKind.UNKNOWN, at, pos + len(name), name, False))
    return mentions


def _bare_unknown_name(words: str, library: _Library) -> str:
    """Of the first one to four words after an unmatched `@`, the run that is closest to a
    name in the library (the first word when none is close)."""
    parts = words.split()
    best, best_ratio = parts[0], 0.0
    for count in range(1, len(parts) + 1):
        candidate = " ".join(parts[:count])
        if not words.startswith(candidate):  # tabs or double spaces: keep the written span
            break
        ratio = library.best_ratio(candidate)
        if ratio > best_ratio:
            best, best_ratio = candidate, ratio
    return best


def _scan_quotes(text: str, start: int, end: int, mentions: _Spans) -> list[tuple[int, int]]:
    quotes: list[tuple[int, int]] = []
    pos = start
    while pos < end:
        match = _QUOTE.search(text, pos, end)
        if match is None:
            break
        if mentions.covering(match.start()) is not None:
            pos = match.start() + 1
            continue
        quotes.append(match.span())
        pos = match.end()
    return quotes


def _masked(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """The text with the inside of every span blanked, so punctuation in a quote or a name
    never ends a sentence; positions are unchanged."""
    parts: list[str] = []
    last = 0
    for start, end in sorted(spans):
        if start < last:
            continue
        parts.append(text[last:start])
        parts.append("_" * (end - start))
        last = end
    parts.append(text[last:])
    return "".join(parts)


# --- Compiling --------------------------------------------------------------------------------


def compile_prompt(
    text: str,
    *,
    model: ModelSpec,
    library: Sequence[LibraryElement],
    attached_images: int = 0,
    bound_element_ids: Sequence[int] = (),
    duration: int | None = None,
    input_video: bool = False,
    start_frame: bool = False,
    end_frame: bool = False,
) -> PromptPlan:
    """Parse a prompt against the owner's library and check it against the model's rules.

    `library` must hold only the owner's elements. `attached_images` is how many images are
    attached (`[@Image1]` is the first). `bound_element_ids` are elements the caller
    attached without a mention; they follow the mentioned ones. `duration` is the job's
    length in seconds (None: the shots' sum, or the model's default).
    """
    text = text if isinstance(text, str) else str(text)
    attached_images = max(0, int(attached_images))
    lib = _Library(library)
    issues: list[PromptIssue] = []

    bracketed = _scan_brackets(text, lib, attached_images)
    bracket_spans = _Spans((m.start, m.end) for m in bracketed)
    markers = _scan_markers(text, bracket_spans)
    taken = _Spans([*bracket_spans.spans, *((m.start, m.end) for m in markers)])
    bare = _scan_bare(text, lib, attached_images, taken)
    mentions = sorted([*bracketed, *bare], key=lambda m: m.start)
    mention_spans = _Spans((m.start, m.end) for m in mentions)

    elements, images = _references(mentions, lib, attached_images, bound_element_ids, issues, model)
    element_pos = {ref.element_id: ref.position for ref in elements}
    _mention_issues(mentions, lib, attached_images, input_video, issues)

    def render(start: int, end: int) -> str:
        out: list[str] = []
        last = start
        for mention in mentions:
            if mention.start < start or mention.end > end:
                continue
            token = _token(mention, element_pos, input_video)
            if token is None:
                continue
            out.append(text[last : mention.start])
            out.append(token)
            last = mention.end
        out.append(text[last:end])
        return "".join(out)

    provider_prompt = render(0, len(text))
    multi_shot = bool(markers) and model.is_video

    # Segments: (shot index, number as written, start, end).
    if multi_shot:
        segments = [
            (i + 1, m.number, m.end, markers[i + 1].start if i + 1 < len(markers) else len(text))
            for i, m in enumerate(markers)
        ]
    else:
        segments = [(1, 1, 0, len(text))]

    quotes: list[tuple[int, tuple[int, int]]] = []
    if model.is_video:
        for index, _, start, end in segments:
            quotes.extend((index, q) for q in _scan_quotes(text, start, end, mention_spans))
    masked = _masked(text, [(m.start, m.end) for m in mentions] + [q for _, q in quotes])

    layout = _Layout(masked)
    # On a model without multi-shot, the one issue to report is that; not the shots' details.
    shot_issues = issues if model.multi_shot else []
    durations, total = _durations(markers if multi_shot else [], model, duration, shot_issues)
    shots: list[ShotPlan] = []
    if durations is not None:  # a video model
        stated = [multi_shot and m.duration is not None for m in markers] or [False]
        shots = _shots(text, layout, segments, durations, stated, mentions, render, lib)
    dialogue = _dialogue(text, layout, quotes, segments, mentions, lib, multi_shot)

    _check_prompt(text, provider_prompt, model, start_frame, multi_shot, issues)
    _check_shots(text, markers, shots, model, issues)
    _check_references(elements, images, model, input_video, issues)
    _check_model(model, elements, input_video, start_frame, end_frame, multi_shot, issues)
    _check_duration(model, duration, total, markers, multi_shot, issues)

    return PromptPlan(
        text=text,
        model=model,
        elements=tuple(elements),
        images=tuple(images),
        input_video=input_video,
        mentions=tuple(mentions),
        multi_shot=multi_shot,
        shots=tuple(shots),
        dialogue=tuple(dialogue),
        total_duration=total if model.is_video else None,
        provider_prompt=provider_prompt,
        issues=issues,
    )


def qualified_prompt(plan: PromptPlan) -> str:
    """The plan's text with every element mention written qualified (`[@Hero@studio-nine]`):
    it compiles to the same elements whatever the user's libraries come to hold."""
    by_id = {ref.element_id: ref.element for ref in plan.elements}
    out: list[str] = []
    last = 0
    for mention in plan.mentions:
        element = by_id.get(mention.element_id or 0)
        if mention.kind is not MentionKind.ELEMENT or element is None:
            continue
        out.append(plan.text[last : mention.start])
        out.append(element.qualified_mention)
        last = mention.end
    out.append(plan.text[last:])
    return "".join(out)


def _token(mention: Mention, element_pos: dict[int, int], input_video: bool) -> str | None:
    if mention.kind is MentionKind.ELEMENT and mention.element_id in element_pos:
        return f"<<<element_{element_pos[mention.element_id]}>>>"
    if mention.kind is MentionKind.IMAGE and mention.image_number:
        return f"<<<image_{mention.image_number}>>>"
    if mention.kind is MentionKind.VIDEO and input_video:
        return "<<<video_1>>>"
    return None  # left as written; its issue says why


def _references(
    mentions: Sequence[Mention],
    lib: _Library,
    attached_images: int,
    bound_element_ids: Sequence[int],
    issues: list[PromptIssue],
    model: ModelSpec,
) -> tuple[list[ElementRef], list[ImageRef]]:
    """Elements in first-mention order, then bound ones not mentioned; all attached images
    in attach order (each is sent, so each counts, mentioned or not)."""
    elements: list[ElementRef] = []
    seen: set[int] = set()
    for mention in mentions:
        if mention.kind is MentionKind.ELEMENT and mention.element_id not in seen:
            assert mention.element_id is not None
            seen.add(mention.element_id)
            element = lib.by_id[mention.element_id]
            elements.append(ElementRef(len(elements) + 1, element, mentioned=True))
    unknown_ids: list[int] = []
    for element_id in bound_element_ids:
        if element_id in seen:
            continue
        seen.add(element_id)
        bound = lib.by_id.get(element_id)
        if bound is None:
            unknown_ids.append(element_id)
            continue
        elements.append(ElementRef(len(elements) + 1, bound, mentioned=False))
    if unknown_ids:
        # Another user's element reads exactly like one that doesn't exist.
        count = len(unknown_ids)
        issues.append(
            PromptIssue(
                PromptErrorCode.NOT_FOUND,
                "An element in elementIds does not exist."
                if count == 1
                else f"{count} elements in elementIds do not exist.",
                field=BOUND_ELEMENTS_FIELD,
            )
        )
    mentioned = {m.image_number for m in mentions if m.kind is MentionKind.IMAGE}
    images = [ImageRef(n, n, n in mentioned) for n in range(1, attached_images + 1)]
    for ref in elements:
        status = ref.element.status
        where = "prompt" if ref.mentioned else BOUND_ELEMENTS_FIELD
        if status == "blocked":
            issues.append(
                PromptIssue(
                    PromptErrorCode.ELEMENT_BLOCKED,
                    f'"{ref.name}" was blocked by moderation and can\'t be used.',
                    field=where,
                )
            )
        elif status == "held":
            issues.append(
                PromptIssue(
                    PromptErrorCode.ELEMENT_HELD,
                    f'"{ref.name}" shows a person who claimed their likeness and has not '
                    "allowed you to use it; it is held until they do.",
                    field=where,
                )
            )
        elif status == "failed":
            issues.append(
                PromptIssue(
                    PromptErrorCode.ELEMENT_FAILED,
                    f'"{ref.name}" could not be made from its video; delete it and try '
                    "another clip.",
                    field=where,
                )
            )
        elif status != "active":
            issues.append(
                PromptIssue(
                    PromptErrorCode.ELEMENT_PROCESSING,
                    f'"{ref.name}" is still being prepared; use it once it is ready.',
                    field=where,
                )
            )
    return elements, images


def _unknown_issue(mention: Mention, lib: _Library) -> PromptIssue:
    """No element by that name (in that library, for a qualified mention): the close names,
    each as the text that mentions it. A library the user can't use reads as one with no
    such element."""
    written = mention.written
    if mention.library is None:
        suggestions = lib.suggestions(mention.name)
        where = "in your library"
    else:
        # The same name in the libraries that have it, else close names in that library,
        # else close names anywhere.
        found = lib.by_name.get(_norm(mention.name), {})
        suggestions = [lib.mention_text(e) for e in found.values() if e.mentionable][:3]
        suggestions = suggestions or lib.suggestions(mention.name, library=mention.library)
        suggestions = suggestions or lib.suggestions(mention.name)
        where = f"in the library @{mention.library}"
    hint = (
        " Did you mean " + " or ".join(f'"{s}"' for s in suggestions) + "?" if suggestions else ""
    )
    problem = f"no element with this name {where}."
    if mention.library == "":  # `[@Hero@]`: the handle after the "@" is missing
        problem = (
            f'no library is named after the "@": write [@{mention.name}] for your own '
            f"library or [@{mention.name}@team-handle] for a team's."
        )
    return PromptIssue(
        PromptErrorCode.UNKNOWN_MENTION,
        f"{written}: {problem}{hint}",
        suggestions=suggestions,
    )


def _mention_issues(
    mentions: Sequence[Mention],
    lib: _Library,
    attached_images: int,
    input_video: bool,
    issues: list[PromptIssue],
) -> None:
    reported: set[tuple[MentionKind, str]] = set()
    for mention in mentions:
        key = (mention.kind, _norm(mention.written.lstrip("[@").rstrip("]")))
        if mention.kind is MentionKind.UNKNOWN and key not in reported:
            reported.add(key)
            issues.append(_unknown_issue(mention, lib))
        elif mention.kind is MentionKind.AMBIGUOUS and key not in reported:
            reported.add(key)
            forms = " or ".join(f"[@{choice}]" for choice in mention.choices)
            issues.append(
                PromptIssue(
                    PromptErrorCode.AMBIGUOUS_MENTION,
                    f'{mention.written}: "{mention.name}" is in more than one of your team '
                    f"libraries; say which: {forms}.",
                    suggestions=list(mention.choices),
                )
            )
        elif mention.kind is MentionKind.IMAGE and key not in reported:
            if mention.image_number == 0:
                reported.add(key)
                if attached_images == 0:
                    attached = "no image is attached"
                elif attached_images == 1:
                    attached = "only 1 image is attached"
                else:
                    attached = f"only {attached_images} images are attached"
                issues.append(
                    PromptIssue(
                        PromptErrorCode.UNKNOWN_IMAGE,
                        f"[@{mention.name}]: {attached}.",
                    )
                )
            elif mention.image_number is None:
                reported.add(key)
                if attached_images == 0:
                    issues.append(
                        PromptIssue(
                            PromptErrorCode.UNKNOWN_IMAGE,
                            f"[@{mention.name}]: no image is attached.",
                        )
                    )
                else:
                    issues.append(
                        PromptIssue(
                            PromptErrorCode.IMAGE_NUMBER_MISSING,
                            f"[@{mention.name}]: {attached_images} images are attached; "
                            f"say which one, from [@Image1] to [@Image{attached_images}].",
                        )
                    )
        elif mention.kind is MentionKind.VIDEO and not input_video and key not in reported:
            reported.add(key)
            issues.append(
                PromptIssue(
                    PromptErrorCode.UNKNOWN_VIDEO,
                    f"[@{mention.name}]: no input video is attached.",
                )
            )


class _Layout:
    """Clause ends, sentence ends and camera words of the masked text, found once."""

    def __init__(self, masked: str) -> None:
        self.masked = masked
        self.stops = [match.start() for match in _CLAUSE_END.finditer(masked)]
        self.sentence_ends = [pos + 1 for pos in self.stops if masked[pos] in _SENTENCE_ENDERS]
        lowered = masked.lower()
        if len(lowered) != len(masked):  # a few characters lower-case to two; keep positions
            lowered = "".join(ch if len(ch.lower()) != 1 else ch.lower() for ch in masked)
        self.lowered = lowered
        self.cues = [match.span() for match in _CAMERA_CUE.finditer(lowered)]
        self.cue_starts = [start for start, _ in self.cues]

    def cues_in(self, start: int, end: int) -> list[tuple[int, int]]:
        first = bisect.bisect_left(self.cue_starts, start)
        last = bisect.bisect_left(self.cue_starts, end)
        return [cue for cue in self.cues[first:last] if cue[1] <= end]

    def clause_around(self, pos: int, start: int, end: int) -> tuple[int, int]:
        i = bisect.bisect_left(self.stops, pos)
        clause_start = max(start, self.stops[i - 1] + 1) if i > 0 else start
        clause_end = min(end, self.stops[i]) if i < len(self.stops) else end
        return clause_start, clause_end

    def sentence_of(self, pos: int) -> int:
        return bisect.bisect_right(self.sentence_ends, pos)


def _shots(
    text: str,
    layout: _Layout,
    segments: Sequence[tuple[int, int, int, int]],
    durations: Sequence[int | None],
    stated: Sequence[bool],
    mentions: Sequence[Mention],
    render: Callable[[int, int], str],
    lib: _Library,
) -> list[ShotPlan]:
    shots: list[ShotPlan] = []
    for n, (index, _, start, end) in enumerate(segments):
        segment = text[start:end]
        body_start = start + len(segment) - len(segment.lstrip())
        body_end = max(body_start, end - (len(segment) - len(segment.rstrip())))
        ids: list[int] = []
        images: list[int] = []
        in_shot = [m for m in mentions if body_start <= m.start < body_end]
        for m in in_shot:
            if m.kind is MentionKind.ELEMENT and m.element_id not in ids:
                assert m.element_id is not None
                ids.append(m.element_id)
            elif m.kind is MentionKind.IMAGE and m.image_number and m.image_number not in images:
                images.append(m.image_number)
        cues = layout.cues_in(body_start, body_end)
        camera = _camera(text, layout, cues, body_start, body_end)
        move, note = _camera_move(text, layout, body_start, body_end, in_shot, lib, camera)
        shots.append(
            ShotPlan(
                index=index,
                duration=durations[n],
                duration_stated=stated[n],
                text=text[body_start:body_end],
                provider_text=render(body_start, body_end),
                element_ids=tuple(ids),
                camera=camera,
                camera_move=move,
                camera_note=note,
                image_numbers=tuple(images),
            )
        )
    return shots


def _camera_move(
    text: str,
    layout: _Layout,
    start: int,
    end: int,
    in_shot: Sequence[Mention],
    lib: _Library,
    camera: str,
) -> tuple[CameraMove | None, str]:
    """The shot's move from the vocabulary, and a note when the words did not say it all.
    Read in the masked text: a word inside a quote or a name is no camera move."""
    found = find_move(layout.lowered, start, end)
    read_as = ""
    if found is None:
        if not camera or not camera_acts(layout.lowered, start, end):
            return None, ""
        slip = find_misspelled_move(layout.lowered, start, end)
        if slip is None:
            return CameraMove.STATIC, (
                f"No camera move we know in “{_clip(camera)}”: the camera holds still."
            )
        found, written, meant = slip
        read_as = f"Read “{written}” as “{meant}”"
        if found.move is not None:
            return found.move, f"{read_as}: {MOVES[found.move].label}."
    if found.move is not None:
        return found.move, ""
    # A pan with no direction: toward the subject named after it, else the way the
    # layout reads. Subjects stand left to right in mention order, scenes behind them.
    subjects: list[tuple[MentionKind, int | None]] = []
    for m in in_shot:
        key = _subject_key(m, lib)
        if key is not None and key not in subjects:
            subjects.append(key)
    sentence = layout.sentence_of(found.start)
    ends = layout.sentence_ends
    sentence_end = min(end, ends[sentence]) if sentence < len(ends) else end
    after = (_subject_key(m, lib) for m in in_shot if found.end <= m.start < sentence_end)
    named = next((key for key in after if key is not None), None)
    target = subjects.index(named) if named is not None else None
    move = pan_direction(target, len(subjects))
    said = text[found.start : found.end].strip()
    if target is not None and len(subjects) > 1:
        why = f"toward {_subject_label(subjects[target], lib)}"
    else:
        why = "the way the shot is laid out (the first one mentioned stands on the left)"
    if read_as:
        return move, f"{read_as}, which gives no direction: {MOVES[move].label}, {why}."
    return move, f"“{said}” gives no direction: {MOVES[move].label}, {why}."


def _subject_key(mention: Mention, lib: _Library) -> tuple[MentionKind, int | None] | None:
    """What a mention puts in front of the scene, as a key: an element that is no scene, or
    an attached image; None for anything else."""
    if mention.kind is MentionKind.ELEMENT and mention.element_id is not None:
        if lib.by_id[mention.element_id].type != "scene":
            return (MentionKind.ELEMENT, mention.element_id)
    elif mention.kind is MentionKind.IMAGE and mention.image_number:
        return (MentionKind.IMAGE, mention.image_number)
    return None


def _subject_label(key: tuple[MentionKind, int | None], lib: _Library) -> str:
    kind, value = key
    if kind is MentionKind.IMAGE:
        return f"[@Image{value}]"
    return lib.by_id[value or 0].name


def _clip(words: str, limit: int = 80) -> str:
    return words if len(words) <= limit else words[: limit - 1] + "…"


def _camera(
    text: str, layout: _Layout, cues: Sequence[tuple[int, int]], start: int, end: int
) -> str:
    """The clauses of the shot that talk about the camera: joined by commas within a
    sentence and by semicolons across sentences."""
    sentences: dict[int, list[str]] = {}
    seen: set[int] = set()
    for cue_start, _ in cues:
        clause_start, clause_end = layout.clause_around(cue_start, start, end)
        if clause_start in seen:
            continue
        seen.add(clause_start)
        clause = text[clause_start:clause_end].strip()
        if clause:
            sentences.setdefault(layout.sentence_of(clause_start), []).append(clause)
    return "; ".join(", ".join(clauses) for clauses in sentences.values())


def _durations(
    markers: Sequence[_Marker],
    model: ModelSpec,
    duration: int | None,
    issues: list[PromptIssue],
) -> tuple[list[int | None] | None, int | None]:
    """Each shot's seconds and the job's total. Missing durations on every shot are split
    evenly from the job's duration when it divides; anything else missing is an issue."""
    if not model.is_video:
        return None, None
    if not markers:
        total = duration if duration is not None else model.default_duration
        return [total], total
    stated: list[int | None] = []
    invalid: list[int] = []
    for i, marker in enumerate(markers, start=1):
        if marker.duration is None:
            stated.append(None)
            continue
        seconds = float(marker.duration)
        if not seconds.is_integer():
            invalid.append(i)
            stated.append(None)
        else:
            stated.append(int(seconds))
    if invalid:
        issues.append(
            PromptIssue(
                PromptErrorCode.SHOT_DURATION_INVALID,
                f"Shot durations are whole seconds; shot {_list(invalid)} "
                f"{'has' if len(invalid) == 1 else 'have'} a fraction.",
            )
        )
        return stated, duration
    missing = [i for i, s in enumerate(stated, start=1) if s is None]
    count = len(markers)
    if not missing:
        known = [s for s in stated if s is not None]
        return stated, sum(known)
    if len(missing) == count and duration is not None:
        if duration % count == 0 and duration // count >= MIN_SHOT_SECONDS:
            share = duration // count
            return [share] * count, duration
        issues.append(
            PromptIssue(
                PromptErrorCode.SHOT_DURATION_MISSING,
                f"{duration} s doesn't split evenly over {count} shots; give each shot its "
                f"length, e.g. “Shot 1 (3s): …”.",
            )
        )
        return stated, duration
    if len(missing) == count:
        message = (
            "Give each shot its length, e.g. “Shot 1 (3s): …”, or give the video's duration "
            "to split evenly."
        )
    else:
        message = (
            f"Shot {_list(missing)} {'has' if len(missing) == 1 else 'have'} no duration; "
            f"give every shot its length, e.g. “Shot {missing[0]} (3s): …”."
        )
    issues.append(PromptIssue(PromptErrorCode.SHOT_DURATION_MISSING, message))
    return stated, duration


def _list(numbers: Sequence[int]) -> str:
    words = [str(n) for n in numbers]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _dialogue(
    text: str,
    layout: _Layout,
    quotes: Sequence[tuple[int, tuple[int, int]]],
    segments: Sequence[tuple[int, int, int, int]],
    mentions: Sequence[Mention],
    lib: _Library,
    multi_shot: bool,
) -> list[DialogueLine]:
    """Quoted lines and who speaks them: the speaking element mentioned closest before the
    line in the same shot (or, in a single-shot prompt, the same sentence), else the first
    one right after it in the sentence (`"Hi," [@Anna] says`). A quote that reads as a
    label (`a neon "KLING" sign`) is not dialogue: a line follows a comma or colon, a
    speech verb, or starts its sentence."""
    bounds = {index: (start, end) for index, _, start, end in segments}
    masked, ends = layout.masked, layout.sentence_ends
    quoted = _Spans(q for _, q in quotes)
    # A name said inside a line (`"I love [@Bo]"`) doesn't speak the next one.
    speakers = [m for m in mentions if quoted.covering(m.start) is None]
    lines: list[DialogueLine] = []
    for index, (q_start, q_end) in quotes:
        inner = text[q_start + 1 : q_end - 1].strip()
        if not inner:
            continue
        seg_start, seg_end = bounds[index]
        i = bisect.bisect_right(ends, q_start) - 1
        sentence_start = max(seg_start, ends[i] if i >= 0 else 0)
        j = bisect.bisect_left(ends, q_end)
        sentence_end = min(seg_end, ends[j] if j < len(ends) else len(text))
        if not _reads_as_speech(masked[sentence_start:q_start]):
            continue
        scope_start = seg_start if multi_shot else sentence_start
        speaker: LibraryElement | None = None
        for mention in speakers:
            if mention.start >= q_start:
                break
            if mention.start >= scope_start:
                speaker = _speaker(mention, lib) or speaker
        if speaker is None:
            for mention in speakers:
                if q_end <= mention.start < sentence_end:
                    speaker = _speaker(mention, lib)
                    if speaker is not None:
                        break
        lines.append(
            DialogueLine(
                shot_index=index,
                text=inner,
                speaker_element_id=speaker.element_id if speaker else None,
                has_voice=bool(speaker and speaker.has_voice),
            )
        )
    return lines


def _speaker(mention: Mention, lib: _Library) -> LibraryElement | None:
    if mention.kind is not MentionKind.ELEMENT or mention.element_id is None:
        return None
    element = lib.by_id[mention.element_id]
    return element if element.type in SPEAKER_TYPES else None


def _reads_as_speech(before: str) -> bool:
    before = before.rstrip()
    if not before or before[-1] in ",:，：—.!?。！？…" or before[-1] in _SPEECH_CHARS:
        return True
    return before.rsplit(None, 1)[-1].casefold() in _SPEECH_WORDS


# --- Checks -----------------------------------------------------------------------------------


def _check_prompt(
    text: str,
    provider_prompt: str,
    model: ModelSpec,
    start_frame: bool,
    multi_shot: bool,
    issues: list[PromptIssue],
) -> None:
    if not text.strip() and not (model.takes_frames and start_frame):
        issues.append(PromptIssue(PromptErrorCode.PROMPT_EMPTY, "Write a prompt."))
    # What the provider receives counts too: `<<<element_1>>>` is longer than `[@A]`. A
    # multi-shot prompt is sent shot by shot, each checked on its own.
    sent = len(text) if multi_shot else max(len(text), len(provider_prompt))
    if sent > PROMPT_MAX_CHARS:
        issues.append(
            PromptIssue(
                PromptErrorCode.PROMPT_TOO_LONG,
                f"Prompts are at most {PROMPT_MAX_CHARS:,} characters; this one is {sent:,}.",
            )
        )


def _check_shots(
    text: str,
    markers: Sequence[_Marker],
    shots: Sequence[ShotPlan],
    model: ModelSpec,
    issues: list[PromptIssue],
) -> None:
    if not markers:
        return
    if model.is_image:
        issues.append(
            PromptIssue(
                PromptErrorCode.SHOTS_NOT_ALLOWED,
                f"{model.label} makes images: remove the shot markers.",
            )
        )
        return
    if not model.multi_shot:
        issues.append(
            PromptIssue(
                PromptErrorCode.MULTI_SHOT_NOT_SUPPORTED,
                f"{model.label} doesn't take multi-shot prompts: remove the shot markers or "
                "choose Video 3.0 Omni.",
            )
        )
        return
    preamble = text[: markers[0].start].strip(" \t\r\n|-*#>:;,.")
    if preamble:
        issues.append(
            PromptIssue(
                PromptErrorCode.TEXT_OUTSIDE_SHOTS,
                "Text before the first shot isn't sent with a multi-shot prompt; move it into "
                "a shot.",
            )
        )
    if len(markers) > MAX_SHOTS:
        issues.append(
            PromptIssue(
                PromptErrorCode.TOO_MANY_SHOTS,
                f"At most {MAX_SHOTS} shots; this prompt has {len(markers)}.",
            )
        )
    numbers = [m.number for m in markers]
    if numbers != list(range(1, len(markers) + 1)):
        issues.append(
            PromptIssue(
                PromptErrorCode.SHOT_NUMBER_OUT_OF_ORDER,
                "Number the shots 1, 2, 3… in order; found "
                + ", ".join(str(n) for n in numbers)
                + ".",
            )
        )
    empty = [s.index for s in shots if not s.text.strip()]
    if empty:
        issues.append(
            PromptIssue(PromptErrorCode.SHOT_EMPTY, f"Shot {_list(empty)}: describe what happens.")
        )
    long = [s.index for s in shots if max(len(s.text), len(s.provider_text)) > SHOT_MAX_CHARS]
    if long:
        issues.append(
            PromptIssue(
                PromptErrorCode.SHOT_TOO_LONG,
                f"Each shot is at most {SHOT_MAX_CHARS} characters; shot {_list(long)} "
                f"{'is' if len(long) == 1 else 'are'} longer.",
            )
        )
    short = [s.index for s in shots if s.duration is not None and s.duration < MIN_SHOT_SECONDS]
    if short:
        issues.append(
            PromptIssue(
                PromptErrorCode.SHOT_TOO_SHORT,
                f"Each shot lasts at least {MIN_SHOT_SECONDS} s; shot {_list(short)} "
                f"{'is' if len(short) == 1 else 'are'} shorter.",
            )
        )


def _check_references(
    elements: Sequence[ElementRef],
    images: Sequence[ImageRef],
    model: ModelSpec,
    input_video: bool,
    issues: list[PromptIssue],
) -> None:
    if not model.accepts_reference_images:
        if images:
            issues.append(
                PromptIssue(
                    PromptErrorCode.IMAGES_NOT_SUPPORTED,
                    f"{model.label} takes a start frame (and an end frame), not reference images.",
                    field="attached_images",
                )
            )
        return  # its element limit is the bound-element rule
    limit = model.reference_limit(input_video=input_video)
    count = len(elements) + len(images)
    if count > limit:
        with_video = " with an input video" if input_video and model.accepts_input_video else ""
        issues.append(
            PromptIssue(
                PromptErrorCode.TOO_MANY_REFERENCES,
                f"{model.label} takes at most {limit} images and elements in all{with_video}; "
                f"this uses {count} ({len(images)} image{'s' if len(images) != 1 else ''}, "
                f"{len(elements)} element{'s' if len(elements) != 1 else ''}).",
            )
        )


def _check_model(
    model: ModelSpec,
    elements: Sequence[ElementRef],
    input_video: bool,
    start_frame: bool,
    end_frame: bool,
    multi_shot: bool,
    issues: list[PromptIssue],
) -> None:
    if input_video and not model.accepts_input_video:
        issues.append(
            PromptIssue(
                PromptErrorCode.INPUT_VIDEO_NOT_SUPPORTED,
                f"{model.label} doesn't take an input video.",
                field="input_video",
            )
        )
    for ref in elements:
        if ref.element.source != "video":
            continue
        where = "prompt" if ref.mentioned else BOUND_ELEMENTS_FIELD
        if not model.video_character_elements:
            issues.append(
                PromptIssue(
                    PromptErrorCode.VIDEO_ELEMENT_NOT_SUPPORTED,
                    f'"{ref.name}" is a video character element, which {model.label} '
                    "doesn't take.",
                    field=where,
                )
            )
        elif input_video and model.accepts_input_video:
            issues.append(
                PromptIssue(
                    PromptErrorCode.VIDEO_ELEMENT_WITH_INPUT_VIDEO,
                    f'"{ref.name}" is a video character element, which can\'t be used with '
                    "an input video.",
                    field=where,
                )
            )
    if not model.takes_frames:
        if start_frame or end_frame:
            issues.append(
                PromptIssue(
                    PromptErrorCode.FRAMES_NOT_SUPPORTED,
                    f"{model.label} doesn't take start or end frames.",
                    field="start_frame" if start_frame else "end_frame",
                )
            )
        return
    if end_frame and not start_frame:
        issues.append(
            PromptIssue(
                PromptErrorCode.END_FRAME_WITHOUT_START_FRAME,
                "An end frame needs a start frame.",
                field="end_frame",
            )
        )
    if multi_shot and (start_frame or end_frame):
        # kling-api.md §5/§7: no start/end frames with a multi-shot prompt.
        issues.append(
            PromptIssue(
                PromptErrorCode.FRAMES_WITH_MULTI_SHOT,
                "A multi-shot prompt can't start from frames: remove the frames or the shot "
                "markers.",
                field="start_frame" if start_frame else "end_frame",
            )
        )
    if elements and not start_frame:
        issues.append(
            PromptIssue(
                PromptErrorCode.ELEMENTS_NEED_START_FRAME,
                f"{model.label} binds elements to a start frame: add one, or remove the elements.",
                field="start_frame",
            )
        )
    limit = model.max_bound_elements_with_frames
    if limit is not None and len(elements) > limit:
        issues.append(
            PromptIssue(
                PromptErrorCode.TOO_MANY_BOUND_ELEMENTS,
                f"{model.label} binds at most {limit} elements to its frames; this uses "
                f"{len(elements)}.",
            )
        )


def _check_duration(
    model: ModelSpec,
    duration: int | None,
    total: int | None,
    markers: Sequence[_Marker],
    multi_shot: bool,
    issues: list[PromptIssue],
) -> None:
    if model.is_image:
        if duration is not None:
            issues.append(
                PromptIssue(
                    PromptErrorCode.DURATION_NOT_ALLOWED,
                    f"{model.label} makes images, which have no duration.",
                    field="duration",
                )
            )
        return
    mismatch = duration is not None and total is not None and total != duration
    if multi_shot and model.multi_shot and mismatch:
        issues.append(
            PromptIssue(
                PromptErrorCode.SHOT_DURATIONS_MISMATCH,
                f"The shots add up to {total} s but the video is {duration} s long.",
            )
        )
        return
    seconds = duration if duration is not None else total
    if seconds is not None and not model.offers_duration(seconds):
        low, high = model.durations[0], model.durations[-1]
        what = "The video is" if duration is not None else "The shots add up to"
        issues.append(
            PromptIssue(
                PromptErrorCode.DURATION_NOT_OFFERED,
                f"{what} {seconds} s; {model.label} makes {low}–{high} s videos.",
                field="duration" if duration is not None else "prompt",
            )
        )
