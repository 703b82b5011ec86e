#!/usr/bin/env bash
# Copies the swapline runtime into DEST (a Docker build stage's staging folder, or a root
# filesystem): the binary, the Swift runtime libraries it links (whatever ldd resolves from the
# toolchain), ONNX Runtime, the offline models and the samples, all under DEST/opt/swapline,
# plus DEST/usr/local/bin/swapline. deploy/Dockerfile and deploy/build-rootfs.sh both run it, so
# an image and a root filesystem hold the same files. Run from the repository after
# `scripts/setup.sh all` and a release build.
#   deploy/stage-runtime.sh DEST [BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
DEST=${1:?usage: deploy/stage-runtime.sh DEST [BINARY]}
BINARY=${2:-.build/release/swapline}
APP="$DEST/opt/swapline"
[ -x "$BINARY" ] || { echo "stage-runtime: $BINARY is not built" >&2; exit 1; }
mkdir -p "$APP/models" "$APP/samples" "$DEST/usr/local/bin"
install -m 0755 "$BINARY" "$APP/swapline"
# The Swift runtime: every library ldd resolves from a swift toolchain folder, beside the binary
# (its RUNPATH has $ORIGIN). System libraries come from runtime-packages.txt instead.
ldd "$BINARY" | awk '$3 ~ /\/swift\// {print $3}' | while read -r library; do
  install -m 0644 "$library" "$APP/"
done
# ONNX Runtime beside the binary, where LibraryLocator looks.
cp -P vendor/onnxruntime/libonnxruntime.so* "$APP/"
# Offline models: the SCRFD file, and the dlib model as the link into libdlib-data it is here.
install -m 0644 models/scrfd_2.5g_kps.onnx "$APP/models/"
install -m 0644 models/dlib_face_recognition_resnet_model_v1.onnx models/palm_detection_full.onnx models/hand_landmark_full.onnx "$APP/models/"
ln -sfn /usr/share/dlib/shape_predictor_68_face_landmarks.dat "$APP/models/shape_predictor_68_face_landmarks.dat"
install -m 0644 samples/grace_hopper.jpg samples/astronaut.png "$APP/samples/"
ln -sfn /opt/swapline/swapline "$DEST/usr/local/bin/swapline"
echo "staged $(find "$APP" -type f | wc -l) files, $(du -sh "$APP" | cut -f1), into $APP"
