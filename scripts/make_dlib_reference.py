"""Reference 68-point landmarks from dlib itself, for Swapline's shape predictor tests.

Run once by a developer (not by CI): dlib is a source-only PyPI package that needs cmake and a
C++ compiler and takes ~15 minutes to build on 2 cores:

    python3 -m venv /tmp/dlibvenv && /tmp/dlibvenv/bin/pip install cmake numpy
    PATH=/tmp/dlibvenv/bin:$PATH /tmp/dlibvenv/bin/pip install --no-build-isolation dlib==19.24.6
    /tmp/dlibvenv/bin/python scripts/make_dlib_reference.py > Tests/Data/dlib_shape_reference.json

Faces come from dlib's own HOG frontal face detector (the boxes the 68-point model was trained
with); each record holds the image, the box (left, top, right, bottom, inclusive) and dlib's 68
points (dlib rounds them to whole pixels). Images are read with dlib.load_rgb_image.
"""
import json
import os
import sys

import dlib

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
IMAGES = ["grace_hopper.jpg", "astronaut.png", "solvay_conference_1927.jpg"]


def main():
    detector = dlib.get_frontal_face_detector()
    predictor = dlib.shape_predictor(os.path.join(ROOT, "models", "shape_predictor_68_face_landmarks.dat"))
    records = []
    for name in IMAGES:
        image = dlib.load_rgb_image(os.path.join(ROOT, "samples", name))
        for rect in detector(image, 0)[:6]:
            shape = predictor(image, rect)
            records.append({
                "image": name,
                "box": [rect.left(), rect.top(), rect.right(), rect.bottom()],
                "points": [[shape.part(i).x, shape.part(i).y] for i in range(shape.num_parts)],
            })
    json.dump({"dlib_version": dlib.__version__, "faces": records}, sys.stdout, indent=None)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
