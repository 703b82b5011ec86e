"""Keys, tenant isolation, limits and input validation, against the real server."""
import struct
import time
import zlib

import pytest

from conftest import SAMPLES, Server, make_clip


@pytest.fixture(scope="module")
def tenants(server):
    a = server.tenant("tenant-a", "--max-upload-bytes", "2000000")
    b = server.tenant("tenant-b")
    source = server.upload(a["api_key"], SAMPLES / "grace_hopper.jpg")
    target = server.upload(a["api_key"], SAMPLES / "astronaut.png")
    job = server.submit(a["api_key"], {"sources": [source["id"]], "target": target["id"]}, headers={"Prefer": "wait=60"})
    assert job["status"] == "succeeded"
    return a, b, source, target, job


def files_under(folder):
    return sorted(str(p) for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def test_no_key_or_a_wrong_key_is_401(server, tenants):
    a, _, _, _, job = tenants
    for key in (None, "sl_nope_nope", a["api_key"][:-2] + "xx", "Basic abc"):
        for method, path in (("GET", "/v1/jobs"), ("GET", f"/v1/jobs/{job['id']}"), ("POST", "/v1/assets"), ("GET", "/v1/models")):
            response = server.request(method, path, key=key, body=b"x" if method == "POST" else None)
            assert response.status == 401, (key, path, response.body)
            assert response.json()["error"]["code"] == "unauthorized"


def test_a_disabled_tenant_and_a_rotated_key_are_refused(server, workspace):
    import subprocess
    from conftest import ROOT, SWAPLINE
    tenant = server.tenant("rotating")
    assert server.request("GET", "/v1/jobs", key=tenant["api_key"]).status == 200
    new_key = subprocess.run([SWAPLINE, "tenants", "rotate-key", tenant["id"], "--data-dir", str(server.data)], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout.split("api key: ")[1].strip()
    time.sleep(1.2)  # the server remembers a key's tenant for 1 s
    assert server.request("GET", "/v1/jobs", key=tenant["api_key"]).status == 401
    assert server.request("GET", "/v1/jobs", key=new_key).status == 200
    subprocess.run([SWAPLINE, "tenants", "disable", "rotating", "--data-dir", str(server.data)], cwd=ROOT, check=True, capture_output=True)
    time.sleep(1.2)
    assert server.request("GET", "/v1/jobs", key=new_key).status == 401


def test_another_tenants_job_and_assets_are_not_found(server, tenants):
    a, b, source, target, job = tenants
    key_b = b["api_key"]
    for method, path in (("GET", f"/v1/jobs/{job['id']}"), ("POST", f"/v1/jobs/{job['id']}/cancel"),
                         ("POST", f"/v1/jobs/{job['id']}/retry"), ("GET", f"/v1/jobs/{job['id']}/output"),
                         ("GET", f"/v1/jobs/{job['id']}/events"), ("DELETE", f"/v1/jobs/{job['id']}"),
                         ("GET", f"/v1/assets/{source['id']}"), ("GET", f"/v1/assets/{source['id']}/content")):
        response = server.request(method, path, key=key_b)
        assert response.status == 404, (method, path, response.status)
        assert response.json()["error"]["code"] == "not_found"
    assert job["id"] not in [j["id"] for j in server.request("GET", "/v1/jobs", key=key_b).json()["data"]]
    # A job naming tenant A's assets, submitted by B.
    response = server.request("POST", "/v1/jobs", key=key_b, body={"sources": [source["id"]], "target": target["id"]})
    assert response.status == 404 and response.json()["error"]["field"] == "sources[0]"
    own = server.upload(key_b, SAMPLES / "grace_hopper.jpg")
    response = server.request("POST", "/v1/jobs", key=key_b, body={"sources": [own["id"]], "target": target["id"]})
    assert response.status == 404 and response.json()["error"]["field"] == "target"
    # A's job is untouched, and A's own asset is A's to read, whole or in part.
    assert server.job(a["api_key"], job["id"])["status"] == "succeeded"
    content = server.request("GET", f"/v1/assets/{source['id']}/content", key=a["api_key"])
    assert content.status == 200 and content.header("Content-Type") == "image/jpeg"
    assert content.body == (SAMPLES / "grace_hopper.jpg").read_bytes()
    part = server.request("GET", f"/v1/assets/{source['id']}/content", key=a["api_key"], headers={"Range": "bytes=-100"})
    assert part.status == 206 and part.body == content.body[-100:]


def test_an_upload_over_the_limit_is_413_and_leaves_no_file(server, tenants):
    a = tenants[0]
    before = files_under(server.data / "assets") + files_under(server.data / "uploads")
    # Declared by Content-Length: refused before reading.
    response = server.request("POST", "/v1/assets", key=a["api_key"], body=b"\0" * 2_500_000)
    assert response.status == 413 and response.json()["error"]["code"] == "upload_too_large"
    # Sent chunked (no length): refused while streaming.
    def pieces():
        for _ in range(40):
            yield b"\0" * 100_000
    response = server.request("POST", "/v1/assets", key=a["api_key"], body=pieces())
    assert response.status == 413
    assert files_under(server.data / "assets") + files_under(server.data / "uploads") == before


def png_header_claiming(width, height):
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = lambda kind, data: struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 1000)) + chunk(b"IEND", b"")


def test_bad_files_are_422_with_a_clear_message_and_nothing_kept(server, tenants, workspace):
    key = tenants[0]["api_key"]
    before = files_under(server.data / "assets") + files_under(server.data / "uploads")
    response = server.request("POST", "/v1/assets", key=key, body=b"just some text, not a picture\n" * 10)
    assert response.status == 422 and "not a PNG, JPEG or WebP image, nor a video" in response.json()["error"]["message"]

    started = time.time()
    response = server.request("POST", "/v1/assets", key=key, body=png_header_claiming(60000, 60000))
    assert response.status == 422, response.body
    message = response.json()["error"]["message"]
    assert "60000x60000" in message and "limit" in message, message
    assert time.time() - started < 2  # refused from the header: nothing decoded

    clip = make_clip(workspace / "whole.mp4", seconds=2, size="320x240")
    data = clip.read_bytes()
    response = server.request("POST", "/v1/assets", key=key, body=data[: len(data) * 2 // 3])
    assert response.status == 422, response.body
    assert response.json()["error"]["field"] == "body"

    response = server.request("POST", "/v1/assets", key=key, body=b"")
    assert response.status == 422 and "empty" in response.json()["error"]["message"]

    # A playlist naming files on the server (here a real segment of this server's) is no video.
    segment = make_clip(workspace / "segment.ts", seconds=1, size="320x240", audio=False)
    playlist = f"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:1.0,\n{segment}\n#EXT-X-ENDLIST\n".encode()
    response = server.request("POST", "/v1/assets", key=key, body=playlist)
    assert response.status == 422 and "container" in response.json()["error"]["message"], response.body
    assert files_under(server.data / "assets") + files_under(server.data / "uploads") == before


def test_bad_options_are_422_naming_the_field(server, tenants):
    key, source, target = tenants[0]["api_key"], tenants[2], tenants[3]
    def submit(body):
        return server.request("POST", "/v1/jobs", key=key, body={"sources": [source["id"]], "target": target["id"], **body})
    cases = [
        ({"options": {"faceSwapper": {"wieght": 0.5}}}, "options.faceSwapper.wieght"),
        ({"options": {"faceSwapper": {"weight": 3}}}, "options.faceSwapper.weight"),
        ({"options": {"faceDetector": {"size": 123}}}, "options.faceDetector.size"),
        ({"options": {"faceSwapper": {"model": "no_such_swapper"}}}, "options.faceSwapper.model"),
        ({"options": {"output": {"imageQuality": "high"}}}, "options.output.imageQuality"),
        ({"options": {"paths": {"output": "/etc/passwd"}}}, "options.paths"),
        ({"options": {"execution": {"providers": ["cuda"]}}}, "options.execution"),
        ({"output_format": "exe"}, "output_format"),
        ({"webhook": {"url": "file:///etc/passwd"}}, "webhook.url"),
        ({"webhook": {"url": "http://127.0.0.1:9/x", "events": ["job.exploded"]}}, "webhook.events"),
        ({"options": {"processors": ["face_swapper", "nope"]}}, "options.processors[1]"),
        ({"colour": "blue"}, "colour"),
    ]
    for body, field in cases:
        response = submit(body)
        assert response.status == 422, (body, response.status, response.body)
        assert response.json()["error"]["field"] == field, (body, response.body)
    response = server.request("POST", "/v1/jobs", key=key, body=b"{not json", headers={"Content-Type": "application/json"})
    assert response.status == 422 and response.json()["error"]["field"] == "body"
    # A source without a face is said at submission.
    faceless = server.upload(key, SAMPLES / "astronaut.png")  # has a face; make a faceless one
    blank = server.upload(key, png_blank())
    response = server.request("POST", "/v1/jobs", key=key, body={"sources": [blank["id"]], "target": faceless["id"]})
    assert response.status == 422 and response.json()["error"]["field"] == "sources", response.body
    message = response.json()["error"]["message"]
    assert blank["id"] in message and "assets/" not in message and "tn_" not in message, message


def png_blank():
    raw = b"".join(b"\0" + b"\x80" * (64 * 3) for _ in range(64))
    chunk = lambda kind, data: struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 64, 64, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def test_a_retried_submit_with_the_same_idempotency_key_is_the_same_job(server, tenants):
    key, source, target = tenants[0]["api_key"], tenants[2], tenants[3]
    body = {"sources": [source["id"]], "target": target["id"], "options": {"faceSwapper": {"weight": 0.6}}}
    first = server.request("POST", "/v1/jobs", key=key, body=body, headers={"Idempotency-Key": "order-42"})
    assert first.status == 201
    again = server.request("POST", "/v1/jobs", key=key, body=body, headers={"Idempotency-Key": "order-42"})
    assert again.status == 200 and again.json()["id"] == first.json()["id"] and again.header("Idempotent-Replayed") == "true"
    other = server.request("POST", "/v1/jobs", key=key, body={**body, "options": {}}, headers={"Idempotency-Key": "order-42"})
    assert other.status == 422 and other.json()["error"]["field"] == "Idempotency-Key"
    # Keys are per tenant: B's same key is B's own job (B has no such assets: 404, not A's job).
    b = tenants[1]
    assert server.request("POST", "/v1/jobs", key=b["api_key"], body=body, headers={"Idempotency-Key": "order-42"}).status == 404
    # A deleted job is not replayed: the key makes a new job.
    first_id = first.json()["id"]
    server.wait(key, first_id)
    assert server.request("DELETE", f"/v1/jobs/{first_id}", key=key).status == 204
    anew = server.request("POST", "/v1/jobs", key=key, body=body, headers={"Idempotency-Key": "order-42"})
    assert anew.status == 201 and anew.json()["id"] != first_id


def test_quotas_refuse_with_429_and_413(workspace):
    server = Server(workspace / "quota-data", ["--workers", "0"]).start()
    try:
        tenant = server.tenant("small", "--max-active-jobs", "1", "--max-frames", "50", "--max-storage-bytes", "1500000")
        key = tenant["api_key"]
        source = server.upload(key, SAMPLES / "grace_hopper.jpg")
        target = server.upload(key, SAMPLES / "astronaut.png")
        # A video longer than the tenant's frames per job is refused at upload, before its frames are decoded.
        too_long = server.request("POST", "/v1/assets", key=key, body=make_clip(workspace / "q3.mp4", seconds=3, size="320x240", audio=False).read_bytes())
        assert too_long.status == 413 and too_long.json()["error"]["code"] == "too_many_frames", too_long.body
        clip = server.upload(key, make_clip(workspace / "q.mp4", seconds=2, size="320x240", audio=False))
        trimmed = server.request("POST", "/v1/jobs", key=key,
                                 body={"sources": [source["id"]], "target": clip["id"], "options": {"video": {"trimFrameEnd": 40}}})
        assert trimmed.status == 201, trimmed.body  # no workers: it stays queued
        second = server.request("POST", "/v1/jobs", key=key, body={"sources": [source["id"]], "target": target["id"]})
        assert second.status == 429 and int(second.header("Retry-After")) > 0
        assert second.json()["error"]["code"] == "too_many_jobs"
        full = server.request("POST", "/v1/assets", key=key, body=(SAMPLES / "astronaut.png").read_bytes())
        assert full.status == 413 and full.json()["error"]["code"] == "storage_quota_exceeded"
        # Without a Content-Length the quota is held while the body streams in.
        data = (SAMPLES / "astronaut.png").read_bytes()
        chunked = server.request("POST", "/v1/assets", key=key, body=(data[i:i + 65536] for i in range(0, len(data), 65536)))
        assert chunked.status == 413 and chunked.json()["error"]["code"] == "storage_quota_exceeded"
        assert trimmed.json()["status"] == "queued" and trimmed.json()["queue_position"] == 0
        # Limits change without a restart (within the server's 1 s memory of a key's tenant).
        import subprocess
        from conftest import ROOT, SWAPLINE
        subprocess.run([SWAPLINE, "tenants", "set-limits", "small", "--max-active-jobs", "2", "--data-dir", str(server.data)],
                       cwd=ROOT, check=True, capture_output=True)
        time.sleep(1.2)
        assert server.request("POST", "/v1/jobs", key=key, body={"sources": [source["id"]], "target": target["id"]}).status == 201
    finally:
        server.stop()


def test_parallel_uploads_cannot_pass_the_storage_quota_together(workspace):
    import threading
    server = Server(workspace / "parallel-data", ["--workers", "0"]).start()
    try:
        key = server.tenant("parallel", "--max-storage-bytes", "1500000")["api_key"]
        data = (SAMPLES / "astronaut.png").read_bytes()  # 791,555 bytes: one fits, two do not

        def slowly():
            for i in range(0, len(data), 100_000):
                time.sleep(0.2)
                yield data[i:i + 100_000]

        statuses = []
        def upload(chunked):
            body = slowly() if chunked else data
            statuses.append(server.request("POST", "/v1/assets", key=key, body=body).status)
        threads = [threading.Thread(target=upload, args=(i % 2 == 0,)) for i in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert sorted(statuses) == [201, 413, 413], statuses
        stored = sum(p.stat().st_size for p in (server.data / "assets").rglob("*") if p.is_file())
        assert stored <= 1_500_000
    finally:
        server.stop()
