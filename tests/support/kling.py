"""A fake of the Kling HTTP API (`shared/providers/kling-api.md`), served for real on
127.0.0.1 from a thread.

It checks what the real service documents and nothing it doesn't promise:
- the HS256 JWT on every request (401 with 1001 no header, 1002 bad token, 1003 not yet
  valid, 1004 expired), against the wall clock the token was minted on;
- the documented field limits of each create route (400 with 1201 and the reason),
  including a `video_refer` element's video, fetched from its URL like Kling does and
  probed (mp4/mov, 3–8 s, 1920×1080 or 1080×1920, ≤200 MB); speech in it binds an
  auto-made voice when no `element_voice_id` is sent;
- the account's concurrency per pack type (429 with 1303), a video task holding 1 slot and
  an image task `n`, from `submitted` until it ends;
- a status machine per task on a `FakeClock` the test controls (`submitted` →
  `processing` → `succeed`/`failed`), optionally moved on by every status query
  (`step_per_query`) so a worker polling inline sees time pass;
- injected errors (`inject(code, times, method, prefix)`: 1301, 1303 as HTTP 429, 5001 as
  503, …) and tasks that end `failed` with a `task_status_msg` (`fail_next`);
- callbacks POSTed to a task's `callback_url` (`post_callback`), and result files (a real
  H.264/AAC MP4 made with ffmpeg, a PNG) served from `/files/`.
Ids are 64-bit integers above 2^53, times are Unix ms, durations are strings.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import io
import json
import re
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import imageio_ffmpeg
from PIL import Image

ELEMENT_ID_BASE = 829836802793406551  # the doc's example, above 2^53
TASK_ID_BASE = 780000000000000001
STATUS_FOR_CODE = {
    1000: 401, 1001: 401, 1002: 401, 1003: 401, 1004: 401,
    1100: 429, 1101: 429, 1102: 429, 1103: 403, 1200: 400, 1201: 400, 1202: 404, 1203: 404,
    1300: 400, 1301: 400, 1302: 429, 1303: 429, 1304: 429, 5000: 500, 5001: 503, 5002: 504,
}  # fmt: skip
REFERENCE = re.compile(r"<<<(element|image|video)_(\d+)>>>")
TAGS = {f"o_{n}" for n in range(101, 109)}
VOICE_EXTENSIONS = (".mp3", ".wav", ".mp4", ".mov")


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0
        self._lock = threading.Lock()

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds

    def ms(self) -> int:
        return int(self.now * 1000)


class Refused(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Task:
    task_id: str
    family: str  # "omni-video" | "image2video" | "text2video" | "omni-image" | "element" | "voice"
    body: dict[str, Any]
    created: float
    slots: int
    pack: str  # "video" | "image" | "" (no slot)
    fail_message: str = ""
    status: str = "submitted"
    updated: float = 0.0
    result: dict[str, Any] = field(default_factory=dict)


@dataclass
class Injection:
    code: int
    times: int
    method: str
    prefix: str
    message: str


def _b64_image(value: Any, where: str) -> None:
    """A Base64 image as the doc allows: jpg/png, ≤10 MB, ≥300 px, aspect 1:2.5–2.5:1
    (a URL is taken on trust: the fake fetches nothing it is not told to)."""
    if not isinstance(value, str) or not value:
        raise Refused(1201, f"{where}: image is required")
    if value.startswith(("http://", "https://")):
        return
    if value.startswith("data:"):
        raise Refused(1201, f"{where}: Base64 must not carry a data: prefix")
    try:
        data = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise Refused(1201, f"{where}: invalid Base64") from None
    if len(data) > 10 * 1024 * 1024:
        raise Refused(1201, f"{where}: image over 10MB")
    try:
        with Image.open(io.BytesIO(data)) as image:
            fmt, (w, h) = image.format, image.size
    except OSError:
        raise Refused(1201, f"{where}: not an image") from None
    if fmt not in ("JPEG", "PNG"):
        raise Refused(1201, f"{where}: only jpg/jpeg/png")
    if min(w, h) < 300:
        raise Refused(1201, f"{where}: min side 300px")
    if not 0.4 <= w / h <= 2.5:
        raise Refused(1201, f"{where}: aspect ratio out of range")


def _b64url_decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


class FakeKling:
    def __init__(
        self,
        *,
        access_key: str,
        secret_key: str,
        video_concurrency: int = 5,
        image_concurrency: int = 9,
        workdir: Path,
    ) -> None:
        self.access_key = access_key
        self.secret_key = secret_key
        self.video_concurrency = video_concurrency
        self.image_concurrency = image_concurrency
        self.workdir = workdir
        self.clock = FakeClock()
        self.processing_after = 1.0
        self.done_after = 3.0
        self.step_per_query = 1.0
        self.tasks: dict[str, Task] = {}
        self.elements: dict[int, dict[str, Any]] = {}
        self.voices: dict[str, dict[str, Any]] = {}
        # Kling's preset voices (`owned_by: kling`): bindable by id, never deleted.
        self.preset_voices: dict[str, dict[str, Any]] = {
            "kling_preset_warm_narrator": {"voice_id": "kling_preset_warm_narrator"},
        }
        self.deleted_voices: list[str] = []
        # The own `status` the next created elements get (then "succeed"): Kling may report
        # an element `deleted` apart from its task's status.
        self.next_element_status: list[str] = []
        self.external_ids: set[str] = set()
        self.injections: list[Injection] = []
        self.fail_messages: list[tuple[str, str]] = []
        self.requests: list[tuple[str, str, int]] = []  # (method, path, http status)
        self.bodies: list[tuple[str, dict[str, Any]]] = []
        self.peak_active: dict[str, int] = {"video": 0, "image": 0}
        self._lock = threading.RLock()
        self._next = 0
        self._videos: dict[int, bytes] = {}
        # What each `video_refer` URL served when fetched: url → (width, height, seconds,
        # has_audio, bytes).
        self.element_videos: dict[str, tuple[int, int, float, bool, int]] = {}
        self.server: ThreadingHTTPServer | None = None

    # --- control ----------------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> FakeKling:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                fake._handle(self, "GET")

            def do_POST(self) -> None:
                fake._handle(self, "POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def inject(
        self, code: int, *, times: int = 1, method: str = "", prefix: str = "", message: str = ""
    ) -> None:
        """Answer the next `times` matching requests with `code` (and its HTTP status)."""
        with self._lock:
            self.injections.append(
                Injection(code, times, method, prefix, message or f"injected {code}")
            )

    def fail_next(self, message: str, *, family: str) -> None:
        """The next task of `family` created ends `failed` with this `task_status_msg`."""
        with self._lock:
            self.fail_messages.append((family, message))

    def count(self, method: str, prefix: str, status: int | None = None) -> int:
        with self._lock:
            return sum(
                1
                for m, p, s in self.requests
                if m == method and p.startswith(prefix) and (status is None or s == status)
            )

    def created(self, family: str) -> list[Task]:
        with self._lock:
            return [t for t in self.tasks.values() if t.family == family]

    def post_callback(self, task_id: str, **override: Any) -> int:
        """POST the task's current state to its `callback_url`, with fields overridden."""
        task = self.tasks[task_id]
        self._advance(task)
        body = {**self._task_data(task), **override}
        request = urllib.request.Request(  # noqa: S310 - our own view on the live server
            task.body["callback_url"],
            data=json.dumps(body).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return int(response.status)

    # --- media ------------------------------------------------------------------------------

    def video_bytes(self, seconds: int) -> bytes:
        """A real H.264/AAC MP4 of `seconds`, made once per length with ffmpeg."""
        with self._lock:
            if seconds not in self._videos:
                out = self.workdir / f"result-{seconds}.mp4"
                subprocess.run(
                    [
                        imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-y",
                        "-f", "lavfi", "-i", f"testsrc=size=640x360:rate=24:duration={seconds}",
                        "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
                        "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac",
                        "-shortest", str(out),
                    ],
                    check=True,
                )  # fmt: skip
                self._videos[seconds] = out.read_bytes()
            return self._videos[seconds]

    @staticmethod
    def image_bytes() -> bytes:
        out = io.BytesIO()
        Image.new("RGB", (1024, 1024), (200, 120, 40)).save(out, format="PNG")
        return out.getvalue()

    # --- HTTP -------------------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        path = handler.path
        status, payload, raw = 200, None, None
        try:
            if path.startswith("/files/"):
                raw = self._file(path)
            else:
                self._check_token(handler.headers.get("Authorization"))
                self._maybe_inject(method, path)
                body: dict[str, Any] = {}
                if method == "POST":
                    length = int(handler.headers.get("Content-Length") or 0)
                    body = json.loads(handler.rfile.read(length) or b"{}")
                payload = {
                    "code": 0,
                    "message": "SUCCEED",
                    "request_id": self._id(),
                    "data": self._route(method, path, body),
                }
        except Refused as exc:
            status = STATUS_FOR_CODE.get(exc.code, 400)
            payload = {"code": exc.code, "message": exc.message, "request_id": self._id()}
        except KeyError:
            status = 404
            payload = {"code": 1203, "message": "resource not found", "request_id": self._id()}
        with self._lock:
            self.requests.append((method, path.split("?")[0], status))
        if raw is not None:
            handler.send_response(200)
            handler.send_header("Content-Type", "application/octet-stream")
            handler.send_header("Content-Length", str(len(raw)))
            handler.end_headers()
            handler.wfile.write(raw)
            return
        data = json.dumps(payload).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def _file(self, path: str) -> bytes:
        name = path.removeprefix("/files/")
        if name.startswith("video-") and name.endswith(".mp4"):
            return self.video_bytes(int(name.removeprefix("video-").removesuffix(".mp4")))
        if name == "image.png":
            return self.image_bytes()
        raise KeyError(name)

    def _check_token(self, header: str | None) -> None:
        if not header:
            raise Refused(1001, "Authorization header is empty")
        if not header.startswith("Bearer ") or header.count(".") != 2:
            raise Refused(1002, "Authorization is invalid")
        token = header.removeprefix("Bearer ")
        head, claims, signature = token.split(".")
        try:
            header_json = json.loads(_b64url_decode(head))
            claims_json = json.loads(_b64url_decode(claims))
            given = _b64url_decode(signature)
        except (ValueError, binascii.Error):
            raise Refused(1002, "Authorization is invalid") from None
        expected = hmac.new(
            self.secret_key.encode(), f"{head}.{claims}".encode(), hashlib.sha256
        ).digest()
        if header_json != {"alg": "HS256", "typ": "JWT"} or not hmac.compare_digest(
            given, expected
        ):
            raise Refused(1002, "Authorization is invalid")
        if claims_json.get("iss") != self.access_key:
            raise Refused(1002, "Authorization is invalid")
        now = time.time()
        if float(claims_json.get("nbf", 0)) > now:
            raise Refused(1003, "Authorization is not active")
        if float(claims_json.get("exp", 0)) < now:
            raise Refused(1004, "Authorization has expired")

    def _maybe_inject(self, method: str, path: str) -> None:
        with self._lock:
            for injection in self.injections:
                if injection.times <= 0:
                    continue
                if injection.method and injection.method != method:
                    continue
                if injection.prefix and not path.startswith(injection.prefix):
                    continue
                injection.times -= 1
                raise Refused(injection.code, injection.message)

    def _id(self) -> str:
        with self._lock:
            self._next += 1
            return str(TASK_ID_BASE + self._next)

    # --- routes -----------------------------------------------------------------------------

    FAMILIES = {
        "/v1/videos/omni-video": "omni-video",
        "/v1/videos/image2video": "image2video",
        "/v1/videos/text2video": "text2video",
        "/v1/images/omni-image": "omni-image",
        "/v1/general/advanced-custom-elements": "element",
        "/v1/general/custom-voices": "voice",
    }

    def _route(self, method: str, path: str, body: dict[str, Any]) -> Any:
        route = path.partition("?")[0]
        if method == "POST" and route == "/v1/general/delete-elements":
            return self._delete_element(body)
        if method == "POST" and route == "/v1/general/delete-voices":
            return self._delete_voice(body)
        if method == "GET" and route == "/v1/general/presets-voices":
            return [
                {**v, "voice_name": k, "owned_by": "kling"} for k, v in self.preset_voices.items()
            ]
        for prefix, family in self.FAMILIES.items():
            if route == prefix and method == "POST":
                return self._create(family, body)
            if route == prefix and method == "GET":
                return [self._task_data(t) for t in self.created(family)][-500:]
            if route.startswith(prefix + "/") and method == "GET":
                task = self.tasks[route.removeprefix(prefix + "/")]
                if task.family != family:
                    raise KeyError(route)
                with self._lock:
                    self.clock.advance(self.step_per_query)
                self._advance(task)
                return self._task_data(task)
        raise Refused(1202, "wrong method or route")

    def _create(self, family: str, body: dict[str, Any]) -> dict[str, Any]:
        self.bodies.append((family, body))
        validate = getattr(self, f"_validate_{family.replace('-', '_')}")
        validate(body)
        external = body.get("external_task_id")
        pack = {"omni-image": "image", "element": "", "voice": ""}.get(family, "video")
        slots = int(body.get("n") or 1) if pack == "image" else (1 if pack else 0)
        with self._lock:
            if external and external in self.external_ids:
                raise Refused(1201, "external_task_id already exists")
            for task in self.tasks.values():
                self._advance(task)
            if pack:
                cap = self.video_concurrency if pack == "video" else self.image_concurrency
                if self._active(pack) + slots > cap:
                    raise Refused(1303, "parallel task over resource pack limit")
            if external:
                self.external_ids.add(external)
            task = Task(
                task_id=self._id(),
                family=family,
                body=body,
                created=self.clock.now,
                updated=self.clock.now,
                slots=slots,
                pack=pack,
                fail_message=self._fail_message(family),
            )
            self.tasks[task.task_id] = task
            if pack:
                self.peak_active[pack] = max(self.peak_active[pack], self._active(pack))
            return self._task_data(task, create=True)

    def _fail_message(self, family: str) -> str:
        for n, (wanted, message) in enumerate(self.fail_messages):
            if wanted == family:
                del self.fail_messages[n]
                return message
        return ""

    def _active(self, pack: str) -> int:
        return sum(
            t.slots
            for t in self.tasks.values()
            if t.pack == pack and t.status in ("submitted", "processing")
        )

    def _advance(self, task: Task) -> None:
        with self._lock:
            if task.status in ("succeed", "failed"):
                return
            age = self.clock.now - task.created
            status = "submitted"
            if age >= self.done_after:
                status = "failed" if task.fail_message else "succeed"
            elif age >= self.processing_after:
                status = "processing"
            if status != task.status:
                task.status, task.updated = status, self.clock.now
                if status == "succeed":
                    task.result = self._result(task)

    def _result(self, task: Task) -> dict[str, Any]:
        body = task.body
        if task.family == "element":
            element_id = ELEMENT_ID_BASE + len(self.elements)
            voice_info = (
                {"voice_id": body["element_voice_id"], "owned_by": "fake"}
                if body.get("element_voice_id")
                else None
            )
            videos = (body.get("element_video_list") or {}).get("refer_videos") or []
            if videos and voice_info is None and self.element_videos[videos[0]["video_url"]][3]:
                # "A human voice in the audio makes Kling create a custom voice and bind it."
                voice_id = f"voice-auto-{self._id()}"
                self.voices[voice_id] = {"voice_id": voice_id, "voice_name": "auto"}
                voice_info = {"voice_id": voice_id, "owned_by": "fake"}
            element = {
                "element_id": element_id,
                "element_name": body["element_name"],
                "element_description": body["element_description"],
                "reference_type": body["reference_type"],
                "element_video_list": body.get("element_video_list"),
                "element_voice_info": voice_info,
                "tag_list": body.get("tag_list") or [],
                "owned_by": "fake",
                "status": self.next_element_status.pop(0)
                if self.next_element_status
                else "succeed",
            }
            self.elements[element_id] = element
            return {"elements": [element]}
        if task.family == "voice":
            voice_id = f"voice-{self._id()}"
            self.voices[voice_id] = {"voice_id": voice_id, "voice_name": body["voice_name"]}
            return {"voices": [{**self.voices[voice_id], "owned_by": "fake", "trial_url": ""}]}
        if task.family == "omni-image":
            return {
                "images": [
                    {"index": n, "url": f"{self.url}/files/image.png"}
                    for n in range(int(body.get("n") or 1))
                ]
            }
        seconds = int(body.get("duration") or 5)
        return {
            "videos": [
                {
                    "id": self._id(),
                    "url": f"{self.url}/files/video-{seconds}.mp4",
                    "watermark_url": "",
                    "duration": str(seconds),
                }
            ]
        }

    def _task_data(self, task: Task, *, create: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "task_id": task.task_id,
            "task_status": task.status,
            "task_info": {"external_task_id": task.body.get("external_task_id")},
            "created_at": int(task.created * 1000),
            "updated_at": int(task.updated * 1000),
        }
        if not create:
            data["task_status_msg"] = task.fail_message if task.status == "failed" else ""
            data["task_result"] = task.result
            data["watermark_info"] = {"enabled": False}
            data["final_unit_deduction"] = "1" if task.status == "succeed" else "0"
        return data

    def delete_element_remotely(self, element_id: int) -> None:
        """Kling removes an element on its side (its own `status` becomes `deleted`)."""
        with self._lock:
            self.elements[element_id]["status"] = "deleted"

    def _delete_voice(self, body: dict[str, Any]) -> dict[str, Any]:
        """`POST /v1/general/delete-voices`: custom voices only."""
        voice_id = body.get("voice_id")
        if not isinstance(voice_id, str) or not voice_id:
            raise Refused(1201, "voice_id is required")
        if voice_id in self.preset_voices:
            raise Refused(1201, "preset voices can't be deleted")
        with self._lock:
            if self.voices.pop(voice_id, None) is None:
                raise Refused(1203, "voice not found")
            self.deleted_voices.append(voice_id)
        return {"task_id": self._id(), "task_status": "succeed"}

    def _delete_element(self, body: dict[str, Any]) -> dict[str, Any]:
        raw = body.get("element_id")
        if not isinstance(raw, str) or not raw.isdigit():
            raise Refused(1201, "element_id must be a string")
        element = self.elements.get(int(raw))
        if element is None:
            raise Refused(1203, "element not found")
        element["status"] = "deleted"
        return {"task_id": self._id(), "task_status": "succeed"}

    # --- limits (1201) ----------------------------------------------------------------------

    def _known_elements(self, items: Any, where: str) -> list[dict[str, Any]]:
        if not isinstance(items, list):
            raise Refused(1201, f"{where} must be a list")
        found = []
        for item in items:
            element = self.elements.get(item.get("element_id") if isinstance(item, dict) else -1)
            if element is None or element["status"] != "succeed":
                raise Refused(1201, f"{where}: unknown element {item}")
            found.append(element)
        return found

    def _validate_element(self, body: dict[str, Any]) -> None:
        name, description = body.get("element_name"), body.get("element_description")
        if not isinstance(name, str) or not 0 < len(name) <= 20:
            raise Refused(1201, "element_name is required, up to 20 characters")
        if not isinstance(description, str) or not 0 < len(description) <= 100:
            raise Refused(1201, "element_description is required, up to 100 characters")
        kind = body.get("reference_type")
        if kind == "image_refer":
            images = body.get("element_image_list") or {}
            _b64_image(images.get("frontal_image"), "frontal_image")
            refer = images.get("refer_images") or []
            if not 1 <= len(refer) <= 3:
                raise Refused(1201, "refer_images takes 1 to 3 images")
            for n, item in enumerate(refer):
                _b64_image(item.get("image_url"), f"refer_images[{n}]")
        elif kind == "video_refer":
            videos = (body.get("element_video_list") or {}).get("refer_videos") or []
            if len(videos) != 1 or not isinstance(videos[0], dict):
                raise Refused(1201, "refer_videos takes exactly 1 video")
            if "element_image_list" in body:
                raise Refused(1201, "video_refer takes no element_image_list")
            self._element_video(videos[0].get("video_url"))
        else:
            raise Refused(1201, "reference_type must be image_refer or video_refer")
        voice = body.get("element_voice_id")
        if voice is not None and voice not in self.voices and voice not in self.preset_voices:
            raise Refused(1201, "element_voice_id is unknown")
        for tag in body.get("tag_list") or []:
            if tag.get("tag_id") not in TAGS:
                raise Refused(1201, "tag_id is unknown")

    def _element_video(self, url: Any) -> None:
        """Fetch the element video as Kling does and hold it to the documented rules: one
        mp4/mov, 3–8 s, 1080P (1920×1080 or 1080×1920: 16:9 or 9:16), ≤200 MB."""
        import av

        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise Refused(1201, "video_url must be a URL")
        try:
            with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310
                data = response.read(200 * 1024 * 1024 + 1)
        except OSError as exc:
            raise Refused(1201, f"video_url could not be fetched: {exc}") from None
        if len(data) > 200 * 1024 * 1024:
            raise Refused(1201, "element video over 200MB")
        try:
            with av.open(io.BytesIO(data), mode="r") as container:
                names = set(container.format.name.split(","))
                stream = container.streams.video[0]
                width, height = stream.codec_context.width, stream.codec_context.height
                seconds = (
                    float(stream.duration * stream.time_base)
                    if stream.duration and stream.time_base
                    else 0.0
                )
                has_audio = bool(container.streams.audio)
        except (av.FFmpegError, IndexError, OSError):
            raise Refused(1201, "element video is not a video") from None
        if not names & {"mp4", "mov"}:
            raise Refused(1201, "element video must be mp4/mov")
        if not 3.0 - 0.05 <= seconds <= 8.0 + 0.05:
            raise Refused(1201, f"element video must be 3-8s, got {seconds:.2f}")
        if (width, height) not in ((1920, 1080), (1080, 1920)):
            raise Refused(1201, f"element video must be 1080P 16:9 or 9:16, got {width}x{height}")
        self.element_videos[url] = (width, height, seconds, has_audio, len(data))

    def _validate_voice(self, body: dict[str, Any]) -> None:
        name = body.get("voice_name")
        if not isinstance(name, str) or not 0 < len(name) <= 20:
            raise Refused(1201, "voice_name is required, up to 20 characters")
        url, video = body.get("voice_url"), body.get("video_id")
        if not url and not video:
            raise Refused(1201, "voice_url or video_id is required")
        if url and not str(url).startswith(("http://", "https://")):
            raise Refused(1201, "voice_url must be a URL")
        # kling-api.md §4: the sample is .mp3/.wav/.mp4/.mov, told by the URL's path.
        if url and not urllib.parse.urlsplit(str(url)).path.lower().endswith(VOICE_EXTENSIONS):
            raise Refused(1201, "voice_url must end with .mp3/.wav/.mp4/.mov")

    def _references(self, texts: list[str], sizes: dict[str, int]) -> None:
        for text in texts:
            for kind, number in REFERENCE.findall(text):
                if not 1 <= int(number) <= sizes[kind]:
                    raise Refused(1201, f"<<<{kind}_{number}>>> has no match")

    def _validate_omni_video(self, body: dict[str, Any]) -> None:
        model = body.get("model_name", "kling-video-o1")
        if model not in ("kling-video-o1", "kling-v3-omni"):
            raise Refused(1201, "model_name is invalid")
        if body.get("mode", "pro") not in ("std", "pro"):
            raise Refused(1201, "mode is invalid")
        duration = int(body.get("duration") or "5")
        top = 15 if model == "kling-v3-omni" else 10
        if not 3 <= duration <= top:
            raise Refused(1201, f"duration must be 3-{top}")
        images = body.get("image_list") or []
        frames = [i for i in images if i.get("type") in ("first_frame", "end_frame")]
        videos = body.get("video_list") or []
        elements = self._known_elements(body.get("element_list") or [], "element_list")
        texts: list[str] = []
        if body.get("multi_shot"):
            if model != "kling-v3-omni":
                raise Refused(1201, "multi_shot is not supported by this model")
            if frames:
                raise Refused(1201, "multi_shot takes no start/end frames")
            if body.get("shot_type") not in ("customize", "intelligence"):
                raise Refused(1201, "shot_type is required with multi_shot")
            if body["shot_type"] == "customize":
                shots = body.get("multi_prompt") or []
                if not 1 <= len(shots) <= 6:
                    raise Refused(1201, "multi_prompt takes 1 to 6 shots")
                for shot in shots:
                    if len(shot.get("prompt") or "") > 512 or not shot.get("prompt"):
                        raise Refused(1201, "a shot prompt is 1-512 characters")
                    if not isinstance(shot.get("duration"), str) or int(shot["duration"]) < 1:
                        raise Refused(1201, "a shot duration is a string of at least 1")
                    texts.append(shot["prompt"])
                if sum(int(s["duration"]) for s in shots) != duration:
                    raise Refused(1201, "the shots' durations must add up to duration")
        else:
            prompt = body.get("prompt")
            if not isinstance(prompt, str) or not 0 < len(prompt) <= 2500:
                raise Refused(1201, "prompt is required, up to 2500 characters")
            texts.append(prompt)
        for n, image in enumerate(images):
            _b64_image(image.get("image_url"), f"image_list[{n}]")
        if len(videos) > 1:
            raise Refused(1201, "video_list takes at most 1 video")
        base = any(v.get("refer_type", "base") == "base" for v in videos)
        if videos:
            if body.get("sound", "off") != "off":
                raise Refused(1201, "sound must be off with a video")
            if len(images) + len(elements) > 4:
                raise Refused(1201, "with a video, images + elements must be at most 4")
            if any(e["reference_type"] == "video_refer" for e in elements):
                raise Refused(1201, "with a video, no video character elements")
        if model == "kling-video-o1" and any(
            e["reference_type"] == "video_refer" for e in elements
        ):
            raise Refused(1201, "kling-video-o1 takes multi-image elements only")
            if base and frames:
                raise Refused(1201, "frames exclude video editing")
        elif len(images) + len(elements) > 7:
            raise Refused(1201, "images + elements must be at most 7")
        first = any(i.get("type") == "first_frame" for i in images)
        if any(i.get("type") == "end_frame" for i in images) and not first:
            raise Refused(1201, "an end frame needs a first frame")
        if first or base:
            if "aspect_ratio" in body:
                raise Refused(1201, "aspect_ratio is not supported with a first frame or base")
        elif body.get("aspect_ratio") not in ("16:9", "9:16", "1:1"):
            raise Refused(1201, "aspect_ratio is required")
        self._references(
            texts,
            {"element": len(elements), "image": len(images), "video": len(videos)},
        )

    def _validate_image2video(self, body: dict[str, Any]) -> None:
        if not body.get("image") and not body.get("image_tail"):
            raise Refused(1201, "image or image_tail is required")
        for key in ("image", "image_tail"):
            if body.get(key):
                _b64_image(body[key], key)
        elements = body.get("element_list") or []
        if elements and body.get("voice_list"):
            raise Refused(1201, "element_list and voice_list are mutually exclusive")
        if len(self._known_elements(elements, "element_list")) > 3:
            raise Refused(1201, "element_list takes at most 3 elements")

    def _validate_text2video(self, body: dict[str, Any]) -> None:
        if "element_list" in body:
            raise Refused(1201, "element_list is not supported")

    def _validate_omni_image(self, body: dict[str, Any]) -> None:
        prompt = body.get("prompt")
        if not isinstance(prompt, str) or not 0 < len(prompt) <= 2500:
            raise Refused(1201, "prompt is required, up to 2500 characters")
        images = body.get("image_list") or []
        for n, image in enumerate(images):
            _b64_image(image.get("image"), f"image_list[{n}]")
        elements = self._known_elements(body.get("element_list") or [], "element_list")
        if len(images) + len(elements) > 10:
            raise Refused(1201, "images + elements must be at most 10")
        if not 1 <= int(body.get("n") or 1) <= 9:
            raise Refused(1201, "n must be 1-9")
        self._references([prompt], {"element": len(elements), "image": len(images), "video": 0})
