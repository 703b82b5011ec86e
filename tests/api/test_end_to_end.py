"""A tenant uploads, submits, follows the event stream and downloads: the output is the CLI's."""
from conftest import SAMPLES, decoded, make_clip, swap_cli


def test_video_job_follows_events_to_succeeded_and_matches_the_cli(server, workspace):
    tenant = server.tenant("studio")
    key = tenant["api_key"]
    clip = make_clip(workspace / "clip.mp4", seconds=4)
    source = server.upload(key, SAMPLES / "grace_hopper.jpg")
    assert (source["kind"], source["width"], source["height"]) == ("image", 512, 600)
    target = server.upload(key, clip)
    assert target["kind"] == "video" and target["frames"] == 100 and abs(target["duration"] - 4) < 0.1

    job = server.submit(key, {"sources": [source["id"]], "target": target["id"], "options": {"video": {"chunkSize": 25}}})
    assert job["status"] in ("queued", "processing") and job["kind"] == "video"
    assert job["progress"]["frames_total"] == 100

    events = server.events(key, job["id"])
    names = [name for name, _ in events]
    assert names[-1] == "done" and events[-1][1]["status"] == "succeeded", names
    states = [data["status"] for name, data in events if name == "state"]
    assert states[-1] == "succeeded" and "processing" in states, states
    frames = [data["frames_done"] for name, data in events if name == "progress"]
    assert frames == sorted(frames) and frames[-1] == 100, frames
    # Each chunk's state, in frame order; a chunk only moves forward (p -> l -> d).
    maps = [data["chunk_states"] for name, data in events if name == "progress"]
    assert maps[0] == "pppp" and maps[-1] == "dddd" and any("l" in m for m in maps), maps
    rank = {"p": 0, "l": 1, "d": 2}
    for earlier, later in zip(maps, maps[1:]):
        assert all(rank[x] <= rank[y] for x, y in zip(earlier, later)), (earlier, later)

    finished = server.job(key, job["id"])
    assert finished["output"]["content_type"] == "video/mp4"
    response = server.request("GET", finished["output"]["url"], key=key)
    assert response.status == 200 and response.header("Content-Type") == "video/mp4"
    api_output = workspace / "api.mp4"
    api_output.write_bytes(response.body)
    assert len(response.body) == finished["output"]["size"]

    # A range request returns exactly those bytes.
    partial = server.request("GET", finished["output"]["url"], key=key, headers={"Range": "bytes=100-199"})
    assert partial.status == 206 and partial.body == response.body[100:200]
    assert partial.header("Content-Range") == f"bytes 100-199/{len(response.body)}"
    beyond = server.request("GET", finished["output"]["url"], key=key, headers={"Range": f"bytes={len(response.body) + 10}-"})
    assert beyond.status == 416

    cli_output = workspace / "cli.mp4"
    swap_cli("-s", SAMPLES / "grace_hopper.jpg", "-t", clip, "-o", cli_output, "--chunk-size", "25")
    api_frames, cli_frames = decoded(api_output), decoded(cli_output)
    assert len(api_frames) > 100  # video frames and audio packets
    assert api_frames == cli_frames


def test_image_job_answers_synchronously_with_prefer_wait_and_matches_the_cli(server, workspace):
    key = server.tenant("photos")["api_key"]
    source = server.upload(key, SAMPLES / "grace_hopper.jpg")
    target = server.upload(key, SAMPLES / "astronaut.png")
    job = server.submit(key, {"sources": [source["id"]], "target": target["id"]}, headers={"Prefer": "wait=60"})
    assert job["status"] == "succeeded", job
    output = server.request("GET", job["output"]["url"], key=key)
    assert output.status == 200 and output.header("Content-Type") == "image/png"
    (workspace / "api.png").write_bytes(output.body)
    swap_cli("-s", SAMPLES / "grace_hopper.jpg", "-t", SAMPLES / "astronaut.png", "-o", workspace / "cli.png")
    api_pixels = decoded(workspace / "api.png", "-pix_fmt", "rgb24")
    assert api_pixels == decoded(workspace / "cli.png", "-pix_fmt", "rgb24")
    # The provenance label travels with the API's output too.
    assert b"swapline.provenance" in output.body


def test_jobs_list_pages_by_cursor_and_filters_by_status(server):
    key = server.tenant("lister")["api_key"]
    source = server.upload(key, SAMPLES / "grace_hopper.jpg")
    target = server.upload(key, SAMPLES / "astronaut.png")
    ids = [server.submit(key, {"sources": [source["id"]], "target": target["id"]}, headers={"Prefer": "wait=60"})["id"] for _ in range(3)]
    first = server.request("GET", "/v1/jobs?limit=2", key=key).json()
    assert [job["id"] for job in first["data"]] == ids[::-1][:2] and first["has_more"]
    second = server.request("GET", f"/v1/jobs?limit=2&after={first['next_cursor']}", key=key).json()
    assert [job["id"] for job in second["data"]] == [ids[0]] and not second["has_more"] and second["next_cursor"] is None
    succeeded = server.request("GET", "/v1/jobs?status=succeeded", key=key).json()
    assert sorted(job["id"] for job in succeeded["data"]) == sorted(ids)
    assert server.request("GET", "/v1/jobs?status=queued", key=key).json()["data"] == []
    bad = server.request("GET", "/v1/jobs?status=done", key=key)
    assert bad.status == 422 and bad.json()["error"]["field"] == "status"


def test_cancel_retry_and_delete(server, workspace):
    tenant = server.tenant("editor")
    key = tenant["api_key"]
    source = server.upload(key, SAMPLES / "grace_hopper.jpg")
    target = server.upload(key, make_clip(workspace / "long.mp4", seconds=8, size="320x240", audio=False))
    job = server.submit(key, {"sources": [source["id"]], "target": target["id"], "options": {"video": {"chunkSize": 20}}})
    canceled = server.request("POST", f"/v1/jobs/{job['id']}/cancel", key=key)
    assert canceled.status == 200 and canceled.json()["status"] == "canceled", canceled.body
    assert server.request("POST", f"/v1/jobs/{job['id']}/cancel", key=key).status == 409
    assert server.request("GET", f"/v1/jobs/{job['id']}/output", key=key).status == 409
    retried = server.request("POST", f"/v1/jobs/{job['id']}/retry", key=key)
    assert retried.status == 200 and retried.json()["status"] in ("queued", "processing")
    assert server.wait(key, job["id"])["status"] == "succeeded"
    assert server.request("POST", f"/v1/jobs/{job['id']}/retry", key=key).status == 409
    output_folder = next((server.data / "outputs" / tenant["id"]).glob("*/output.mp4")).parent
    assert server.request("DELETE", f"/v1/jobs/{job['id']}", key=key).status == 204
    assert server.request("GET", f"/v1/jobs/{job['id']}", key=key).status == 404
    assert not output_folder.exists()


def test_sigterm_ends_open_event_streams_and_the_server(workspace):
    import signal
    import threading
    import time
    from conftest import Server
    server = Server(workspace / "sigterm-data", ["--workers", "0"]).start()
    key = server.tenant("waiting")["api_key"]
    source = server.upload(key, SAMPLES / "grace_hopper.jpg")
    target = server.upload(key, SAMPLES / "astronaut.png")
    job = server.submit(key, {"sources": [source["id"]], "target": target["id"]})  # no workers: stays queued
    streamed = []
    reader = threading.Thread(target=lambda: streamed.extend(server.events(key, job["id"], timeout=60)), daemon=True)
    reader.start()
    time.sleep(1.5)
    started = time.time()
    server.stop(signal.SIGTERM)
    assert time.time() - started < 10 and server.process.returncode == 0
    reader.join(timeout=10)
    assert not reader.is_alive() and streamed and streamed[0][0] == "state" and streamed[0][1]["status"] == "queued"
