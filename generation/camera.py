"""The camera vocabulary: the one list of camera moves, and the words that ask for each.

The prompt compiler (`generation.prompts`) reads a shot's words with `find_move`, the preview
shows the move it chose, the local renderer (`generation.providers.local_render`) draws every
member of `CameraMove`, and the Kling request builder words a move the compiler chose for the
user with `MOVES[move].phrase`. A move stored with a job is read back with `CameraMove.read`,
which never fails: a value from an older vocabulary, or none we know, is a static camera.
(Before this table the compiler emitted `pan`, `orbit` and `tilt`, which the renderer did not
know: every such job failed in the worker.)

Pure: no Django, no database.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, replace
from enum import StrEnum


class CameraMove(StrEnum):
    STATIC = "static"
    PUSH_IN = "push_in"  # zoom in: everything grows alike
    PULL_BACK = "pull_back"  # zoom out, reveal
    DOLLY_IN = "dolly_in"  # the camera travels closer: the subject grows faster than the scene
    DOLLY_OUT = "dolly_out"
    PAN_LEFT = "pan_left"
    PAN_RIGHT = "pan_right"
    TILT_UP = "tilt_up"
    TILT_DOWN = "tilt_down"
    ORBIT = "orbit"  # a turn around the subject
    CRANE_UP = "crane_up"
    CRANE_DOWN = "crane_down"
    FOLLOW = "follow"  # tracking alongside the subject
    HANDHELD = "handheld"  # a small shake

    @classmethod
    def read(cls, value: object) -> CameraMove | None:
        """A stored move: None stays None (nothing was said); a value of the older
        vocabulary (`pan`, `tilt`) is its default direction; anything else unknown is
        static, never an error."""
        if value is None or value == "":
            return None
        text = str(value)
        if text in cls._value2member_map_:
            return cls(text)
        return LEGACY_MOVES.get(text, cls.STATIC)


@dataclass(frozen=True)
class MoveSpec:
    label: str  # for people: the preview's notes, the admin
    phrase: str  # an English sentence that asks a video model for the move


MOVES: dict[CameraMove, MoveSpec] = {
    CameraMove.STATIC: MoveSpec("static camera", "The camera holds still."),
    CameraMove.PUSH_IN: MoveSpec("push in", "The camera pushes in."),
    CameraMove.PULL_BACK: MoveSpec("pull back", "The camera pulls back."),
    CameraMove.DOLLY_IN: MoveSpec("dolly in", "The camera dollies in."),
    CameraMove.DOLLY_OUT: MoveSpec("dolly out", "The camera dollies out."),
    CameraMove.PAN_LEFT: MoveSpec("pan left", "The camera pans left."),
    CameraMove.PAN_RIGHT: MoveSpec("pan right", "The camera pans right."),
    CameraMove.TILT_UP: MoveSpec("tilt up", "The camera tilts up."),
    CameraMove.TILT_DOWN: MoveSpec("tilt down", "The camera tilts down."),
    CameraMove.ORBIT: MoveSpec("orbit", "The camera orbits around the subject."),
    CameraMove.CRANE_UP: MoveSpec("crane up", "The camera cranes up."),
    CameraMove.CRANE_DOWN: MoveSpec("crane down", "The camera cranes down."),
    CameraMove.FOLLOW: MoveSpec("follow", "The camera follows the subject."),
    CameraMove.HANDHELD: MoveSpec("handheld", "Handheld camera, a slight shake."),
}

# Values a job of an older vocabulary may hold.
LEGACY_MOVES: dict[str, CameraMove] = {
    "pan": CameraMove.PAN_RIGHT,
    "tilt": CameraMove.TILT_UP,
    "crane": CameraMove.CRANE_UP,
    "zoom": CameraMove.PUSH_IN,
}

# --- Reading words ----------------------------------------------------------------------------
#
# Patterns run on lower-cased text. Latin words start at a word boundary; Chinese ones can't
# (no spaces between words). At one position the first alternative wins, so the longer and
# more specific phrasings come first ("track in" is a dolly, "tracking" a follow). Pans and
# tilts are found as a verb and then given their direction by the words after them (`_AFTER`).

_V = r"(?:s|es|ed|d|ing)?"  # a verb's endings, loosely
_LATIN: tuple[tuple[str, str], ...] = (
    ("dolly_in", rf"\bdoll(?:y|ies|ied|ying)\s+(?:in|forward|closer|towards?)\b"
     rf"|\btrack{_V}\s+in(?:wards?)?\b|\btruck{_V}\s+in\b"),
    ("dolly_out", rf"\bdoll(?:y|ies|ied|ying)\s+(?:out|back|backwards?|away)\b"
     rf"|\btrack{_V}\s+(?:out|back)\b|\btruck{_V}\s+out\b"),
    ("push_in", rf"\bpush{_V}\s+(?:in|into|forward|closer)\b|\bzoom{_V}\s+in(?:to)?\b"
     r"|\b(?:moves?|moving|gets?|getting|comes?|coming|creeps?|creeping)\s+closer\b"),
    ("pull_back", rf"\bpull{_V}\s+(?:back|out|away)\b|\bzoom{_V}\s+out\b"
     rf"|\bwidens?\s+out\b|\bback{_V}\s+away\b"),
    ("crane_up", rf"\b(?:crane|boom|jib|pedestal){_V}\s+up(?:wards?)?\b"
     r"|\bcamera\s+(?:slowly\s+|gently\s+|then\s+)?(?:rises|ascends|lifts|climbs)\b"),
    ("crane_down", rf"\b(?:crane|boom|jib|pedestal){_V}\s+down(?:wards?)?\b"
     r"|\bcamera\s+(?:slowly\s+|gently\s+|then\s+)?(?:descends|lowers|sinks|drops)\b"),
    ("crane_up", r"\bcrane\s+shot\b|\bcranes?\b|\bcraning\b"),
    ("orbit", rf"\borbit{_V}\b|(?<!dark )\bcircl(?:es|ed|ing)\b|\barc{_V}\s+(?:a)?round\b"
     r"|\brevolv(?:e|es|ed|ing)\s+(?:a)?round\b|\b360(?:°|\s*degrees?)?\s+(?:turn|spin|shot|move)\b"),
    ("follow", rf"\bfollow{_V}\b|\btracking\b|\btracks\b|\btrack{_V}\s+(?:with|alongside|along)\b"
     rf"|\btruck{_V}\s+(?:left|right|along|alongside)\b"),
    ("handheld", r"\bhand[\s-]?held\b|\bshaky\b|\bshaking\s+camera\b|\bcamera\s+shakes?\b"
     r"|\bcamera\s+shaking\b"),
    ("static", r"\bstatic\b|\blocked[\s-]off\b|\block(?:ed)?[\s-]down\b"
     r"|\b(?:still|fixed|stationary|locked)\s+camera\b"
     r"|\bcamera\s+(?:stays|remains|holds|is\s+held)\s+(?:still|static|steady|fixed)\b"),
    ("pan", rf"(?<!frying )\bpan(?:s|ned|ning)?\b(?!\s+of\b)|\bwhip[\s-]?pan{_V}\b"
     rf"|\bswish[\s-]?pan{_V}\b"),
    # "She tilts her head" is no camera move: a tilt is the camera's, or up or down.
    ("tilt", rf"\bcamera\s+(?:\w+ly\s+)?tilt{_V}\b|\btilt{_V}\s+(?=up|down)|\btilt\s+shot\b"),
    # Weak words: "reveal" alone, "zooms" or "pushes" with no direction. Any other move in
    # the same shot wins over them (they are named in `_WEAK`).
    ("push_in", rf"\bpush{_V}\b|\bzoom{_V}\b"),
    ("pull_back", r"\breveal(?:s|ed|ing)?\b"),
)  # fmt: skip
_WEAK = 2  # the last entries of _LATIN
_CHINESE: tuple[tuple[str, str], ...] = (
    ("dolly_in", r"前移|推轨"),
    ("dolly_out", r"后移|后退|拉轨"),
    ("tilt_up", r"上摇|向上摇|仰摇|镜头上抬|镜头向上"),
    ("tilt_down", r"下摇|向下摇|俯摇|镜头下压|镜头向下"),
    ("pan_left", r"左摇|向左摇|从右向左摇|镜头左移|镜头向左"),
    ("pan_right", r"右摇|向右摇|从左向右摇|镜头右移|镜头向右"),
    ("push_in", r"推进|推近|推镜头|镜头推|拉近|变焦推|放大"),
    ("pull_back", r"拉远|拉开|拉镜头|镜头拉|拉出|缩小|揭示"),
    ("crane_up", r"升镜头|镜头上升|镜头升|升起|摇臂上升|上升镜头"),
    ("crane_down", r"降镜头|镜头下降|镜头降|摇臂下降|下降镜头"),
    ("orbit", r"环绕|环拍|绕拍|围绕|绕着|旋转镜头|360度"),
    ("follow", r"跟随|跟拍|跟镜头|跟着|追随"),
    ("handheld", r"手持|晃动|摇晃镜头"),
    ("static", r"固定镜头|静止镜头|镜头不动|固定机位|定镜"),
    ("pan", r"摇镜头|横摇|摇摄|摇移|镜头摇|平移"),
)


def _alternation(table: tuple[tuple[str, str], ...], prefix: str) -> str:
    # Named groups must be unique: number repeated names.
    return "|".join(f"(?P<{prefix}{n}_{name}>{pattern})" for n, (name, pattern) in enumerate(table))


MOVE_PATTERN = _alternation(_LATIN, "l") + "|" + _alternation(_CHINESE, "c")
_MOVE_RE = re.compile(MOVE_PATTERN)
_WEAK_GROUPS = frozenset(
    f"l{n}_{name}" for n, (name, _) in enumerate(_LATIN) if n >= len(_LATIN) - _WEAK
)

# What follows a pan or a tilt, up to the end of its clause: its direction.
_AFTER = re.compile(
    r"[^,;:.!?，；：。！？\n]{0,60}?(?:"
    r"(?P<from_left>from\s+(?:the\s+)?left|从左)"
    r"|(?P<from_right>from\s+(?:the\s+)?right|从右)"
    r"|(?P<left>\bleft(?:wards?)?\b|向左|往左|左边|左侧)"
    r"|(?P<right>\bright(?:wards?)?\b|向右|往右|右边|右侧)"
    r"|(?P<up>\bup(?:wards?)?\b|\bskywards?\b|向上|往上)"
    r"|(?P<down>\bdown(?:wards?)?\b|向下|往下)"
    r")"
)
_DIRECTED = {
    ("pan", "left"): "pan_left",
    ("pan", "from_right"): "pan_left",
    ("pan", "right"): "pan_right",
    ("pan", "from_left"): "pan_right",
    ("pan", "up"): "tilt_up",  # "pans up" is what many people call a tilt
    ("pan", "down"): "tilt_down",
    ("tilt", "up"): "tilt_up",
    ("tilt", "down"): "tilt_down",
}

# "camera" as the one who acts ("the camera swoops"), not as what is looked at ("smiles at
# the camera"): unknown words about it are a static camera with the wording kept.
_CAMERA_SUBJECT = re.compile(
    r"(?<![a-z])camera(?![a-z])(?!\s*(?:[,.;:!?]|$|\s(?:and|as|while|who)\b))"
    r"|镜头(?!前)"
)
_CAMERA_OBJECT_BEFORE = re.compile(
    r"(?:\b(?:at|to|into|toward|towards|face|faces|facing|past|from|for|behind|before|"
    r"with|of|off|on)\s+(?:the\s+|a\s+|his\s+|her\s+|their\s+)?|看|看向|望向|对着|面向|朝)$"
)


@dataclass(frozen=True)
class MoveMatch:
    move: CameraMove | None  # None: a pan with no direction, which the caller chooses
    start: int
    end: int  # the words that asked for it: text[start:end]
    wording: str


def find_move(text: str, start: int = 0, end: int | None = None) -> MoveMatch | None:
    """The camera move the words in `text[start:end]` ask for (`text` lower-cased): the
    earliest one, a weak word ("reveal", "zooms") only when there is no other. A pan with no
    direction comes back with `move` None."""
    end = len(text) if end is None else end
    weak: MoveMatch | None = None
    for match in _MOVE_RE.finditer(text, start, end):
        group = match.lastgroup
        assert group is not None
        name = group.split("_", 1)[1]
        found = _resolve(text, name, match.end(), end, match.start())
        if group in _WEAK_GROUPS:
            weak = weak or found
            continue
        return found
    return weak


def _resolve(text: str, name: str, after: int, end: int, start: int) -> MoveMatch:
    move: CameraMove | None
    stop = after
    if name in ("pan", "tilt"):
        direction = _AFTER.match(text, after, end)
        side = direction.lastgroup if direction is not None else None
        directed = _DIRECTED.get((name, side)) if side is not None else None
        if direction is not None and directed is not None:
            stop = direction.end()
            move = CameraMove(directed)
        else:
            move = CameraMove.TILT_UP if name == "tilt" else None
    else:
        move = CameraMove(name)
    return MoveMatch(move, start, stop, text[start:stop])


# Verb forms a misspelling is measured against ("pann", "tillts", "orbitting", "zoooms").
_MOVE_WORDS = [
    "pan",
    "pans",
    "panning",
    "panned",
    "tilt",
    "tilts",
    "tilting",
    "tilted",
    "orbit",
    "orbits",
    "orbiting",
    "orbited",
    "circles",
    "circling",
    "zoom",
    "zooms",
    "zooming",
    "dolly",
    "dollies",
    "dollying",
    "crane",
    "cranes",
    "craning",
    "push",
    "pushes",
    "pushing",
    "pull",
    "pulls",
    "pulling",
    "follow",
    "follows",
    "following",
    "tracking",
    "handheld",
    "static",
    "reveal",
    "reveals",
    "revealing",
]
_KNOWN_WORDS = frozenset(_MOVE_WORDS)
_LATIN_WORD = re.compile(r"[a-z]{4,}")


def find_misspelled_move(
    text: str, start: int = 0, end: int | None = None
) -> tuple[MoveMatch, str, str] | None:
    """For words in which the camera acts but no move is found: the first word of four
    letters or more that is one slip away from a move's word (difflib ratio ≥ 0.8: "pann",
    "tillts"), read as that word. Returns the move read (positions in `text`), the word as
    written and the word it was read as; None when no word is that close."""
    end = len(text) if end is None else end
    for word in _LATIN_WORD.finditer(text, start, end):
        written = word.group()
        if written in _KNOWN_WORDS:
            continue
        close = difflib.get_close_matches(written, _MOVE_WORDS, n=1, cutoff=0.8)
        if not close:
            continue
        delta = len(close[0]) - len(written)
        fixed = text[: word.start()] + close[0] + text[word.end() :]
        found = find_move(fixed, start, end + delta)
        if found is None:
            continue

        def back(pos: int, at: int = word.start(), delta: int = delta) -> int:
            return pos - delta if pos > at else pos

        return (
            replace(found, start=back(found.start), end=back(found.end)),
            written,
            close[0],
        )
    return None


def camera_acts(text: str, start: int = 0, end: int | None = None) -> bool:
    """Whether `text[start:end]` (lower-cased) has the camera doing something, whatever
    the verb: "the camera swoops", "镜头慢慢…", not "smiles at the camera"."""
    end = len(text) if end is None else end
    for match in _CAMERA_SUBJECT.finditer(text, start, end):
        before = text[max(start, match.start() - 16) : match.start()]
        if not _CAMERA_OBJECT_BEFORE.search(before):
            return True
    return False


def pan_direction(target: int | None, count: int) -> CameraMove:
    """A pan the words give no direction: toward the subject it names (`target`, its place
    among `count` subjects laid out left to right in mention order), else rightward, the
    way the layout reads (first-mentioned on the left)."""
    if target is not None and count > 1 and target < (count - 1) / 2:
        return CameraMove.PAN_LEFT
    return CameraMove.PAN_RIGHT
