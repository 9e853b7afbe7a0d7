"""Create the demo data of a local run: the demo and staff accounts, a few Voice Library
presets, and the demo user's elements. The accounts' passwords are published in README and in
`manage.py serve`'s banner, so the command does nothing unless DEBUG is on.

The presets' audio and the elements' images are drawn here, at set-up (chirps written with
the stdlib `wave` module, pictures drawn with Pillow), and go through the same services and
media validation as anything a user uploads.
"""

from __future__ import annotations

import array
import datetime
import io
import math
import os
import subprocess
import sys
import tempfile
import wave
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import imageio_ffmpeg
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageDraw

from accounts import services
from accounts.models import MembershipTier, User
from elements import services as element_services
from elements.models import Voice, VoiceSource

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 - a published demo credential
STAFF_USERNAME = "staff"
STAFF_PASSWORD = "staff-password-2026"  # noqa: S105 - a published demo credential
DEMO_TIER_CODE = "standard"
DEMO_MEMBERSHIP_DAYS = 30
DEMO_CREDITS = 500
DEMO_CREDITS_KEY = "seed-demo:credits"


@dataclass(frozen=True)
class Seeded:
    accounts: list[str]
    presets: list[str]
    elements: list[str]


def seed_demo() -> list[str]:
    """Create whichever demo account is missing; returns the usernames created. See
    `seed_demo_data` for the presets and elements that come with them."""
    return seed_demo_data().accounts


def seed_demo_data() -> Seeded:
    """Create whichever demo account and preset voice is missing, and the demo user's
    elements when the demo user is created now.

    An existing account is left as it is: its password, membership, credits and library may
    have been changed on purpose since.
    """
    created: list[str] = []
    with transaction.atomic():
        demo = User.objects.filter(username__iexact=DEMO_USERNAME).first()
        new_demo = demo is None
        if demo is None:
            # The demo's credits are DEMO_CREDITS, not a newcomer's welcome grant.
            demo = services.user_register(
                username=DEMO_USERNAME,
                password=DEMO_PASSWORD,
                email="demo@example.com",
                signup_grant=False,
            )
            services.membership_set(
                user=demo,
                tier=MembershipTier.objects.get(code=DEMO_TIER_CODE),
                expires_at=timezone.now() + datetime.timedelta(days=DEMO_MEMBERSHIP_DAYS),
            )
            services.credits_grant(
                user=demo,
                amount=DEMO_CREDITS,
                reason="Demo account starting credits",
                reference="seed_demo",
                idempotency_key=DEMO_CREDITS_KEY,
            )
            created.append(demo.username)

        if not User.objects.filter(username__iexact=STAFF_USERNAME).exists():
            staff = services.user_register(
                username=STAFF_USERNAME,
                password=STAFF_PASSWORD,
                email="staff@example.com",
                signup_grant=False,
            )
            staff.is_staff = True
            staff.is_superuser = True
            staff.save(update_fields=["is_staff", "is_superuser"])
            created.append(staff.username)

        presets = _seed_presets()
        elements = _seed_elements(demo) if new_demo else []
    return Seeded(accounts=created, presets=presets, elements=elements)


# --- Preset voices ------------------------------------------------------------------------

AUDIO_RATE = 16_000


@dataclass(frozen=True)
class PresetSpec:
    name: str
    language: str
    style_tags: tuple[str, ...]
    pitch_hz: float  # the voice's base pitch; syllables glide around it
    syllable_ms: int
    seconds: float


DEMO_PRESETS = (
    PresetSpec("Warm Narrator", "en", ("calm", "warm", "narration"), 140.0, 260, 8.0),
    PresetSpec("Bright Child", "en", ("playful", "bright", "young"), 330.0, 180, 7.0),
    PresetSpec("Deep Elder", "zh", ("deep", "slow", "wise"), 95.0, 340, 9.0),
)


def chirp_wav(spec: PresetSpec) -> bytes:
    """A speech-like WAV: syllables of gliding pitch with two overtones, separated by short
    pauses (a clean floor, far from mostly silent) and well below full scale, so the quality
    report has nothing to warn about."""
    samples = array.array("h")
    syllable = spec.syllable_ms * AUDIO_RATE // 1000
    pause = max(syllable // 3, AUDIO_RATE * 120 // 1000)
    total = int(spec.seconds * AUDIO_RATE)
    index = 0
    while len(samples) < total:
        # Each syllable rises or falls by its own step, like the intonation of a sentence.
        start = spec.pitch_hz * (0.85 + 0.1 * (index % 4))
        end = spec.pitch_hz * (1.2 - 0.12 * (index % 3))
        phase = 0.0
        for n in range(syllable):
            t = n / syllable
            phase += 2 * math.pi * (start + (end - start) * t) / AUDIO_RATE
            envelope = math.sin(math.pi * t) ** 0.5
            value = math.sin(phase) + 0.45 * math.sin(2 * phase) + 0.2 * math.sin(3 * phase)
            samples.append(int(0.3 * 32767 * envelope * value / 1.65))
        samples.extend([0] * pause)
        index += 1
    del samples[total:]
    if sys.byteorder == "big":  # WAV data is little-endian
        samples.byteswap()
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(AUDIO_RATE)
        out.writeframes(samples.tobytes())
    return buffer.getvalue()


def _seed_staff() -> User | None:
    staff = User.objects.filter(username__iexact=STAFF_USERNAME, is_staff=True).first()
    return staff or User.objects.filter(is_staff=True, is_active=True).order_by("pk").first()


def _seed_presets() -> list[str]:
    """The demo presets not in the Voice Library yet (by name), added by the staff account."""
    existing = set(
        Voice.objects.filter(owner__isnull=True, source=VoiceSource.PRESET).values_list(
            "name", flat=True
        )
    )
    missing = [spec for spec in DEMO_PRESETS if spec.name not in existing]
    staff = _seed_staff()
    if not missing or staff is None:
        return []
    for spec in missing:
        element_services.voice_preset_create(
            staff=staff,
            file=SimpleUploadedFile(f"{spec.name}.wav", chirp_wav(spec), "audio/wav"),
            name=spec.name,
            language=spec.language,
            style_tags=spec.style_tags,
        )
    return [spec.name for spec in missing]


# --- The demo user's elements -------------------------------------------------------------

Color = tuple[int, int, int]


def _canvas(size: tuple[int, int], top: Color, bottom: Color) -> Image.Image:
    """A vertical gradient, so no two drawings share a flat background."""
    height = size[1]
    strip = Image.new("RGB", (1, height))
    for y in range(height):
        t = y / max(1, height - 1)
        strip.putpixel(
            (0, y), tuple(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True))
        )
    return strip.resize(size)


def draw_scholar(view: str, robe: Color = (44, 82, 160)) -> Image.Image:
    """A young scholar in a robe (blue unless told) and a black mortarboard, holding a red
    book: `front`, `side` (turned to the right) or `back`."""
    backgrounds = {
        "front": ((250, 244, 228), (226, 214, 190)),
        "side": ((226, 238, 250), (190, 208, 232)),
        "back": ((236, 246, 232), (200, 222, 196)),
    }
    image = _canvas((768, 1024), *backgrounds[view])
    draw = ImageDraw.Draw(image)
    cx = 384 if view != "side" else 400
    skin, trim = (242, 205, 170), (236, 196, 64)
    # Robe, sash and feet.
    draw.polygon([(cx - 110, 470), (cx + 110, 470), (cx + 190, 930), (cx - 190, 930)], fill=robe)
    draw.rectangle([cx - 180, 600, cx + 180, 630], fill=trim)
    draw.ellipse([cx - 120, 910, cx - 30, 960], fill=(40, 30, 30))
    draw.ellipse([cx + 30, 910, cx + 120, 960], fill=(40, 30, 30))
    # Head, hair, cap.
    head = [cx - 120, 190, cx + 120, 450]
    draw.ellipse(head, fill=skin if view != "back" else (60, 40, 30))
    draw.chord([cx - 125, 180, cx + 125, 380], 180, 360, fill=(60, 40, 30))
    draw.rectangle([cx - 95, 150, cx + 95, 200], fill=(20, 20, 24))
    draw.polygon([(cx - 190, 150), (cx, 95), (cx + 190, 150), (cx, 205)], fill=(28, 28, 32))
    draw.line([(cx + 150, 150), (cx + 175, 260)], fill=trim, width=6)
    draw.ellipse([cx + 162, 250, cx + 188, 290], fill=trim)
    if view == "front":
        for ex in (cx - 50, cx + 50):
            draw.ellipse([ex - 16, 300, ex + 16, 336], fill=(30, 30, 40))
            draw.ellipse([ex - 6, 306, ex + 4, 318], fill=(255, 255, 255))
        draw.arc([cx - 45, 340, cx + 45, 400], 20, 160, fill=(150, 60, 60), width=6)
        draw.ellipse([cx - 95, 350, cx - 65, 372], fill=(240, 160, 150))
        draw.ellipse([cx + 65, 350, cx + 95, 372], fill=(240, 160, 150))
        draw.rectangle([cx - 70, 640, cx + 70, 740], fill=(180, 40, 40))  # the book
        draw.rectangle([cx - 4, 640, cx + 4, 740], fill=(120, 20, 20))
    elif view == "side":
        draw.ellipse([cx + 50, 300, cx + 80, 336], fill=(30, 30, 40))
        draw.arc([cx + 30, 350, cx + 110, 400], 20, 120, fill=(150, 60, 60), width=6)
        draw.polygon(
            [(cx + 100, 560), (cx + 250, 520), (cx + 270, 640), (cx + 120, 680)], fill=(180, 40, 40)
        )
    else:
        draw.rectangle([cx - 60, 470, cx + 60, 520], fill=trim)  # the collar seen from behind
    return image


def draw_perfume(view: str) -> Image.Image:
    """A faceted pink bottle with a golden cap and a butterfly on its front: `front` or
    `angled`."""
    angled = view == "angled"
    top, bottom = (
        ((248, 236, 246), (222, 200, 226)) if not angled else ((236, 232, 250), (196, 188, 236))
    )
    image = _canvas((800, 800), top, bottom)
    draw = ImageDraw.Draw(image)
    half = 150 if not angled else 110
    cx = 400 if not angled else 420
    # Shadow, glass, liquid, neck and cap.
    draw.ellipse([cx - half - 40, 660, cx + half + 60, 720], fill=(170, 150, 180))
    draw.rounded_rectangle([cx - half, 300, cx + half, 690], radius=40, fill=(236, 150, 190))
    draw.rounded_rectangle(
        [cx - half + 18, 400, cx + half - 18, 672], radius=30, fill=(214, 96, 150)
    )
    draw.line([(cx - half + 30, 320), (cx - half + 30, 660)], fill=(255, 230, 240), width=10)
    draw.rectangle([cx - 40, 240, cx + 40, 300], fill=(250, 210, 230))
    draw.rounded_rectangle([cx - 70, 140, cx + 70, 245], radius=18, fill=(212, 170, 60))
    draw.rectangle([cx - 70, 190, cx + 70, 200], fill=(180, 140, 40))
    if angled:
        # The side facet, darker.
        draw.polygon(
            [(cx + half, 320), (cx + half + 50, 350), (cx + half + 50, 670), (cx + half, 690)],
            fill=(190, 110, 160),
        )
    # The butterfly.
    by, span = 500, 80 if not angled else 60
    wing, inner = (70, 50, 160), (120, 200, 240)
    for side in (-1, 1):
        draw.ellipse(sorted_box(cx, by - 70, cx + side * span, by + 5), fill=wing)
        draw.ellipse(sorted_box(cx, by - 5, cx + side * span * 0.75, by + 60), fill=wing)
        draw.ellipse(
            sorted_box(cx + side * 15, by - 50, cx + side * span * 0.7, by - 10), fill=inner
        )
    draw.rounded_rectangle([cx - 7, by - 65, cx + 7, by + 60], radius=7, fill=(30, 20, 40))
    return image


def sorted_box(x0: float, y0: float, x1: float, y1: float) -> list[float]:
    return [min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)]


def draw_street(time_of_day: str) -> Image.Image:
    """A narrow Tokyo street of shops and neon signs: `dusk`, `night` or `day`."""
    skies = {
        "dusk": ((250, 150, 110), (90, 60, 120)),
        "night": ((14, 16, 40), (40, 30, 70)),
        "day": ((130, 190, 240), (210, 230, 250)),
    }
    lit = time_of_day != "day"
    image = _canvas((1280, 720), *skies[time_of_day])
    draw = ImageDraw.Draw(image)
    neon = [(255, 60, 120), (60, 220, 255), (255, 200, 40), (140, 255, 120), (200, 90, 255)]
    x = 0
    for i, width in enumerate((150, 210, 130, 190, 170, 230, 160, 200)):
        height = 260 + (i * 97) % 260
        wall = (
            (70 + i * 9, 60 + i * 7, 80 + i * 5) if lit else (170 + i * 6, 160 + i * 5, 150 + i * 4)
        )
        draw.rectangle([x, 560 - height, x + width - 8, 560], fill=wall)
        for wy in range(560 - height + 20, 540, 44):
            for wx in range(x + 14, x + width - 30, 36):
                on = lit and (wx + wy + i) % 3 != 0
                draw.rectangle(
                    [wx, wy, wx + 20, wy + 26], fill=(255, 226, 150) if on else (90, 110, 140)
                )
        sign = neon[i % len(neon)]
        draw.rectangle(
            [x + width // 2 - 16, 560 - height + 40, x + width // 2 + 16, 520],
            outline=sign,
            width=5,
        )
        x += width
    # The street: asphalt, a kerb, lane marks and the lights' reflections.
    draw.rectangle([0, 560, 1280, 720], fill=(50, 50, 58) if lit else (110, 110, 116))
    draw.rectangle([0, 556, 1280, 566], fill=(150, 150, 150))
    for mx in range(40, 1280, 160):
        draw.rectangle([mx, 640, mx + 80, 650], fill=(230, 230, 230))
    if lit:
        for i, mx in enumerate(range(60, 1280, 150)):
            draw.ellipse([mx, 590, mx + 60, 700], fill=tuple(c // 3 for c in neon[i % len(neon)]))
    return image


def jpeg_upload(image: Image.Image, name: str) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return SimpleUploadedFile(name, buffer.getvalue(), "image/jpeg")


@dataclass(frozen=True)
class ElementSpec:
    name: str
    element_type: str
    description: str
    draw: Callable[[str], Image.Image]
    views: tuple[str, ...]  # the first is the main image
    voice: str | None = None  # a demo preset's name


DEMO_ELEMENTS = (
    ElementSpec(
        "Little Scholar",
        "character",
        "A cheerful young scholar in a blue robe with a golden sash and a black mortarboard, "
        "carrying a red book.",
        draw_scholar,
        ("front", "side", "back"),
        voice="Bright Child",
    ),
    ElementSpec(
        "Butterfly Perfume",
        "prop",
        "A pink glass perfume bottle with a golden cap and a blue butterfly on its front.",
        draw_perfume,
        ("front", "angled"),
    ),
    ElementSpec(
        "Tokyo Street",
        "scene",
        "A narrow Tokyo shopping street lined with shops and neon signs.",
        draw_street,
        ("dusk", "night", "day"),
    ),
)


def _seed_elements(demo: User) -> list[str]:
    presets = {
        voice.name: voice
        for voice in Voice.objects.filter(owner__isnull=True, source=VoiceSource.PRESET)
    }
    created = []
    for spec in DEMO_ELEMENTS:
        main, *extras = (jpeg_upload(spec.draw(view), f"{view}.jpg") for view in spec.views)
        voice = presets.get(spec.voice) if spec.voice else None
        element_services.element_create(
            owner=demo,
            name=spec.name,
            element_type=spec.element_type,
            description=spec.description,
            main_image=main,
            extra_images=extras,
            voice_id=voice.pk if voice is not None else None,
        )
        created.append(spec.name)
    return created


# --- Example files for README's commands -----------------------------------------------------
#
# README's curl examples upload files; a new clone has none, so these are drawn and synthesized
# here (Pillow, the chirp above, ffmpeg from imageio-ffmpeg), never downloaded. The character
# is a new one: its name, EXAMPLE_CHARACTER, is not among DEMO_ELEMENTS, so README's create
# example succeeds on a freshly seeded database.

EXAMPLES_DIRNAME = "examples"
EXAMPLE_CHARACTER = "Green Apprentice"
EXAMPLE_ROBE: Color = (46, 139, 87)
EXAMPLE_VOICE = PresetSpec("Example voice", "en", (), 180.0, 220, 8.0)
EXAMPLE_VIDEO_SIZE = (1280, 720)
EXAMPLE_VIDEO_FPS = 24
EXAMPLE_VIDEO_SECONDS = 4


def draw_sofa() -> Image.Image:
    """A red three-seat sofa with cushions and wooden legs in a pale room."""
    image = _canvas((1024, 768), (244, 238, 226), (214, 204, 186))
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, 560, 1024, 768], fill=(170, 130, 90))  # the floor
    red, dark = (178, 40, 46), (128, 24, 30)
    draw.rounded_rectangle([150, 250, 874, 470], radius=40, fill=dark)  # the back
    for x in (150, 390, 630):  # three seat cushions
        draw.rounded_rectangle([x + 10, 430, x + 234, 540], radius=24, fill=red)
    draw.rounded_rectangle([110, 330, 210, 560], radius=30, fill=dark)  # the arms
    draw.rounded_rectangle([814, 330, 914, 560], radius=30, fill=dark)
    for x in (250, 470, 690):  # back cushions
        draw.rounded_rectangle([x - 70, 280, x + 70, 420], radius=30, fill=(196, 60, 64))
    for x in (150, 860):
        draw.rectangle([x, 560, x + 18, 620], fill=(90, 60, 30))
    return image


def example_video(path: Path) -> None:
    """A 4 s 1280×720, 24 fps H.264/AAC MP4: the demo street at dusk under a slow pan, with a
    voice-like chirp on its sound track (a generation job's input video takes 3–10 s)."""
    width, height = EXAMPLE_VIDEO_SIZE
    street = draw_street("dusk").resize((width * 3 // 2, height * 3 // 2))
    frames = EXAMPLE_VIDEO_FPS * EXAMPLE_VIDEO_SECONDS
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    with tempfile.TemporaryDirectory(prefix="examples-") as workdir:
        sound = Path(workdir) / "sound.wav"
        sound.write_bytes(chirp_wav(EXAMPLE_VOICE))
        command = [
            ffmpeg, "-hide_banner", "-loglevel", "error", "-y",
            "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}",
            "-r", str(EXAMPLE_VIDEO_FPS), "-i", "-",
            "-i", str(sound),
            "-t", str(EXAMPLE_VIDEO_SECONDS),
            "-c:v", "libx264", "-pix_fmt", "yuv420p", "-preset", "veryfast",
            "-c:a", "aac", "-b:a", "96k", "-movflags", "+faststart",
            str(path),
        ]  # fmt: skip
        process = subprocess.Popen(command, stdin=subprocess.PIPE)  # noqa: S603
        assert process.stdin is not None
        for n in range(frames):
            left = round((street.width - width) * n / max(1, frames - 1))
            top = (street.height - height) // 2
            process.stdin.write(street.crop((left, top, left + width, top + height)).tobytes())
        process.stdin.close()
        if process.wait(timeout=120) != 0:
            raise RuntimeError(f"ffmpeg could not write {path}")


def examples_dir() -> Path:
    return Path(settings.DATA_DIR) / EXAMPLES_DIRNAME


def write_examples(directory: Path | None = None) -> list[Path]:
    """Write the example files that are missing (an existing one is kept as it is); returns
    the files written. Each is written under a temporary name first, so an interrupted run
    never leaves a half file that later runs would take as done."""
    directory = directory or examples_dir()
    directory.mkdir(parents=True, exist_ok=True)

    def jpeg(draw: Callable[[], Image.Image]) -> Callable[[Path], None]:
        return lambda path: draw().save(path, "JPEG", quality=90)

    def wav(path: Path) -> None:
        path.write_bytes(chirp_wav(EXAMPLE_VOICE))

    makers: dict[str, Callable[[Path], None]] = {
        "front.jpg": jpeg(lambda: draw_scholar("front", EXAMPLE_ROBE)),
        "side.jpg": jpeg(lambda: draw_scholar("side", EXAMPLE_ROBE)),
        "back.jpg": jpeg(lambda: draw_scholar("back", EXAMPLE_ROBE)),
        "sofa.jpg": jpeg(draw_sofa),
        "voice.wav": wav,
        "street.mp4": example_video,
    }
    written = []
    for name, make in makers.items():
        target = directory / name
        if target.exists():
            continue
        partial = target.with_name(f".{target.stem}.{os.getpid()}.partial{target.suffix}")
        make(partial)
        partial.replace(target)
        written.append(target)
    return written


class Command(BaseCommand):
    help = (
        f"Create the demo user {DEMO_USERNAME!r} (Standard membership, {DEMO_CREDITS} credits, "
        f"a few elements), the staff superuser {STAFF_USERNAME!r} and a few Voice Library "
        "presets. Only with DEBUG on."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--examples-only",
            action="store_true",
            help=f"Only write README's example files under DATA_DIR/{EXAMPLES_DIRNAME}/.",
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing when the database already has any user.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # The example files hold nothing secret: written whatever DEBUG and the database say.
        written = write_examples()
        if written:
            self.stdout.write(
                f"Wrote the example files under {examples_dir()}: "
                f"{', '.join(p.name for p in written)}."
            )
        if options["examples_only"]:
            return
        if not settings.DEBUG:
            # A superuser with a password printed in README must never reach a real server.
            self.stderr.write("seed_demo does nothing with DEBUG off (its passwords are public).")
            return
        if options["if_empty"] and User.objects.exists():
            self.stdout.write("Users exist already: no demo data loaded.")
            return
        seeded = seed_demo_data()
        if seeded.accounts:
            self.stdout.write(f"Created demo accounts: {', '.join(seeded.accounts)}.")
        else:
            self.stdout.write("Demo accounts exist already.")
        if seeded.presets:
            self.stdout.write(f"Added preset voices: {', '.join(seeded.presets)}.")
        if seeded.elements:
            self.stdout.write(f"Created the demo user's elements: {', '.join(seeded.elements)}.")
