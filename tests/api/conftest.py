"""A real `swapline serve` on loopback for the API tests, with tenants made by the real CLI.

Each test module gets its own server (own data folder, own SQLite store, free port). The tests talk
HTTP to it with the standard library only (http.client), so what is tested is what a client sees.
"""
import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SWAPLINE = os.environ.get("SWAPLINE_BIN", str(ROOT / ".build" / "release" / "swapline"))
SAMPLES = ROOT / "samples"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Response:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        return json.loads(self.body)

    def header(self, name):
        return self.headers.get(name.lower())


class Server:
    """One `swapline serve` process and the HTTP calls the tests make to it."""

    def __init__(self, data, extra_args=()):
        self.data = Path(data)
        self.port = free_port()
        self.extra_args = list(extra_args)
        self.process = None
        self.log = open(self.data.parent / f"serve-{self.port}.log", "ab")

    def start(self):
        self.process = subprocess.Popen(
            [SWAPLINE, "serve", "--data-dir", str(self.data), "--port", str(self.port)] + self.extra_args,
            cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while time.time() < deadline:
            assert self.process.poll() is None, f"swapline serve exited with {self.process.returncode}: {self.log_text()}"
            try:
                if self.request("GET", "/healthz").status == 200:
                    return self
            except OSError:
                time.sleep(0.1)
        raise AssertionError("swapline serve did not answer /healthz within 60 s")

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def stop(self, sig=signal.SIGTERM):
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=30)

    def log_text(self):
        self.log.flush()
        return Path(self.log.name).read_text(errors="replace")[-4000:]

    def tenant(self, name, *args):
        out = subprocess.run([SWAPLINE, "tenants", "create", name, "--data-dir", str(self.data), "--json", *args],
                             cwd=ROOT, capture_output=True, text=True, check=True).stdout
        return json.loads(out)

    def request(self, method, path, body=None, key=None, headers=None, timeout=60):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        all_headers = dict(headers or {})
        if key:
            all_headers["Authorization"] = f"Bearer {key}"
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            all_headers.setdefault("Content-Type", "application/json")
        try:
            chunked = body is not None and not isinstance(body, (bytes, str))
            connection.request(method, path, body=body, headers=all_headers, encode_chunked=chunked)
            response = connection.getresponse()
            return Response(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
        finally:
            connection.close()

    def upload(self, key, path_or_bytes, expect=201):
        body = path_or_bytes if isinstance(path_or_bytes, bytes) else Path(path_or_bytes).read_bytes()
        response = self.request("POST", "/v1/assets", body=body, key=key, headers={"Content-Type": "application/octet-stream"})
        assert response.status == expect, (response.status, response.body)
        return response.json()

    def submit(self, key, body, headers=None, expect=201):
        response = self.request("POST", "/v1/jobs", body=body, key=key, headers=headers)
        assert response.status == expect, (response.status, response.body)
        return response.json()

    def job(self, key, job_id):
        response = self.request("GET", f"/v1/jobs/{job_id}", key=key)
        assert response.status == 200, (response.status, response.body)
        return response.json()

    def wait(self, key, job_id, statuses=("succeeded", "failed", "canceled"), timeout=180):
        deadline = time.time() + timeout
        while time.time() < deadline:
            job = self.job(key, job_id)
            if job["status"] in statuses:
                return job
            time.sleep(0.2)
        raise AssertionError(f"job {job_id} did not reach {statuses} in {timeout} s: {job}\n{self.log_text()}")

    def events(self, key, job_id, timeout=180):
        """Reads the job's server-sent events to the end of the stream: [(event, data), ...]."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        connection.request("GET", f"/v1/jobs/{job_id}/events", headers={"Authorization": f"Bearer {key}"})
        response = connection.getresponse()
        assert response.status == 200, response.read()
        assert response.getheader("Content-Type").startswith("text/event-stream")
        events, event, data = [], None, []
        for raw in response:
            line = raw.decode().rstrip("\n")
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                data.append(line[6:])
            elif line == "" and event:
                events.append((event, json.loads("\n".join(data))))
                event, data = None, []
        connection.close()
        return events


@pytest.fixture(scope="module")
def workspace():
    with tempfile.TemporaryDirectory(prefix="swapline-api-") as folder:
        yield Path(folder)


@pytest.fixture(scope="module")
def server(workspace):
    with Server(workspace / "data") as server:
        yield server


@contextlib.contextmanager
def api_cluster(data, roles=("worker", "coordinator"), metrics_ports=None):
    """A PostgreSQL server of its own (scripts/pgtest.sh), `serve --database` on it (API only) and
    a `swapline` process for each of `roles` rendering and joining what it queues; yields (server,
    database URL) and stops everything afterwards. `metrics_ports`: role -> port for --metrics-port."""
    pg = Path(tempfile.mkdtemp(prefix="swapline-pg-"))
    url = subprocess.run([str(ROOT / "scripts" / "pgtest.sh"), "start", str(pg), str(free_port()), str(os.getpid())],
                         capture_output=True, text=True, check=True).stdout.strip()
    server = Server(data, ["--database", url])
    others = []
    try:
        server.start()
        cluster = ["--database", url, "--storage", str(Path(data) / "segments"), "--poll-interval", "0.2"]
        for role in roles:
            metrics = ["--metrics-port", str(metrics_ports[role])] if metrics_ports and role in metrics_ports else []
            others.append(subprocess.Popen([SWAPLINE, role, *cluster, *metrics], cwd=ROOT, stdout=server.log, stderr=subprocess.STDOUT))
        yield server, url
    finally:
        for process in others:
            process.terminate()
            process.wait(timeout=30)
        server.stop()
        subprocess.run([str(ROOT / "scripts" / "pgtest.sh"), "stop", str(pg)], capture_output=True)


def make_clip(path, seconds=4, size="640x360", audio=True):
    """A clip made from the samples: the astronaut drifting over a grey frame (and a tone)."""
    side = int(size.split("x")[1]) * 3 // 4
    inputs = ["-f", "lavfi", "-i", f"color=c=0x404040:s={size}:r=25:d={seconds}", "-loop", "1", "-i", str(SAMPLES / "astronaut.png")]
    maps = ["-map", "[v]"]
    if audio:
        inputs += ["-f", "lavfi", "-i", f"sine=frequency=330:duration={seconds}"]
        maps += ["-map", "2:a", "-c:a", "aac"]
    subprocess.run(["ffmpeg", "-v", "error", "-y", *inputs, "-filter_complex",
                    f"[1]scale={side}:{side}[f];[0][f]overlay=x='20+20*t':y='10+8*sin(t)':shortest=1,format=yuv420p[v]",
                    *maps, "-t", str(seconds), "-c:v", "libx264", "-preset", "veryfast", str(path)], check=True)
    return path


def decoded(path, *extra):
    """Every frame's (and audio packet's) MD5 after decoding, without the header lines."""
    out = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), *extra, "-f", "framemd5", "-"],
                         capture_output=True, text=True, check=True).stdout
    return [line for line in out.splitlines() if not line.startswith("#")]


def swap_cli(*args):
    """The CLI's own result for the same swap, run from the repository (where ./models is)."""
    subprocess.run([SWAPLINE, "swap", *map(str, args)], cwd=ROOT, check=True, capture_output=True)
