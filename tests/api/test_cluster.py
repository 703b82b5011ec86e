"""Cluster mode: `serve --database URL` serves the API only; `swapline worker` and `swapline
coordinator` processes on the same PostgreSQL store render and join what it queues."""
import os
import subprocess
import tempfile
from pathlib import Path

from conftest import ROOT, SAMPLES, SWAPLINE, Server, decoded, free_port, make_clip, swap_cli


def test_the_api_over_postgresql_with_separate_worker_and_coordinator(workspace):
    pg = Path(tempfile.mkdtemp(prefix="swapline-pg-"))
    url = subprocess.run([str(ROOT / "scripts" / "pgtest.sh"), "start", str(pg), str(free_port()), str(os.getpid())],
                         capture_output=True, text=True, check=True).stdout.strip()
    data = workspace / "cluster-data"
    server = Server(data, ["--database", url])
    others = []
    try:
        server.start()
        storage = ["--database", url, "--storage", str(data / "segments"), "--poll-interval", "0.2"]
        for role in ("worker", "coordinator"):
            others.append(subprocess.Popen([SWAPLINE, role, *storage], cwd=ROOT, stdout=server.log, stderr=subprocess.STDOUT))
        tenant = subprocess.run([SWAPLINE, "tenants", "create", "clustered", "--database", url, "--json"], cwd=ROOT,
                                capture_output=True, text=True, check=True).stdout
        key = __import__("json").loads(tenant)["api_key"]
        source = server.upload(key, SAMPLES / "grace_hopper.jpg")
        clip = make_clip(workspace / "cluster.mp4", seconds=2, size="320x240")
        target = server.upload(key, clip)
        job = server.submit(key, {"sources": [source["id"]], "target": target["id"], "options": {"video": {"chunkSize": 25}}})
        finished = server.wait(key, job["id"])
        assert finished["status"] == "succeeded", (finished, server.log_text())
        output = server.request("GET", finished["output"]["url"], key=key)
        (workspace / "cluster-api.mp4").write_bytes(output.body)
        swap_cli("-s", SAMPLES / "grace_hopper.jpg", "-t", clip, "-o", workspace / "cluster-cli.mp4", "--chunk-size", "25")
        assert decoded(workspace / "cluster-api.mp4") == decoded(workspace / "cluster-cli.mp4")
        image = server.submit(key, {"sources": [source["id"]], "target": server.upload(key, SAMPLES / "astronaut.png")["id"]},
                              headers={"Prefer": "wait=60"})
        assert image["status"] == "succeeded"
    finally:
        for process in others:
            process.terminate()
            process.wait(timeout=30)
        server.stop()
        subprocess.run([str(ROOT / "scripts" / "pgtest.sh"), "stop", str(pg)], capture_output=True)
