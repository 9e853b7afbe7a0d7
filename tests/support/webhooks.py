"""A real HTTP receiver on 127.0.0.1 for webhook tests, and the README's verification code.

The receiver answers from a script of behaviours ("200", "500", "hang"), the last one
repeating, and keeps every request it got (headers, raw body). A hanging answer waits,
without replying, until the test ends.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_verify_function() -> Callable[..., bool]:
    """`verify_webhook` exactly as README.md shows it under "Verifying a signature"."""
    text = README.read_text()
    section = text.split("### Verifying a signature", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match is not None, "README.md has no Python snippet under 'Verifying a signature'"
    namespace: dict[str, Any] = {}
    exec(compile(match.group(1), "README.md", "exec"), namespace)  # noqa: S102
    return namespace["verify_webhook"]


@dataclass
class Received:
    path: str
    headers: Message
    body: bytes


@dataclass
class Receiver:
    server: ThreadingHTTPServer
    script: list[str]
    requests: list[Received] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def url(self, path: str = "/hooks", host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def next_behaviour(self) -> str:
        with self.lock:
            return self.script.pop(0) if len(self.script) > 1 else self.script[0]


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            with receiver.lock:
                receiver.requests.append(Received(self.path, self.headers, body))
            behaviour = receiver.next_behaviour()
            if behaviour == "hang":
                receiver.release.wait(timeout=30)
                return
            status = int(behaviour)
            answer = b'{"received": true}' if status < 300 else b"receiver broke"
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


def start_receiver(script: list[str]) -> Iterator[Receiver]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), lambda *a: None)  # type: ignore[arg-type]
    receiver = Receiver(server=server, script=list(script))
    server.RequestHandlerClass = _handler(receiver)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.release.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def verify_webhook(secret: str, headers: Any, body: bytes, **kwargs: Any) -> bool:
    """Check a delivery with the README's own function, as a client author would paste it."""
    return readme_verify_function()(secret, headers, body, **kwargs)
