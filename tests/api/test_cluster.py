"""Cluster mode: `serve --database URL` serves the API only; `swapline worker` and `swapline
coordinator` processes on the same PostgreSQL store render and join what it queues."""
import subprocess

from conftest import ROOT, SAMPLES, SWAPLINE, api_cluster, decoded, make_clip, swap_cli


def test_the_api_over_postgresql_with_separate_worker_and_coordinator(workspace):
    with api_cluster(workspace / "cluster-data") as (server, url):
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
