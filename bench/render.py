"""The renderer's benchmark: `render_video` of a 10 s 720p 4-shot video vs ffmpeg encoding as
many plain frames through the same command (issue 18's `local_render` row).

    .venv/bin/python bench/render.py [--quick] [--rounds N]   # alone, no Django, ~1 min
    make bench                                                 # bench/run.py runs it too

Each round times both sides once (which goes first alternates), as wall time and as CPU time
(this process plus its waited-for children, i.e. ffmpeg): on a shared, loaded machine wall
time swings with the neighbours while CPU time says what the work itself costs.
"""

from __future__ import annotations

import argparse
import math
import resource
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import wave
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The baseline's encoder: issue 18's yardstick, the renderer's settings when the issue was
# filed (x264 `veryfast`). Fixed here, so that a cheaper preset in the renderer shows as a win
# instead of moving the baseline with it; a second baseline pipes the same plain frames
# through the renderer's own command, to show what composing costs over that encode.
REFERENCE_VIDEO_ARGS: tuple[str, ...] = (
    "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-profile:v", "high",
    "-vf", "scale=out_color_matrix=bt709:out_range=tv,format=yuv420p",
    "-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709",
)  # fmt: skip


def _cpu() -> float:
    """CPU seconds of this process and of its children that have been waited for."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _timed(call: Callable[[], object]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), _cpu()
    call()
    return time.perf_counter() - wall, _cpu() - cpu


def _spread(values: list[float], unit: str = "s") -> str:
    return (
        f"min {min(values):.2f} / median {statistics.median(values):.2f} / "
        f"max {max(values):.2f} {unit}"
    )


def run_render(quick: bool, rounds: int | None = None) -> dict[str, float]:
    """render_video of a 10 s 1280x720 4-shot video (a photo-like background, two subjects,
    camera moves, subtitles, two voice cues) vs the same ffmpeg command encoding as many
    constant frames (piped from Python the same way, with a silent track): what composing
    the frames and the audio costs on top of the encode."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from PIL import Image, ImageDraw

    from generation.providers import local_render as lr

    width, height, fps = 1280, 720, 24
    repeats = rounds or (3 if quick else 5)
    with tempfile.TemporaryDirectory(prefix="elementsite-bench-render-") as workdir:
        d = Path(workdir)
        # A 1920x1080 "photo": gradients, soft blobs and light grain (flat colour would make
        # the encode unrealistically cheap, heavy noise unrealistically dear).
        red = Image.linear_gradient("L").resize((1920, 1080))
        green = red.transpose(Image.Transpose.ROTATE_90).resize((1920, 1080))
        blobs = Image.effect_noise((48, 27), 90).resize((1920, 1080), Image.Resampling.BICUBIC)
        grain = Image.effect_noise((1920, 1080), 12)
        bands = [Image.blend(band, grain, 0.1) for band in (red, green, blobs)]
        Image.merge("RGB", bands).save(d / "scene.png")
        for n, color in enumerate([(200, 60, 60), (60, 120, 210)]):
            figure = Image.new("RGBA", (600, 1000), (0, 0, 0, 0))
            draw = ImageDraw.Draw(figure)
            draw.ellipse((150, 0, 450, 300), fill=(*color, 255))
            draw.rounded_rectangle((60, 280, 540, 1000), radius=120, fill=(*color, 255))
            figure.save(d / f"subject{n}.png")
        with wave.open(str(d / "voice.wav"), "wb") as out:  # as stored: mono, 24 kHz, 16-bit
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(24_000)
            out.writeframes(
                b"".join(
                    struct.pack("<h", round(9000 * math.sin(2 * math.pi * 180 * i / 24_000)))
                    for i in range(2 * 24_000)
                )
            )
        scene = lr.Layer(d / "scene.png", "background")
        people = [lr.Layer(d / f"subject{n}.png", "subject") for n in range(2)]
        voice = [lr.VoiceCue(d / "voice.wav", 0.3, "Line")]
        line = [lr.Subtitle(0.3, 2.2, "We should have left an hour ago.", "Ann")]
        shots = [
            lr.ShotSpec(2.5, "Slow push in on the two of them", [scene, *people], line, voice),
            lr.ShotSpec(2.5, "Pan left across the street", [scene, people[0]]),
            lr.ShotSpec(2.5, "Tracking shot, the camera follows her", [scene, people[1]]),
            lr.ShotSpec(2.5, "Pull back to reveal the city", [scene, *people], line, voice),
        ]
        frames = sum(round(shot.duration * fps) for shot in shots)
        silent = d / "silent.wav"
        with wave.open(str(silent), "wb") as out:
            out.setnchannels(lr.AUDIO_CHANNELS)
            out.setsampwidth(lr.AUDIO_SAMPLE_WIDTH)
            out.setframerate(lr.AUDIO_RATE)
            out.writeframes(bytes(frames * lr.AUDIO_RATE // fps * 4))
        plain = Image.new("RGB", (width, height), (90, 110, 130)).tobytes()

        def render() -> None:
            lr.render_video(shots, d / "video.mp4", width=width, height=height, fps=fps)

        def plain_encode(video_args: tuple[str, ...] | None) -> Callable[[], None]:
            def call() -> None:
                command = lr.ffmpeg_command(
                    width, height, fps, silent, d / "plain.mp4", video_args=video_args
                )
                process = subprocess.Popen(command, stdin=subprocess.PIPE)  # noqa: S603
                assert process.stdin is not None
                for _ in range(frames):
                    process.stdin.write(plain)
                process.stdin.close()
                if process.wait() != 0:
                    raise SystemExit("ffmpeg failed on the plain frames")

            return call

        render()  # warm-up: fonts, imports, the page cache of the inputs
        sides = {
            "baseline": plain_encode(REFERENCE_VIDEO_ARGS),
            "same_command": plain_encode(None),
            "subject": render,
        }
        walls: dict[str, list[float]] = {side: [] for side in sides}
        cpus: dict[str, list[float]] = {side: [] for side in sides}
        for n in range(repeats):
            order = list(sides.items())
            for side, call in order if n % 2 == 0 else order[::-1]:
                wall, cpu = _timed(call)
                walls[side].append(wall)
                cpus[side].append(cpu)
        size = (d / "video.mp4").stat().st_size

    def ratios(
        timings: dict[str, list[float]], baseline: str = "baseline"
    ) -> tuple[float, list[float]]:
        rounds = [s / b for s, b in zip(timings["subject"], timings[baseline], strict=True)]
        return statistics.median(timings["subject"]) / statistics.median(timings[baseline]), rounds

    ratio, wall_rounds = ratios(walls)
    cpu_ratio, cpu_rounds = ratios(cpus)
    same_cpu, _ = ratios(cpus, "same_command")
    print(
        f"\nrender_video of a 10 s {width}x{height} 4-shot video vs ffmpeg encoding "
        f"{frames} constant frames"
    )
    labels = {
        "baseline": f"constant frames, {' '.join(REFERENCE_VIDEO_ARGS[2:4])} (baseline)",
        "same_command": "constant frames, the renderer's command",
        "subject": "render_video(4 shots, 10 s, 720p)",
    }
    for side, label in labels.items():
        print(f"  {label:<48} wall {_spread(walls[side])}")
        print(f"  {'':<48} CPU  {_spread(cpus[side])}")
    print(f"  renderer's encoder: {' '.join(lr.VIDEO_CODEC_ARGS[:6])}; output {size / 1e6:.2f} MB")
    print(
        f"  ratio {ratio:.2f}x wall (rounds {', '.join(f'{r:.2f}' for r in wall_rounds)}), "
        f"{cpu_ratio:.2f}x CPU (rounds {', '.join(f'{r:.2f}' for r in cpu_rounds)}); "
        f"{same_cpu:.2f}x CPU over the renderer's own command; {repeats} rounds, medians"
    )
    return {"local_render": ratio, "local_render_cpu": cpu_ratio}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 rounds instead of 5")
    parser.add_argument("--rounds", type=int, help="rounds (overrides --quick)")
    args = parser.parse_args()
    started = time.perf_counter()
    run_render(args.quick, args.rounds)
    print(f"took {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
