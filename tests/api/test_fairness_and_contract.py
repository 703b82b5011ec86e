"""Fair claims between tenants; the OpenAPI document is valid and the live server keeps to it."""
import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import SAMPLES, make_clip


def test_a_later_short_job_of_another_tenant_starts_before_the_first_tenants_third(server, workspace):
    a = server.tenant("busy")["api_key"]
    b = server.tenant("quick")["api_key"]
    clip = make_clip(workspace / "fair.mp4", seconds=1, size="320x240", audio=False)
    jobs_a = []
    source_a, target_a = server.upload(a, SAMPLES / "grace_hopper.jpg"), server.upload(a, clip)
    source_b, target_b = server.upload(b, SAMPLES / "grace_hopper.jpg"), server.upload(b, clip)
    for _ in range(6):
        jobs_a.append(server.submit(a, {"sources": [source_a["id"]], "target": target_a["id"]})["id"])
    job_b = server.submit(b, {"sources": [source_b["id"]], "target": target_b["id"]})["id"]
    finished_a = [server.wait(a, job, timeout=300) for job in jobs_a]
    finished_b = server.wait(b, job_b, timeout=300)
    assert all(job["status"] == "succeeded" for job in finished_a + [finished_b])
    started_a = sorted(job["started_at"] for job in finished_a)
    assert finished_b["started_at"] < started_a[2], (finished_b["started_at"], started_a)


def test_the_openapi_document_is_valid(server, workspace):
    response = server.request("GET", "/openapi.json")
    assert response.status == 200
    document = workspace / "openapi.json"
    document.write_bytes(response.body)
    spec = json.loads(response.body)
    assert "/v1/jobs/{id}/events" in spec["paths"]
    result = subprocess.run([sys.executable, "-m", "openapi_spec_validator", str(document)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_schemathesis_finds_no_server_error_and_no_schema_violation(server, workspace):
    key = server.tenant("fuzzer")["api_key"]
    # Something for the fuzzer to find: an asset and a finished job of its own.
    source = server.upload(key, SAMPLES / "grace_hopper.jpg")
    target = server.upload(key, SAMPLES / "astronaut.png")
    server.submit(key, {"sources": [source["id"]], "target": target["id"]}, headers={"Prefer": "wait=60"})
    schemathesis = Path(sys.executable).parent / "schemathesis"
    result = subprocess.run(
        [str(schemathesis), "run", f"http://127.0.0.1:{server.port}/openapi.json", "--header", f"Authorization: Bearer {key}",
         "--checks", "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance",
         "--max-examples", os.environ.get("SCHEMATHESIS_EXAMPLES", "15"), "--exclude-path-regex", "/events$",
         "--request-timeout", "30", "--workers", "1", "--seed", "1"],
        capture_output=True, text=True, timeout=600, cwd=workspace)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]


def test_metrics_count_requests_by_route(server):
    server.request("GET", "/healthz")
    text = server.request("GET", "/metrics").body.decode()
    assert 'swapline_api_requests_total{method="GET",route="/healthz",status="200"}' in text
    assert "swapline_chunks{" in text
