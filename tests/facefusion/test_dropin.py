"""`swapline headless-run` / `batch-run` against FaceFusion 3.8.1's own argument list.

Tests/Data/facefusion_3.8.1_arguments.json was extracted from FaceFusion's source by
scripts/extract_facefusion_arguments.py: every argument its parser defines for the two commands.
"""
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))
from conftest import ROOT, SAMPLES, SWAPLINE, decoded, make_clip  # noqa: E402

FACEFUSION = json.loads((ROOT / "Tests" / "Data" / "facefusion_3.8.1_arguments.json").read_text())

# Values for arguments whose FaceFusion default is computed at run time (choices it probes, the
# temp folder) or absent (None); every other test value is FaceFusion's own default literal.
VALUES = {
    "--temp-path": ["/tmp"], "--face-detector-size": ["640x640"], "--face-selector-age-start": ["20"],
    "--face-selector-age-end": ["60"], "--face-selector-gender": ["female"], "--face-selector-race": ["white"],
    "--face-mask-areas": ["upper-face", "lower-face", "mouth"], "--face-mask-regions": ["skin", "nose", "mouth"],
    "--trim-frame-start": ["0"], "--trim-frame-end": ["10"], "--output-audio-encoder": ["aac"],
    "--output-video-encoder": ["libx264"], "--output-video-fps": ["25"], "--face-swapper-pixel-boost": ["256x256"],
    "--execution-providers": ["cpu"], "--download-providers": ["github", "huggingface"],
    "--background-remover-fill-color": ["0", "0", "0", "0"], "--background-remover-despill-color": ["0", "0", "0", "0"],
    "--expression-restorer-areas": ["upper-face"], "--face-debugger-items": ["bounding-box"],
}


def default_literal(argument):
    """FaceFusion's default as written: config.get_*_value('section', 'key', 'DEFAULT')."""
    match = re.search(r"config\.get_\w+\('[^']*', '[^']*', '([^']*)'\)", argument["default"] or "")
    return match.group(1).split() if match else None


def run(*args, cwd=ROOT):
    return subprocess.run([SWAPLINE, *map(str, args)], cwd=cwd, capture_output=True, text=True)


@pytest.fixture(scope="module")
def table():
    out = run("headless-run", "--facefusion-arguments", "json")
    assert out.returncode == 0, out.stderr
    return {name: row for row in json.loads(out.stdout) for name in row["names"]}


def test_every_facefusion_argument_is_in_the_table(table):
    names = {name for command in FACEFUSION["commands"].values() for argument in command for name in argument["names"]}
    assert len(names) == 100   # 94 arguments per command (paths and patterns differ), plus -s, -t, -o
    assert sorted(names - set(table)) == []
    assert sorted(set(table) - names) == []   # and nothing in the table FaceFusion does not have


def test_every_headless_run_argument_is_accepted_or_refused_by_name(table):
    base = ["headless-run", "-s", SAMPLES / "grace_hopper.jpg", "-t", "clip.mp4", "-o", "out.mp4", "--print-configuration"]
    outcomes = {}
    for argument in FACEFUSION["commands"]["headless-run"]:
        name = argument["names"][-1]
        if name in ("--source-paths", "--target-path", "--output-path"):
            continue   # in every command line here
        values = VALUES.get(name) or default_literal(argument) or ["0"]
        # An image is one frame: the reference frame number is honoured for images only.
        command = [*base[:3], "-t", SAMPLES / "astronaut.png", "-o", "out.png", base[-1]] if name == "--reference-frame-number" else base
        out = run(*command, name, *values)
        status = table[name]["status"]
        if status == "refused":
            assert out.returncode == 2 and name in out.stderr and "is not supported" in out.stderr, (name, out.stderr)
        else:
            assert out.returncode == 0, (name, values, out.stderr)
            json.loads(out.stdout)   # the configuration it means
        outcomes[status] = outcomes.get(status, 0) + 1
    assert outcomes == {"supported": 34, "mapped": 7, "default only": 5, "no effect": 5, "refused": 40}, outcomes


def test_values_land_in_the_configuration_swap_would_build():
    common = ["-s", SAMPLES / "grace_hopper.jpg", "-t", "clip.mp4", "-o", "out.mkv"]
    options = ["--face-detector-score", "0.7", "--face-selector-mode", "one", "--face-mask-types", "box", "occlusion",
               "--output-video-encoder", "ffv1", "--output-video-quality", "60", "--trim-frame-start", "5",
               "--execution-thread-count", "3", "--video-memory-strategy", "strict"]
    facefusion = run("headless-run", *common[:1], common[1], "--target-path", common[3], "--output-path", common[5], *options,
                     "--face-tracker-score", "0", "--print-configuration")
    assert facefusion.returncode == 0, facefusion.stderr
    configuration = json.loads(facefusion.stdout)
    assert configuration["faceDetector"]["score"] == pytest.approx(0.7) and configuration["faceSelector"]["mode"] == "one"
    assert configuration["faceMasker"]["types"] == ["box", "occlusion"] and configuration["output"]["videoEncoder"] == "ffv1"
    assert configuration["video"]["trimFrameStart"] == 5 and configuration["video"]["detectorInterval"] == 1
    assert configuration["execution"]["threadCount"] == 3 and configuration["memory"]["videoMemoryStrategy"] == "strict"
    # Refusals name the argument and the reason; values outside Swapline's choices are refused by its parser.
    refused = run("headless-run", *common, "--processors", "face_swapper", "lip_syncer")
    assert refused.returncode == 2 and "--processors lip_syncer: the lip_syncer processor is not implemented" in refused.stderr
    margin = run("headless-run", *common, "--face-detector-margin", "10", "0", "0", "0")
    assert margin.returncode == 2 and "--face-detector-margin 10 0 0 0 is not supported" in margin.stderr
    assert run("headless-run", *common, "--face-detector-margin", "0", "--print-configuration").returncode == 0
    choice = run("headless-run", *common, "--face-selector-order", "random")
    assert choice.returncode == 2 and "--face-selector-order" in choice.stderr and "random" in choice.stderr
    workflow = run("headless-run", *common, "--workflow-mode", "image-to-image")
    assert workflow.returncode == 2 and "does not match the target" in workflow.stderr
    noted = run("headless-run", *common, "--temp-frame-format", "png", "--print-configuration")
    assert noted.returncode == 0
    # argparse's rules: 1 to 4 side values spread (t -> t t t t; t r -> t r t r), the last occurrence
    # of an option wins, a unique prefix names an option.
    spread = json.loads(run("headless-run", *common, "--face-mask-padding", "10", "--face-mask-types", "box", "occlusion",
                            "--face-mask-types", "region", "--face-mask-blu", "0.4", "--print-configuration").stdout)
    assert spread["faceMasker"]["padding"] == [10, 10, 10, 10] and spread["faceMasker"]["types"] == ["region"]
    assert spread["faceMasker"]["blur"] == pytest.approx(0.4)
    two = json.loads(run("headless-run", *common, "--face-mask-padding", "5", "10", "--print-configuration").stdout)
    assert two["faceMasker"]["padding"] == [5, 10, 5, 10]
    ambiguous = run("headless-run", *common, "--face-mask", "box")
    assert ambiguous.returncode == 2 and "ambiguous option --face-mask" in ambiguous.stderr
    # What depends on the target: trimming an image and a video's reference frame.
    image = ["-s", SAMPLES / "grace_hopper.jpg", "-t", SAMPLES / "astronaut.png", "-o", "out.png"]
    trimmed = run("headless-run", *image, "--trim-frame-start", "3", "--print-configuration")
    assert trimmed.returncode == 0 and "no effect on an image target" in trimmed.stderr
    assert "trimFrameStart" not in json.loads(trimmed.stdout)["video"]
    clamped = json.loads(run("headless-run", *common, "--trim-frame-start", "-5", "--print-configuration").stdout)
    assert clamped["video"]["trimFrameStart"] == 0
    frame = run("headless-run", *common, "--reference-frame-number", "0")
    assert frame.returncode == 2 and "--reference-frame-number is not supported for videos" in frame.stderr
    devices = run("headless-run", *common, "--execution-device-ids", "0", "1")
    assert devices.returncode == 2 and "a Swapline process uses one device" in devices.stderr
    rocm = run("headless-run", *common, "--execution-providers", "rocm", "cpu")
    assert rocm.returncode == 2 and "--execution-providers rocm is not supported" in rocm.stderr


def test_a_documented_command_line_gives_the_same_output_as_swap(tmp_path):
    # FaceFusion's documented path examples (source.jpg, target.mp4, output.mp4), with the samples.
    shutil.copy(SAMPLES / "grace_hopper.jpg", tmp_path / "source.jpg")
    make_clip(tmp_path / "target.mp4", seconds=2)
    out = run("headless-run", "--source-paths", "source.jpg", "--target-path", "target.mp4", "--output-path", "output.mp4",
              "--processors", "face_swapper", "--face-selector-mode", "many", "--output-video-quality", "80",
              "--temp-frame-format", "png", "--models-dir", ROOT / "models", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "--temp-frame-format has no effect" in out.stderr
    swap = run("swap", "-s", "source.jpg", "-t", "target.mp4", "-o", "swap.mp4", "--output-video-quality", "80",
               "--models-dir", ROOT / "models", cwd=tmp_path)
    assert swap.returncode == 0, swap.stderr
    frames = decoded(tmp_path / "output.mp4")
    assert len(frames) > 50 and frames == decoded(tmp_path / "swap.mp4")   # video frames and audio packets


def test_batch_run_swaps_each_source_into_each_target_by_pattern(tmp_path):
    for name in ("a.png", "b.png"):
        shutil.copy(SAMPLES / "astronaut.png", tmp_path / name)
    shutil.copy(SAMPLES / "grace_hopper.jpg", tmp_path / "face.jpg")
    (tmp_path / "out").mkdir()
    out = run("batch-run", "--source-pattern", "face.*", "--target-pattern", "[ab].png",
              "--output-pattern", "out/{index}-{source_name}-{target_name}{target_extension}", "--models-dir", ROOT / "models",
              cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["0-face-a.png", "1-face-b.png"]
    single = run("swap", "-s", "face.jpg", "-t", "b.png", "-o", "single.png", "--models-dir", ROOT / "models", cwd=tmp_path)
    assert single.returncode == 0, single.stderr
    assert decoded(tmp_path / "out" / "1-face-b.png", "-pix_fmt", "rgb24") == decoded(tmp_path / "single.png", "-pix_fmt", "rgb24")
    bad = run("batch-run", "-s", "face.*", "-t", "[ab].png", "-o", "{stem}.png", cwd=tmp_path)
    assert bad.returncode == 2 and "{stem}" in bad.stderr
    none = run("batch-run", "-t", "*.gif", "-o", "x.png", cwd=tmp_path)
    assert none.returncode == 2 and "matches no file" in none.stderr


def test_the_docs_table_is_generated_from_the_code():
    out = run("headless-run", "--facefusion-arguments", "markdown")
    docs = (ROOT / "docs" / "FACEFUSION.md").read_text()
    begin, end = "<!-- table: swapline headless-run --facefusion-arguments markdown -->\n", "<!-- end of table -->"
    assert begin in docs and end in docs
    assert docs.split(begin)[1].split(end)[0] == out.stdout
