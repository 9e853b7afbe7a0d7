"""Benchmarks: what the account layer costs over the bare minimum, as ratios to a baseline
measured in the same run (so the machine's speed cancels out).

    make bench          # or: .venv/bin/python bench/run.py [--quick]

Runs against a throwaway SQLite database in a temporary folder; see bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LEDGER_ENTRIES = 1000


@dataclass(frozen=True)
class Measure:
    name: str
    median: float  # seconds per call
    spread: float  # (max - min) / median over the repeats


def measure(name: str, call: Callable[[], object], *, calls: int, repeats: int) -> Measure:
    """Median seconds per call over `repeats` rounds of `calls` calls, after one warm-up
    round."""
    for _ in range(max(1, calls // 5)):
        call()
    rounds = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            call()
        rounds.append((time.perf_counter() - start) / calls)
    median = statistics.median(rounds)
    return Measure(name, median, (max(rounds) - min(rounds)) / median)


def compare(
    title: str,
    subject: tuple[str, Callable[[], object]],
    baseline: tuple[str, Callable[[], object]],
    *,
    calls: int,
    repeats: int,
) -> float:
    """Measures subject and baseline in alternating rounds, so drift hits both alike."""
    subject_rounds: list[Measure] = []
    baseline_rounds: list[Measure] = []
    for _ in range(repeats):
        baseline_rounds.append(measure(baseline[0], baseline[1], calls=calls, repeats=1))
        subject_rounds.append(measure(subject[0], subject[1], calls=calls, repeats=1))
    s = statistics.median(m.median for m in subject_rounds)
    b = statistics.median(m.median for m in baseline_rounds)
    ratio = s / b
    print(f"\n{title}")
    print(f"  {baseline[0]:<44} {b * 1e6:>10.1f} µs/call  (baseline)")
    print(f"  {subject[0]:<44} {s * 1e6:>10.1f} µs/call")
    print(f"  ratio {ratio:.2f}x  ({calls} calls x {repeats} rounds, medians)")
    return ratio


def setup_django(workdir: Path) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ["DATA_DIR"] = str(workdir)
    os.environ["DEBUG"] = "1"
    os.environ["ALLOWED_HOSTS"] = "testserver"
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ.pop("REDIS_URL", None)
    for name in [key for key in os.environ if key.startswith("AWS_")]:
        os.environ.pop(name)
    os.environ["DJANGO_SETTINGS_MODULE"] = "elementsite.settings"
    sys.path.insert(0, str(ROOT))

    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)


def run(quick: bool) -> dict[str, float]:
    from django.db.models import F
    from django.test import Client

    from accounts import services
    from accounts.models import CreditLedgerEntry, CreditWallet, User

    scale = 4 if quick else 1
    repeats = 5 if quick else 9
    ratios: dict[str, float] = {}

    user = User.objects.create_user(username="bench")  # force_login needs no password
    CreditWallet.objects.get_or_create(user=user)
    services.credits_grant(user=user, amount=10**8, reason="Benchmark funds")
    wallet_pk = CreditWallet.objects.get(user=user).pk

    # (a) a debit: balance check, conditional update and ledger entry in one transaction
    def debit() -> None:
        services.credits_debit(user=user, amount=1, reason="Benchmark debit")

    def bare_update() -> None:
        CreditWallet.objects.filter(pk=wallet_pk).update(balance=F("balance") - 1)

    ratios["credits_debit"] = compare(
        "credits_debit vs a bare UPDATE of the wallet balance",
        ("credits_debit(amount=1)", debit),
        ("CreditWallet UPDATE balance = balance - 1", bare_update),
        calls=200 // scale,
        repeats=repeats,
    )

    client = Client()
    client.force_login(user)

    def graphql(query: str) -> Callable[[], object]:
        body = json.dumps({"query": query})

        def call() -> object:
            response = client.post("/graphql", data=body, content_type="application/json")
            if response.status_code != 200 or "errors" in response.json():
                raise SystemExit(f"GraphQL failed: {response.content[:500]!r}")
            return response

        return call

    typename = ("{ __typename } (same client, logged in)", graphql("{ __typename }"))

    # (b) `me`: entitlements, element count, balance and today's free uses
    me = graphql(
        """{ me { username tier { code name } isMember membershipExpiresAt elementLimit
                  elementCount creditBalance freeMultiviewUsesLeftToday } }"""
    )
    ratios["me"] = compare(
        "GraphQL `me` vs `{ __typename }`",
        ("{ me { … } }", me),
        typename,
        calls=100 // scale,
        repeats=repeats,
    )

    # (c) a full page of the ledger, for a user with 1,000 entries
    reader = User.objects.create_user(username="bench-ledger")
    CreditWallet.objects.get_or_create(user=reader)
    for n in range(LEDGER_ENTRIES):
        services.credits_grant(
            user=reader, amount=1, reason="Benchmark ledger entry", reference=f"bench:{n}"
        )
    client.force_login(reader)
    ledger = graphql(
        """{ creditLedger(first: 100) {
               totalCount
               pageInfo { hasNextPage endCursor }
               edges { node { id kind amount balanceAfter reason reference createdAt } } } }"""
    )
    ratios["creditLedger"] = compare(
        f"GraphQL `creditLedger(first: 100)` of "
        f"{CreditLedgerEntry.objects.filter(user=reader).count()} entries vs `{{ __typename }}`",
        ("{ creditLedger(first: 100) { … } }", ledger),
        typename,
        calls=20 // scale,
        repeats=repeats,
    )
    ratios.update(media(quick))
    return ratios


def photo_jpeg() -> bytes:
    """A 12-megapixel (4000×3000) JPEG of about 4.5 MB, gradients and sensor-like grain, as
    a phone photo: flat colour would make both decode and encode unrealistically cheap."""
    import io

    from PIL import Image

    width, height = 4000, 3000
    red = Image.linear_gradient("L").resize((width, height))
    green = red.transpose(Image.Transpose.ROTATE_90).resize((width, height))
    blobs = Image.effect_noise((width // 40, height // 40), 90).resize(
        (width, height), Image.Resampling.BICUBIC
    )
    grain = Image.effect_noise((width, height), 30)
    image = Image.merge("RGB", [Image.blend(band, grain, 0.25) for band in (red, green, blobs)])
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


def media(quick: bool) -> dict[str, float]:
    """Image ingest and voice validation against the bare decode they can't do without."""
    import io
    import subprocess

    import imageio_ffmpeg
    from PIL import Image

    from elements.media.audio import AudioSegment, process_audio
    from elements.media.images import THUMBNAIL_SIZE, process_image

    repeats = 3 if quick else 5
    ratios: dict[str, float] = {}

    # (d) a 12-megapixel photo: size cap, header checks, verify, decode, EXIF orientation,
    # sRGB, re-encode without metadata, SHA-256 and thumbnail
    jpeg = photo_jpeg()

    def bare_image() -> None:
        image = Image.open(io.BytesIO(jpeg))
        image.load()
        image.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE))

    ratios["process_image"] = compare(
        f"process_image of a 4000x3000 JPEG ({len(jpeg) / 1e6:.1f} MB) "
        "vs Pillow decode + thumbnail",
        ("process_image(upload)", lambda: process_image(io.BytesIO(jpeg))),
        ("Image.open + load + thumbnail", bare_image),
        calls=1,
        repeats=repeats,
    )

    # (e) a 30 s voice memo: sniff, temporary file, PyAV probe, decode, checks, mono 24 kHz,
    # quality report
    with tempfile.TemporaryDirectory(prefix="elementsite-bench-audio-") as workdir:
        path = Path(workdir) / "voice.mp3"
        speech = "aevalsrc='0.3*sin(2*PI*180*t)*lt(mod(t\\,0.45)\\,0.3)':s=44100:d=30"
        encode = ["-f", "lavfi", "-i", speech, "-ac", "2", "-c:a", "libmp3lame", "-b:a", "128k"]
        subprocess.run(  # noqa: S603 (our own arguments)
            [imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-v", "error", "-y", *encode, str(path)],
            check=True,
            stdin=subprocess.DEVNULL,
        )
        mp3 = path.read_bytes()

        def bare_audio() -> None:
            AudioSegment.from_file(str(path), format="mp3", codec="mp3float")

        ratios["process_audio"] = compare(
            f"process_audio of a 30 s stereo MP3 ({len(mp3) / 1e3:.0f} kB) vs pydub decode",
            ("process_audio(upload)", lambda: process_audio(io.BytesIO(mp3))),
            ("AudioSegment.from_file(path, codec=…)", bare_audio),
            calls=2,
            repeats=repeats,
        )
    return ratios


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer calls, a rough answer")
    args = parser.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="elementsite-bench-") as workdir:
        setup_django(Path(workdir))
        from django.db import connections

        try:
            ratios = run(args.quick)
        finally:
            connections.close_all()
    print("\nsummary (ratio to its baseline, lower is cheaper):")
    for name, ratio in ratios.items():
        print(f"  {name:<14} {ratio:6.2f}x")
    print(f"took {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
