"""The store holds the truth: a killed server resumes its jobs; webhooks arrive once, signed."""
import base64
import hashlib
import hmac
import http.server
import json
import signal
import threading
import time

from conftest import SAMPLES, Server, make_clip


def test_kill_9_mid_job_then_restart_completes_the_job(workspace):
    server = Server(workspace / "crash-data", ["--lease-seconds", "3"]).start()
    key = server.tenant("crash")["api_key"]
    source = server.upload(key, SAMPLES / "grace_hopper.jpg")
    target = server.upload(key, make_clip(workspace / "crash.mp4", seconds=8, size="320x240"))
    job = server.submit(key, {"sources": [source["id"]], "target": target["id"], "options": {"video": {"chunkSize": 20}}})
    deadline = time.time() + 120
    while time.time() < deadline and server.job(key, job["id"])["progress"]["chunks"]["done"] < 2:
        time.sleep(0.1)
    progress = server.job(key, job["id"])["progress"]
    assert 2 <= progress["chunks"]["done"] < 10, progress
    server.stop(signal.SIGKILL)

    restarted = Server(workspace / "crash-data", ["--lease-seconds", "3"])
    restarted.port = server.port
    restarted.start()
    try:
        finished = restarted.wait(key, job["id"])
        assert finished["status"] == "succeeded", finished
        assert finished["progress"]["frames_done"] == 200
        output = restarted.request("GET", finished["output"]["url"], key=key)
        assert output.status == 200 and len(output.body) == finished["output"]["size"]
    finally:
        restarted.stop()


class FlakyReceiver(http.server.BaseHTTPRequestHandler):
    """Refuses the first two deliveries (503), accepts the rest, and records every request."""
    received = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        FlakyReceiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(503 if len(FlakyReceiver.received) <= 2 else 204)
        self.end_headers()

    def log_message(self, *args):
        pass


def verify(secret, headers, body):
    """Standard Webhooks verification, as a receiver would do it."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(part == f"v1,{expected}" for part in headers["webhook-signature"].split(" "))


def test_a_webhook_that_fails_twice_then_accepts_gets_the_event_once_signed(server):
    receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FlakyReceiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    try:
        tenant = server.tenant("hooked")
        key = tenant["api_key"]
        source = server.upload(key, SAMPLES / "grace_hopper.jpg")
        target = server.upload(key, SAMPLES / "astronaut.png")
        url = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
        job = server.submit(key, {"sources": [source["id"]], "target": target["id"],
                                  "webhook": {"url": url, "events": ["job.succeeded"]}}, headers={"Prefer": "wait=60"})
        assert job["status"] == "succeeded" and job["webhook"] == {"url": url, "events": ["job.succeeded"]}
        deadline = time.time() + 30
        while time.time() < deadline and len(FlakyReceiver.received) < 3:
            time.sleep(0.2)
        time.sleep(2)  # a fourth (duplicate) delivery would arrive by now
        assert len(FlakyReceiver.received) == 3, [h.get("webhook-id") for h, _ in FlakyReceiver.received]
        ids = {headers["webhook-id"] for headers, _ in FlakyReceiver.received}
        assert len(ids) == 1  # the same message retried, not three events
        for headers, body in FlakyReceiver.received:
            assert verify(tenant["webhook_secret"], headers, body)
            assert not verify("whsec_" + base64.b64encode(b"x" * 24).decode(), headers, body)
        event = json.loads(FlakyReceiver.received[-1][1])
        assert event["type"] == "job.succeeded" and event["data"]["id"] == job["id"] and event["data"]["status"] == "succeeded"
    finally:
        receiver.shutdown()


def test_retention_deletes_expired_assets_and_outputs(workspace):
    server = Server(workspace / "retention-data", ["--retention", "3s"]).start()
    try:
        key = server.tenant("brief")["api_key"]
        source = server.upload(key, SAMPLES / "grace_hopper.jpg")
        target = server.upload(key, SAMPLES / "astronaut.png")
        job = server.submit(key, {"sources": [source["id"]], "target": target["id"]}, headers={"Prefer": "wait=60"})
        assert job["status"] == "succeeded"
        assert list((server.data / "assets").rglob("*.jpg")) and list((server.data / "outputs").rglob("output.png"))
        deadline = time.time() + 20
        while time.time() < deadline and server.request("GET", f"/v1/assets/{source['id']}", key=key).status != 404:
            time.sleep(0.5)
        assert server.request("GET", f"/v1/assets/{source['id']}", key=key).status == 404
        while time.time() < deadline and server.request("GET", job["output"]["url"], key=key).status != 410:
            time.sleep(0.5)
        gone = server.request("GET", job["output"]["url"], key=key)
        assert gone.status == 410 and gone.json()["error"]["code"] == "expired"
        assert not list((server.data / "assets").rglob("*.jpg")) and not list((server.data / "outputs").rglob("output.png"))
    finally:
        server.stop()
