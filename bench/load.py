"""Load: N concurrent GraphQL clients for a bounded time against `manage.py serve`, and the
same load against Django's `runserver` (what `serve` ran before) in the same run.

    python bench/load.py                          # 50, 100 and 200 clients, 30 s each
    python bench/load.py --clients 200 --duration 10 --servers serve

Each server runs against its own throwaway SQLite database in a temporary folder (migrated,
`seed_demo`'s demo library, an API token), started as `make run` starts it (DEBUG on, the
clusters beside it), on a free port of 127.0.0.1; nothing leaves the machine. All servers
are up at once and take turns at each client count (`--rounds` turns each, alternating), so
the drift of a shared machine hits them alike. Each
client holds one keep-alive connection and sends, one after another until the time is up, a
mix of four token-authenticated queries (`me`, `elements(first: 20)`, `mentionSuggestions`,
`generationPromptPreview`). A request unanswered after `--timeout` seconds is a timeout;
a refused or reset connection, a status other than 200 or a GraphQL `errors` entry is an
error. Latency percentiles are over every answered request, errors included. The client is
one asyncio process with raw sockets, so it takes as little of the machine's CPU as it can.

Prints one table (req/s, p50/p95/p99, errors, timeouts per server and client count) and the
ratio of `serve`'s req/s to `runserver`'s; see bench/README.md ("Load").
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MANAGE = ROOT / "manage.py"
HOST = "127.0.0.1"
START_TIMEOUT = 60.0

QUERIES = {
    "me": "{ me { username creditBalance elementCount elementLimit } }",
    "elements": (
        "{ elements(first: 20) { edges { node { id name type status version "
        "images { role url thumbnailUrl } voice { name } } } pageInfo { hasNextPage } } }"
    ),
    "mentionSuggestions": (
        '{ mentionSuggestions(query: "Li", first: 10) { id name type match mention } }'
    ),
    "generationPromptPreview": (
        "{ generationPromptPreview(input: { model: VIDEO_3_0_OMNI, prompt: "
        '"Shot 1 (3s): [@Little Scholar] walks into [@Tokyo Street]. Shot 2 (4s): '
        '[@Little Scholar] says, \\"I see food, and I eat it.\\" Shot 3 (3s): The camera '
        'pulls back over [@Tokyo Street]." }) { ok price totalDuration '
        "elements { name } shots { index duration } issues { code message } } }"
    ),
}


# --- the servers --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def server_env(data: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"REDIS_URL", "Q_SYNC", "MEDIA_ROOT", "STATIC_ROOT", "DATABASE_URL"}
        and not key.startswith("AWS_")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="elementsite.settings",
        DATABASE_URL=f"sqlite:///{data / 'load.sqlite3'}",
        DATA_DIR=str(data),
        DEBUG="1",  # as `make run`
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    return env


def manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(  # noqa: S603 (our interpreter, our manage.py, fixed arguments)
        [sys.executable, str(MANAGE), *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return done.stdout


def serve_supports_server_flag(env: dict[str, str]) -> bool:
    return "--server" in manage(env, "serve", "--help")


@dataclass
class Server:
    name: str
    args: list[str]
    env: dict[str, str]
    log: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.port = free_port()
        command = [part.format(host=HOST, port=self.port) for part in self.args]
        with self.log.open("ab") as log:
            # Our interpreter, fixed arguments and a port we chose.
            self.process = subprocess.Popen(  # noqa: S603
                [sys.executable, *command],
                env=self.env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # `serve` stops its children itself
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=30)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


# --- the clients ----------------------------------------------------------------------------


@dataclass
class Results:
    latencies: list[float] = field(default_factory=list)
    ok: int = 0
    errors: int = 0
    timeouts: int = 0
    kinds: dict[str, int] = field(default_factory=dict)

    def error(self, kind: str) -> None:
        self.errors += 1
        self.kinds[kind] = self.kinds.get(kind, 0) + 1


class HttpError(Exception):
    pass


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """Status, body, and whether the server keeps the connection open."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/"):
        raise HttpError("not an HTTP answer")
    status = int(parts[1])
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    keep = parts[0] == "HTTP/1.1" and headers.get("connection", "").lower() != "close"
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        chunks = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                break
            chunks.append(await reader.readexactly(size))
            await reader.readexactly(2)
        body = b"".join(chunks)
    else:
        body = await reader.read()
        keep = False
    return status, body, keep


def request_bytes(port: int, token: str, query: str) -> bytes:
    body = json.dumps({"query": query}).encode()
    head = (
        f"POST /graphql HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def client(
    number: int, port: int, token: str, deadline: float, timeout: float, results: Results
) -> None:
    requests = [request_bytes(port, token, query) for query in QUERIES.values()]
    turn = number  # clients start at different queries, so the mix is even at every moment
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    while time.monotonic() < deadline:
        payload = requests[turn % len(requests)]
        turn += 1
        started = time.monotonic()
        try:
            async with asyncio.timeout(timeout):
                if writer is None:
                    reader, writer = await asyncio.open_connection(HOST, port)
                assert reader is not None
                writer.write(payload)
                await writer.drain()
                status, body, keep = await read_response(reader)
        except TimeoutError:
            results.timeouts += 1
            await close(writer)
            writer = None
            continue
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, HttpError):
            results.error("connection")
            results.latencies.append(time.monotonic() - started)
            await close(writer)
            writer = None
            await asyncio.sleep(0.05)  # a refused connect is not retried in a tight loop
            continue
        results.latencies.append(time.monotonic() - started)
        if status != 200:
            results.error(f"HTTP {status}")
        else:
            try:
                answer = json.loads(body)
            except ValueError:
                results.error("not JSON")
            else:
                if answer.get("errors") or not answer.get("data"):
                    results.error("GraphQL errors")
                else:
                    results.ok += 1
        if not keep:
            await close(writer)
            writer = None
    await close(writer)


async def close(writer: asyncio.StreamWriter | None) -> None:
    if writer is not None:
        writer.close()
        with contextlib.suppress(OSError, asyncio.TimeoutError):
            await asyncio.wait_for(writer.wait_closed(), 1)


async def load(
    port: int, token: str, clients: int, duration: float, timeout: float
) -> tuple[Results, float]:
    results = Results()
    started = time.monotonic()
    deadline = started + duration
    await asyncio.gather(
        *(client(n, port, token, deadline, timeout, results) for n in range(clients))
    )
    return results, time.monotonic() - started


# --- the run ----------------------------------------------------------------------------------


@dataclass
class Row:
    server: str
    clients: int
    seconds: float
    results: Results

    @property
    def rps(self) -> float:
        return self.results.ok / self.seconds

    def percentile(self, q: float) -> float:
        values = sorted(self.results.latencies)
        if not values:
            return float("nan")
        return values[min(len(values) - 1, int(q * len(values)))]


def wait_ready(server: Server, token: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        assert server.process is not None
        if server.process.poll() is not None:
            raise SystemExit(f"{server.name} exited:\n{server.log.read_text()[-3000:]}")
        results, _ = asyncio.run(load(server.port, token, 1, 0.01, 3))
        if results.ok:
            return
        time.sleep(0.5)
    raise SystemExit(f"{server.name} did not answer within {START_TIMEOUT:.0f} s")


def merge(rows: list[Row]) -> Row:
    """One row for several rounds of one server and client count."""
    merged = Results()
    for row in rows:
        merged.latencies += row.results.latencies
        merged.ok += row.results.ok
        merged.errors += row.results.errors
        merged.timeouts += row.results.timeouts
        for kind, count in row.results.kinds.items():
            merged.kinds[kind] = merged.kinds.get(kind, 0) + count
    return Row(rows[0].server, rows[0].clients, sum(r.seconds for r in rows), merged)


def run_all(
    servers: list[tuple[Server, str]],
    levels: list[int],
    duration: float,
    rounds: int,
    timeout: float,
    pause: float,
) -> list[Row]:
    """Every server is up at once (the idle ones cost their clusters' polling); for each
    client count, the servers take turns, `rounds` times each (the order alternating), so
    the drift of a shared machine hits all of them alike."""
    for server, _ in servers:
        server.start()
    try:
        for server, token in servers:
            wait_ready(server, token)
            asyncio.run(load(server.port, token, 10, 3, timeout))  # warm every worker up
        rows = []
        for clients in levels:
            done: dict[str, list[Row]] = {server.name: [] for server, _ in servers}
            for turn in range(rounds):
                order = servers if turn % 2 == 0 else servers[::-1]
                for server, token in order:
                    time.sleep(pause)  # the previous turn's stragglers drain
                    results, seconds = asyncio.run(
                        load(server.port, token, clients, duration / rounds, timeout)
                    )
                    done[server.name].append(Row(server.name, clients, seconds, results))
            for server, _ in servers:
                rows.append(merge(done[server.name]))
                print(format_row(rows[-1]), flush=True)
    finally:
        for server, _ in servers:
            server.stop()
    return rows


HEADER = (
    f"{'server':<10} {'clients':>7} {'req/s':>8} {'p50 s':>7} {'p95 s':>7} {'p99 s':>7} "
    f"{'requests':>9} {'errors':>7} {'timeouts':>8}"
)


def format_row(row: Row) -> str:
    r = row.results
    kinds = ", ".join(f"{k}: {v}" for k, v in sorted(r.kinds.items()))
    return (
        f"{row.server:<10} {row.clients:>7} {row.rps:>8.1f} {row.percentile(0.50):>7.3f} "
        f"{row.percentile(0.95):>7.3f} {row.percentile(0.99):>7.3f} "
        f"{r.ok + r.errors + r.timeouts:>9} {r.errors:>7} {r.timeouts:>8}"
        + (f"  ({kinds})" if kinds else "")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", default="50,100,200", help="client counts, comma-separated")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds per client count")
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="turns each server takes per client count (the duration is split between them)",
    )
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds before a timeout")
    parser.add_argument("--pause", type=float, default=3.0, help="seconds between levels")
    parser.add_argument(
        "--servers",
        default="runserver,serve",
        help="which to load: serve (the default server), runserver (the baseline), gunicorn "
        "(installed by hand, for comparison)",
    )
    parser.add_argument("--json", type=Path, help="also write the rows to this file")
    options = parser.parse_args()
    levels = [int(n) for n in options.clients.split(",") if n.strip()]
    names = [n.strip() for n in options.servers.split(",") if n.strip()]
    unknown = set(names) - {"serve", "runserver", "gunicorn"}
    if unknown or not levels or min(levels) < 1 or options.duration <= 0 or options.rounds < 1:
        parser.error(f"bad arguments: {sorted(unknown) or options.clients}")

    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="elementsite-load-") as tmp:
        print(
            f"load: {levels} clients x {options.duration:.0f} s "
            f"({options.rounds} turn(s) per server), timeout {options.timeout} s"
        )
        print(HEADER, flush=True)
        servers: list[tuple[Server, str]] = []
        for name in names:
            data = Path(tmp) / name
            data.mkdir()
            env = server_env(data)
            manage(env, "migrate", "--noinput")
            manage(env, "seed_demo", "--if-empty")
            token = manage(env, "createapitoken", "demo").strip().splitlines()[-1]
            serve = [str(MANAGE), "serve", "--host", "{host}", "--port", "{port}"]
            if name == "serve":
                args = serve
            elif name == "gunicorn":
                # For comparison only (not a dependency): the same WSGI application, as many
                # processes and threads as `serve` gives granian; no cluster beside it (idle, they
                # cost a few queries a second).
                args = [
                    "-m", "gunicorn", "elementsite.wsgi:application", "--bind", "{host}:{port}",
                    "--workers", env.get("WEB_WORKERS", "2"), "--worker-class", "gthread",
                    "--threads", env.get("WEB_THREADS", "8"), "--log-level", "warning",
                ]  # fmt: skip
            elif serve_supports_server_flag(env):
                args = [*serve, "--server", "runserver"]
            else:
                args = serve  # before `serve` had a real server: it ran runserver
            servers.append((Server(name, args, env, data / "server.log"), token))
        rows = run_all(
            servers, levels, options.duration, options.rounds, options.timeout, options.pause
        )

    print("\n" + HEADER)
    for row in rows:
        print(format_row(row))
    by_key = {(row.server, row.clients): row for row in rows}
    ratios = []
    for clients in levels:
        subject, baseline = by_key.get(("serve", clients)), by_key.get(("runserver", clients))
        if subject and baseline and baseline.rps > 0:
            ratios.append(subject.rps / baseline.rps)
            print(f"{clients:>4} clients: serve / runserver req/s = {ratios[-1]:.2f}x")
    if ratios:
        print(f"median ratio {statistics.median(ratios):.2f}x")
    if options.json:
        options.json.write_text(
            json.dumps(
                [
                    {
                        "server": r.server,
                        "clients": r.clients,
                        "rps": round(r.rps, 1),
                        "p50": r.percentile(0.5),
                        "p95": r.percentile(0.95),
                        "p99": r.percentile(0.99),
                        "errors": r.results.errors,
                        "timeouts": r.results.timeouts,
                        "error_kinds": r.results.kinds,
                    }
                    for r in rows
                ],
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
