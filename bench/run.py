"""Benchmarks: what our code costs over the bare minimum, as ratios to a baseline measured
in the same run (so the machine's speed cancels out).

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
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LEDGER_ENTRIES = 1000


@dataclass(frozen=True)
class Measure:
    name: str
    median: float  # seconds per call
    spread: float  # (max - min) / median over the repeats
    cpu: float = 0.0  # process CPU seconds per call (median round)


def measure(name: str, call: Callable[[], object], *, calls: int, repeats: int) -> Measure:
    """Median seconds per call over `repeats` rounds of `calls` calls, after one warm-up
    round."""
    for _ in range(max(1, calls // 5)):
        call()
    rounds = []
    cpu_rounds = []
    for _ in range(repeats):
        start, cpu_start = time.perf_counter(), time.process_time()
        for _ in range(calls):
            call()
        rounds.append((time.perf_counter() - start) / calls)
        cpu_rounds.append((time.process_time() - cpu_start) / calls)
    median = statistics.median(rounds)
    return Measure(
        name, median, (max(rounds) - min(rounds)) / median, statistics.median(cpu_rounds)
    )


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
    print_spread([m.median for m in baseline_rounds], [m.median for m in subject_rounds], unit="µs")
    # Process CPU time: on a machine shared with other jobs, wall time also measures them.
    s_cpu = statistics.median(m.cpu for m in subject_rounds)
    b_cpu = statistics.median(m.cpu for m in baseline_rounds)
    cpu_ratios = [
        s.cpu / b.cpu for s, b in zip(subject_rounds, baseline_rounds, strict=True) if b.cpu
    ]
    if b_cpu and cpu_ratios:
        print(
            f"  CPU: baseline {b_cpu * 1e6:.1f} µs/call, subject {s_cpu * 1e6:.1f} µs/call, "
            f"ratio {s_cpu / b_cpu:.2f}x (per round {min(cpu_ratios):.2f}x / "
            f"{statistics.median(cpu_ratios):.2f}x / {max(cpu_ratios):.2f}x)"
        )
    return ratio


def print_spread(baseline_s: list[float], subject_s: list[float], *, unit: str = "s") -> None:
    """Each side's rounds (min / median / max) and the ratio of each round's pair: on a
    shared machine one slow round moves a side's median less than it moves the extremes."""
    scale = {"s": 1.0, "ms": 1e3, "µs": 1e6}[unit]

    def spread(values: list[float]) -> str:
        low, mid, high = min(values), statistics.median(values), max(values)
        return f"{low * scale:.1f} / {mid * scale:.1f} / {high * scale:.1f} {unit}"

    ratios = [s / b for s, b in zip(subject_s, baseline_s, strict=True)]
    print(f"  rounds, min / median / max: baseline {spread(baseline_s)}")
    print(f"  {'':<28}subject {spread(subject_s)}")
    print(
        f"  per-round ratio, min / median / max: {min(ratios):.2f}x / "
        f"{statistics.median(ratios):.2f}x / {max(ratios):.2f}x"
    )


def setup_django(workdir: Path, database_url: str | None = None) -> None:
    """Django on a throwaway SQLite database in `workdir`, or on `database_url` (a scratch
    database a bench may fill), migrated."""
    os.environ["DATABASE_URL"] = database_url or f"sqlite:///{workdir / 'bench.sqlite3'}"
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
    from accounts.models import CreditWallet, User

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

    ratios.update(credit_ledger(quick))
    ratios.update(media(quick))
    ratios.update(prompt_compile(quick))
    ratios.update(local_render(quick))
    ratios.update(submit_latency(quick))
    return ratios


def credit_ledger(
    quick: bool, *, typename: tuple[str, Callable[[], object]] | None = None
) -> dict[str, float]:
    """`creditLedger(first: 100)` of a user with LEDGER_ENTRIES entries vs `{ __typename }`
    through the same logged-in client, after checking the page against the ledger's rows."""
    from django.test import Client

    from accounts import services
    from accounts.models import CreditLedgerEntry, CreditWallet, User

    scale = 4 if quick else 1
    repeats = 5 if quick else 9
    reader = User.objects.create_user(username="bench-ledger")
    CreditWallet.objects.get_or_create(user=reader)
    for n in range(LEDGER_ENTRIES):
        services.credits_grant(
            user=reader, amount=1, reason="Benchmark ledger entry", reference=f"bench:{n}"
        )
    client = Client()
    client.force_login(reader)
    graphql = graphql_caller(client)
    if typename is None:
        typename = ("{ __typename } (same client, logged in)", graphql("{ __typename }"))
    ledger = graphql(LEDGER_QUERY)
    check_ledger_page(ledger(), reader)
    return {
        "creditLedger": compare(
            f"GraphQL `creditLedger(first: 100)` of "
            f"{CreditLedgerEntry.objects.filter(user=reader).count()} entries vs "
            "`{ __typename }`",
            ("{ creditLedger(first: 100) { … } }", ledger),
            typename,
            calls=20 // scale,
            repeats=repeats,
        )
    }


LEDGER_QUERY = """{ creditLedger(first: 100) {
       totalCount
       pageInfo { hasNextPage endCursor }
       edges { node { id kind amount balanceAfter reason reference createdAt } } } }"""


def check_ledger_page(response: Any, reader: Any) -> None:
    """The page, field by field, against the newest 100 rows read from the database."""
    from strawberry.relay import to_base64

    from accounts.models import CreditLedgerEntry

    page = response.json()["data"]["creditLedger"]
    rows = CreditLedgerEntry.objects.filter(user=reader).order_by("-created_at", "-id")
    expected = [
        {
            "id": to_base64("CreditLedgerEntry", entry.pk),
            "kind": entry.kind.upper(),
            "amount": entry.amount,
            "balanceAfter": entry.balance_after,
            "reason": entry.reason,
            "reference": entry.reference,
            "createdAt": entry.created_at.isoformat(),
        }
        for entry in rows[:100]
    ]
    got = [
        {**edge["node"], "createdAt": edge["node"]["createdAt"].replace("Z", "+00:00")}
        for edge in page["edges"]
    ]
    if not (
        page["totalCount"] == rows.count()
        and page["pageInfo"]["hasNextPage"] is (rows.count() > 100)
        and got == expected
    ):
        raise SystemExit("creditLedger doesn't return the ledger's newest 100 rows.")


def graphql_caller(client: Any) -> Callable[[str], Callable[[], Any]]:
    def graphql(query: str) -> Callable[[], Any]:
        body = json.dumps({"query": query})

        def call() -> Any:
            response = client.post("/graphql", data=body, content_type="application/json")
            if response.status_code != 200 or "errors" in response.json():
                raise SystemExit(f"GraphQL failed: {response.content[:500]!r}")
            return response

        return call

    return graphql


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


# --- Prompt compiler (generation.prompts) -----------------------------------------------------


def submit_latency(quick: bool) -> dict[str, float]:
    """Submit to queued: `generation_submit` of a 3-shot Video 3.0 Omni job mentioning two
    elements (compile, price, pin snapshots, debit, enqueue on the ORM broker after commit)
    vs a bare insert of a job row in a transaction."""
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import transaction
    from PIL import Image

    from accounts import services as account_services
    from accounts.models import User
    from elements import services as element_services
    from generation import services
    from generation.catalog import ModelCode
    from generation.models import GenerationJob

    def picture(color: tuple[int, int, int]) -> SimpleUploadedFile:
        buffer = io.BytesIO()
        Image.new("RGB", (640, 800), color).save(buffer, "JPEG")
        return SimpleUploadedFile("p.jpg", buffer.getvalue())

    owner = User.objects.create_user(username="bench-submit")
    account_services.credits_grant(user=owner, amount=10**8, reason="Benchmark funds")
    for name, kind in (("Little Scholar", "character"), ("Tokyo Street", "scene")):
        element_services.element_create(
            owner=owner,
            name=name,
            element_type=kind,
            main_image=picture((200, 100, 50)),
            extra_images=[picture((50, 100, 200))],
        )
    prompt = (
        "Shot 1 (3s): [@Little Scholar] walks into [@Tokyo Street]. "
        'Shot 2 (4s): [@Little Scholar] says, "I see food, and I eat it." '
        "Shot 3 (3s): The camera pulls back over [@Tokyo Street]."
    )
    request = services.JobRequest(model=ModelCode.VIDEO_3_0_OMNI, prompt=prompt)

    def submit() -> object:
        return services.generation_submit(owner=owner, request=request)

    def bare_insert() -> object:
        with transaction.atomic():
            return GenerationJob.objects.create(
                owner=owner, model="VIDEO_3_0_OMNI", mode="std", prompt=prompt, provider="local"
            )

    calls = 10 if quick else 40
    return {
        "generation_submit": compare(
            "submit to queued: generation_submit vs a bare job insert",
            ("generation_submit (3 shots, 2 elements)", submit),
            ("INSERT of a job row", bare_insert),
            calls=calls,
            repeats=3 if quick else 5,
        )
    }


def prompt_compile(quick: bool) -> dict[str, float]:
    """compile_prompt of a 2,500-character, 6-shot prompt with 10 mentions (9 of 5 elements,
    1 image) and dialogue, against a 30-element library, vs a bare `re.finditer` scan of
    the same text for `[@…]`."""
    import re

    from generation.catalog import MODELS, ModelCode
    from generation.prompts import LibraryElement, compile_prompt

    names = ["Little Scholar", "Banana Cat", "Korean Girl", "Shirt Boy", "Butterfly Perfume"]
    library = [
        LibraryElement(n + 1, name, "character", has_voice=n % 2 == 0)
        for n, name in enumerate(names + [f"Extra Element {n}" for n in range(25)])
    ]
    mentions = [
        ("[@Little Scholar]", "[@Banana Cat]"),
        ("[@Korean Girl]", "@Shirt Boy"),
        ("[@Image1]", "[@Little Scholar]"),
        ("[@Butterfly Perfume]", "[@Korean Girl]"),
        ("@Banana Cat",),
        ("[@Shirt Boy]",),
    ]
    durations = [2, 3, 2, 3, 2, 3]
    filler = " Warm golden light, soft haze, a quiet street after rain, reflections everywhere."
    shots = []
    for n, (refs, seconds) in enumerate(zip(mentions, durations, strict=True), start=1):
        said = f'{refs[-1]} says, "Line {n}, spoken clearly."'
        shot = (
            f"Shot {n} ({seconds}s): Medium shot, the camera pushes in slowly. "
            + " meets ".join((*refs[:-1], said))
        )
        shots.append((shot + filler * 10)[: 2500 // len(mentions) - 1].rsplit(" ", 1)[0] + ".")
    text = (" ".join(shots) + filler * 2)[:2500]  # exactly 2,500: the last words may be cut
    model = MODELS[ModelCode.VIDEO_3_0_OMNI]

    def compile_it() -> object:
        return compile_prompt(
            text, model=model, library=library, attached_images=1, duration=sum(durations)
        )

    plan = compile_prompt(
        text, model=model, library=library, attached_images=1, duration=sum(durations)
    )
    if len(text) != 2500 or not plan.ok or len(plan.mentions) != 10 or len(plan.shots) != 6:
        raise SystemExit(f"The benchmark prompt isn't what it should be: {plan.issues}")
    pattern = re.compile(r"\[@[^\]]+\]")

    ratio = compare(
        "compile_prompt of a 2,500-character prompt (10 mentions, 6 shots) vs re.finditer for [@…]",
        ("compile_prompt(text, model=…, library=30)", compile_it),
        ("list(re.finditer(r'\\[@[^\\]]+\\]', text))", lambda: list(pattern.finditer(text))),
        calls=200 // (4 if quick else 1),
        repeats=5 if quick else 9,
    )
    return {"compile_prompt": ratio}


# --- Local provider rendering (generation.providers.local_render) ---------------------------


def local_render(quick: bool) -> dict[str, float]:
    """render_video vs ffmpeg encoding plain frames: see bench/render.py (runs alone too)."""
    from render import run_render

    return run_render(quick)


Rows = dict[str, Callable[[bool], dict[str, float]]]


def run_selected(
    description: str, cases: tuple[str, ...], rows: Callable[[], Rows], summary: str
) -> None:
    """The command line of a bench that runs some rows alone (`bench/api.py`,
    `bench/media.py`): `--quick`, `--only a,b` among `cases`; Django set up in a scratch
    folder, then `rows()` (it imports the row functions) and each chosen row in `cases`'
    order; each figure printed under `summary` (a key ending in `_ms` is CPU milliseconds a
    request, not a ratio)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="fewer rounds, a rough answer")
    parser.add_argument(
        "--only", default="", help=f"comma-separated, among {', '.join(cases)} (default: all)"
    )
    args = parser.parse_args()
    only = {name for name in args.only.split(",") if name}
    if unknown := only - set(cases):
        parser.error(f"unknown cases: {', '.join(sorted(unknown))}")
    started = time.perf_counter()
    ratios: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="elementsite-bench-") as workdir:
        setup_django(Path(workdir))
        from django.db import connections

        try:
            runs = rows()
            for name in cases:
                if not only or name in only:
                    ratios.update(runs[name](args.quick))
        finally:
            connections.close_all()
    print(f"\n{summary}")
    for name, ratio in ratios.items():
        unit = " ms CPU a request" if name.endswith("_ms") else "x"
        print(f"  {name:<24} {ratio:6.2f}{unit}")
    print(f"took {time.perf_counter() - started:.1f} s")


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
            # --- The newer features' hot paths (bench/features.py) ---
            from features import run_features

            ratios.update(run_features(args.quick))
            # --- What a page of the web studio costs the server (bench/studio.py) ---
            from studio import studio_pages

            studio = studio_pages(args.quick)
            # --- The listing over HTTP, GraphQL vs a JSON view (bench/listing.py) ---
            from listing import run_listing

            throughputs = run_listing(args.quick)
        finally:
            connections.close_all()
    print("\nsummary (ratio to its baseline, lower is cheaper):")
    for name, ratio in ratios.items():
        print(f"  {name:<23} {ratio:6.2f}x")
    for name, value in studio.items():
        print(f"  {name:<23} {value:6.1f} ms of server CPU a request (the web studio's page)")
    # --- (listing: a ratio of requests/s, so the other way round) ---
    for name, ratio in throughputs.items():
        print(f"  {name:<23} {ratio:6.2f}x  GraphQL/JSON req/s, higher is better (target 0.65x)")
    print(f"took {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
