"""Selfie videos for likeness claims: a face that moves a little (a slow sway and push-in
around the face, as a hand-held phone gives), saying N syllables of speech-like sound
(`media.speechlike_pcm`, ~4 syllables a second, one pause in 7) then silent."""

from __future__ import annotations

import functools

import numpy as np
from PIL import Image

from tests.support.media import speechlike_pcm
from tests.support.videos import HEIGHT, WIDTH, Frame, lfw_face, make_video, photo, still

RATE = 16_000
SYLLABLE = 0.25  # seconds, as speechlike_pcm lays them out


def phrase_pcm(syllables: int, seconds: float, *, lead: float = 0.3) -> bytes:
    """`seconds` of PCM: `lead` s of silence, then `syllables` voiced syllables, then silence."""
    slots, voiced = 0, 0
    while voiced < syllables:
        if slots % 7 != 6:
            voiced += 1
        slots += 1
    speech = np.frombuffer(speechlike_pcm(slots * SYLLABLE + 0.01, RATE), dtype="<i2")
    speech = speech[: int(slots * SYLLABLE * RATE)]
    out = np.zeros(int(seconds * RATE), dtype="<i2")
    start = int(lead * RATE)
    out[start : start + len(speech)] = speech[: len(out) - start]
    return out.tobytes()


def sway(name: str, seconds: float) -> Frame:
    """Around the subject's face: a slow side-to-side sway and a small push-in."""
    image = photo(name)
    cx0, cy0, width0 = image.width * 0.45, image.height * 0.32, image.width * 0.6

    def frame(t: float) -> Image.Image:
        k = t / seconds
        width = width0 * (1.0 - 0.1 * k)
        cx = cx0 + image.width * 0.03 * np.sin(2 * np.pi * k)
        height = width * HEIGHT / WIDTH
        left = min(max(cx - width / 2, 0), image.width - width)
        top = min(max(cy0 - height / 2, 0), image.height - height)
        box = (round(left), round(top), round(left + width), round(top + height))
        return image.crop(box).resize((WIDTH, HEIGHT), Image.Resampling.BILINEAR)

    return frame


def two_people(seconds: float) -> Frame:
    """The astronaut swaying, and another person's face pasted beside her."""
    astronaut = sway("astronaut", seconds)
    other = lfw_face(1).crop((120, 60, 360, 300)).resize((150, 150))

    def frame(t: float) -> Image.Image:
        canvas = astronaut(t).copy()
        canvas.paste(other, (WIDTH - 160, HEIGHT - 170))
        return canvas

    return frame


@functools.cache
def selfie(kind: str, syllables: int, seconds: float = 4.0) -> bytes:
    """A selfie clip: `kind` is "astronaut" (one person, moving), "two" (two faces), "still"
    (a photo filmed: nothing moves), "coffee" (no face), "silent" (no speech)."""
    frames = {
        "astronaut": sway("astronaut", seconds),
        "two": two_people(seconds),
        "still": still("astronaut"),
        "coffee": sway("coffee", seconds),
        "silent": sway("astronaut", seconds),
    }[kind]
    audio: bytes | str = phrase_pcm(syllables, seconds) if kind != "silent" else "silence"
    return make_video(frames, seconds, audio=audio)
