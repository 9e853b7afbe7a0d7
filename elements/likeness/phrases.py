"""The phrases a claimant says: 5 common words, each with its spoken syllables, so the
check knows how many bursts of voice to expect (`elements.likeness.check`)."""

from __future__ import annotations

import secrets

PHRASE_WORDS = 5

# Short, common, unambiguous to pronounce; the syllable count of each as spoken.
WORDS: dict[str, int] = {
    "apple": 2, "river": 2, "green": 1, "morning": 2, "table": 2, "window": 2,
    "yellow": 2, "garden": 2, "silver": 2, "orange": 2, "paper": 2, "seven": 2,
    "blue": 1, "stone": 1, "cloud": 1, "bread": 1, "horse": 1, "chair": 1,
    "music": 2, "pencil": 2, "candle": 2, "tiger": 2, "rabbit": 2, "summer": 2,
    "winter": 2, "planet": 2, "basket": 2, "lemon": 2, "forest": 2, "number": 2,
    "dog": 1, "sun": 1, "moon": 1, "tree": 1, "fish": 1, "bird": 1, "book": 1,
    "water": 2, "happy": 2, "little": 2, "button": 2, "pocket": 2, "rocket": 2,
}  # fmt: skip


def new_phrase() -> tuple[str, int]:
    """A fresh random phrase of PHRASE_WORDS distinct words and its syllable count."""
    pool = list(WORDS)
    words: list[str] = []
    while len(words) < PHRASE_WORDS:
        word = pool.pop(secrets.randbelow(len(pool)))
        words.append(word)
    return " ".join(words), sum(WORDS[w] for w in words)
