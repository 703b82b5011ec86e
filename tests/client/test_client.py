"""The Python client (clients/python) against a real `swapline serve` on loopback."""
import json
import sys
import threading
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "clients" / "python"))
from conftest import ROOT, SAMPLES, Server, decoded, make_clip  # noqa: E402
import swapline_client  # noqa: E402
from swapline_client import Client, InvalidRequest, NotFound, Unauthorized, swap  # noqa: E402


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    return tmp_path_factory.mktemp("swapline-client")


@pytest.fixture(scope="module")
def server(workspace):
    with Server(workspace / "data") as server:
        yield server


@pytest.fixture(scope="module")
def client(server):
    return Client(f"http://127.0.0.1:{server.port}", server.tenant("client")["api_key"])


def test_the_client_matches_the_served_contract(server):
    document = json.loads(server.request("GET", "/openapi.json").body)
    assert document["info"]["version"] == swapline_client.API_VERSION
    source = (ROOT / "clients" / "python" / "swapline_client" / "__init__.py").read_text()
    # Every route the client calls is in the contract, with that method.
    for method, path in [("post", "/v1/assets"), ("get", "/v1/assets/{id}"), ("post", "/v1/jobs"), ("get", "/v1/jobs"),
                         ("get", "/v1/jobs/{id}"), ("post", "/v1/jobs/{id}/cancel"), ("post", "/v1/jobs/{id}/retry"),
                         ("delete", "/v1/jobs/{id}"), ("get", "/v1/jobs/{id}/events"), ("get", "/v1/jobs/{id}/output"),
                         ("get", "/v1/models")]:
        assert method in document["paths"][path], (method, path)
        assert f'"{method.upper()}", f"/v1' in source or f'"{method.upper()}", "/v1' in source, (method, path)


def test_every_facefusion_option_name_is_one_the_api_takes(client, workspace):
    """Each name maps to a configuration key the server accepts (an unknown key would be a 422 naming it)."""
    values = dict(
        face_detector_model="scrfd", face_detector_size="640x640", face_detector_score=0.5, face_detector_angles=[0],
        face_landmarker_model="auto", face_landmarker_score=0.5, face_selector_mode="many", face_selector_order="large-small",
        reference_face_position=0, reference_face_distance=0.3, face_mask_types=["box"], face_mask_blur=0.3,
        face_mask_padding=[0, 0, 0, 0], face_mask_areas=["mouth"], face_mask_regions=["skin"], face_occluder_model="xseg_1",
        face_parser_model="bisenet_resnet_34", face_swapper_model="classic", face_swapper_weight=0.5,
        face_swapper_pixel_boost="256x256", face_enhancer_model="gfpgan_1.4", face_enhancer_blend=80,
        frame_enhancer_model="span_kendata_x4", frame_enhancer_blend=80, output_image_quality=90, output_video_quality=80,
        output_video_preset="veryfast", output_video_encoder="libx264", trim_frame_start=0, trim_frame_end=10,
        processors=["face_swapper"], chunk_size=100, face_detector_interval=2, face_tracker_smoothing=0.6,
        hand_occlusion="auto")
    assert sorted(values) == sorted(swapline_client.OPTIONS)
    clip = make_clip(workspace / "short.mp4", seconds=1)
    job = client.submit([SAMPLES / "grace_hopper.jpg"], clip, **values)
    for name, (group, key) in swapline_client.OPTIONS.items():
        stored = job["options"][key] if group is None else job["options"][group][key]
        expected = 640 if name == "face_detector_size" else 256 if name == "face_swapper_pixel_boost" else values[name]
        assert stored == expected, (name, stored)
    client.delete(job)


def test_upload_submit_wait_with_progress_and_download(client, workspace):
    clip = make_clip(workspace / "clip.mp4", seconds=4)
    source = client.upload(SAMPLES / "grace_hopper.jpg")
    assert source["kind"] == "image" and source["width"] == 512
    job = client.submit([source], clip, chunk_size=20, face_selector_mode="many", output_video_quality=80)
    assert job["kind"] == "video" and job["options"] == {"faceSelector": {"mode": "many"}, "output": {"videoQuality": 80},
                                                         "video": {"chunkSize": 20}}
    seen = []
    final = client.wait(job, on_progress=lambda progress: seen.append(progress["frames_done"]), timeout=180)
    assert final["status"] == "succeeded"
    assert seen == sorted(seen) and seen[-1] == 100 and len(set(seen)) >= 3, seen
    path = client.download(final, workspace / "out.mp4")
    assert not (workspace / "out.mp4.part").exists()
    assert path.read_bytes() == client._request("GET", f"/v1/jobs/{final['id']}/output")[1]
    assert len(decoded(path, "-an")) == 100
    assert final["id"] in [j["id"] for j in client.jobs(status="succeeded")]


def test_swap_in_one_call_like_facefusion(server, client, workspace, monkeypatch):
    monkeypatch.setenv("SWAPLINE_URL", f"http://127.0.0.1:{server.port}")
    monkeypatch.setenv("SWAPLINE_API_KEY", client._key)
    job = swap([SAMPLES / "grace_hopper.jpg"], SAMPLES / "astronaut.png", workspace / "swapped.png", face_selector_mode="one")
    assert job["status"] == "succeeded" and job["options"] == {"faceSelector": {"mode": "one"}}
    data = (workspace / "swapped.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and b"swapline.provenance" in data


def test_cancel_and_retry(server, client, workspace):
    clip = make_clip(workspace / "long.mp4", seconds=12)
    job = client.submit([SAMPLES / "grace_hopper.jpg"], clip, chunk_size=25)
    canceled = client.cancel(job)
    assert canceled["status"] == "canceled" and canceled["error"]["code"] == "job_canceled"
    with pytest.raises(swapline_client.Conflict) as error:
        client.cancel(job)
    assert error.value.code == "not_cancelable"
    retried = client.retry(job)
    assert retried["status"] in ("queued", "processing")
    assert client.cancel(job)["status"] == "canceled"
    client.delete(job)
    with pytest.raises(NotFound):
        client.job(job)


def test_errors_are_typed(server, client):
    with pytest.raises(Unauthorized) as error:
        Client(f"http://127.0.0.1:{server.port}", "sl_wrong_key").models()
    assert error.value.status == 401 and error.value.code == "unauthorized"
    with pytest.raises(NotFound) as error:
        client.job("999999")
    assert error.value.status == 404 and error.value.message == "job not found"
    source = client.upload(SAMPLES / "grace_hopper.jpg")
    with pytest.raises(InvalidRequest) as error:
        client.submit([source], source, face_swapper_weight=3)
    assert error.value.field == "options.faceSwapper.weight" and error.value.message == "options.faceSwapper.weight takes 0 to 1"
    with pytest.raises(ValueError, match="set by the server"):
        client.submit([source], source, execution_providers=["cuda"])
    with pytest.raises(ValueError, match="unknown option 'face_swaper_model'"):
        client.submit([source], source, face_swaper_model="x")
