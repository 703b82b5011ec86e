"""Synthetic ONNX models with the exact input/output signatures of FaceFusion's detector exports.

Each model's outputs are constants (plus zero times the mean of the input, so the graph really
consumes its input), chosen so that known faces decode from them. expectations.json holds the
faces a correct decoder must return at score threshold 0.5 with NMS IoU 0.4, in 640x640 input
pixels, computed here by an independent numpy decoder written from FaceFusion's formulas.

Swapline's tests run these through the real ONNX Runtime to check the Swift decoders, tensor
plumbing and coordinate mapping without needing the (downloaded) zoo files.

Usage: python scripts/make_test_models.py OUTDIR
"""
import json
import math
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

SIZE = 640
STRIDES = (8, 16, 32)
# Every decoded candidate above the 0.5 threshold, before NMS, per stand-in (for the "many" merge).
CANDIDATES = {}


def constant_model(path, input_name, outputs, input_shape=(1, 3, SIZE, SIZE)):
    """outputs: list of (name, numpy array). Each output = array + 0 * mean(input)."""
    nodes = [
        helper.make_node("ReduceMean", [input_name], ["input_mean"], keepdims=0),
        helper.make_node("Mul", ["input_mean", "zero"], ["input_zero"]),
    ]
    initializers = [numpy_helper.from_array(np.array(0.0, dtype=np.float32), "zero")]
    graph_outputs = []
    for name, array in outputs:
        array = array.astype(np.float32)
        initializers.append(numpy_helper.from_array(array, name + "_constant"))
        nodes.append(helper.make_node("Add", [name + "_constant", "input_zero"], [name]))
        graph_outputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, list(array.shape)))
    graph = helper.make_graph(
        nodes, os.path.basename(path), [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, list(input_shape))],
        graph_outputs, initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="swapline-test-models")
    model.ir_version = 7
    onnx.checker.check_model(model)
    with open(path, "wb") as handle:
        handle.write(model.SerializeToString())


def anchors(stride, per_cell):
    cells = SIZE // stride
    ys, xs = np.mgrid[:cells, :cells]
    points = np.stack([xs.ravel(), ys.ravel()], axis=-1).astype(np.float32) * stride
    return np.repeat(points, per_cell, axis=0)


def nms(faces, iou_threshold=0.4, score_threshold=0.5):
    faces = sorted([f for f in faces if f["score"] >= score_threshold], key=lambda f: -f["score"])
    kept = []
    for face in faces:
        x1, y1, x2, y2 = face["box"]
        ok = True
        for other in kept:
            a1, b1, a2, b2 = other["box"]
            w, h = min(x2, a2) - max(x1, a1), min(y2, b2) - max(y1, b1)
            inter = w * h if w > 0 and h > 0 else 0.0
            union = (x2 - x1) * (y2 - y1) + (a2 - a1) * (b2 - b1) - inter
            if union > 0 and inter / union > iou_threshold:
                ok = False
        if ok:
            kept.append(face)
    return kept


def face(box, score, points):
    return {"box": [float(v) for v in box], "score": float(score), "landmarks": [[float(x), float(y)] for x, y in points]}


def yoloface(out_dir):
    candidates = sum((SIZE // s) ** 2 for s in STRIDES)
    table = np.zeros((1, 20, candidates), dtype=np.float32)

    def put(column, cx, cy, w, h, score, kps):
        table[0, 0:5, column] = [cx, cy, w, h, score]
        for k, (x, y, c) in enumerate(kps):
            table[0, 5 + 3 * k:8 + 3 * k, column] = [x, y, c]

    eyes_mouth = [(290, 220, .9), (350, 220, .9), (320, 250, .9), (295, 275, .9), (345, 275, .9)]
    put(1000, 320, 240, 100, 120, 0.9, eyes_mouth)
    put(2000, 326, 240, 100, 120, 0.8, eyes_mouth)  # overlaps the first: NMS removes it
    put(3000, 500, 500, 60, 60, 0.7, [(485, 490, .8), (515, 490, .8), (500, 500, .8), (488, 512, .8), (512, 512, .8)])
    put(4000, 100, 100, 50, 50, 0.3, [(90, 95, .5)] * 5)  # below the threshold
    constant_model(os.path.join(out_dir, "yoloface_8n_synthetic.onnx"), "input", [("output0", table)])

    rows = table[0].T  # decode as FaceFusion: transpose, split 4/1/15, keep score > threshold
    faces = []
    for row in rows[rows[:, 4] > 0.5]:
        cx, cy, w, h = row[:4]
        faces.append(face([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], row[4], row[5:].reshape(5, 3)[:, :2]))
    CANDIDATES["yoloface_8n_synthetic.onnx"] = faces
    expected = nms(faces)
    columns = [int(np.flatnonzero(table[0, 4] == np.float32(f["score"]))[0]) for f in expected]
    assert columns == [1000, 3000], (columns, expected)  # column 2000 lost to NMS, 4000 to the threshold
    return expected


def yunet(out_dir):
    cls, obj, bbox, kps = {}, {}, {}, {}
    for s in STRIDES:
        n = (SIZE // s) ** 2
        cls[s], obj[s] = np.zeros((1, n, 1)), np.zeros((1, n, 1))
        bbox[s], kps[s] = np.zeros((1, n, 4)), np.zeros((1, n, 10))
    # Stride 16, cell row 10 col 20 -> anchor (320, 160); centre (324, 168), size (96, 120).
    i = 10 * 40 + 20
    cls[16][0, i, 0], obj[16][0, i, 0] = 0.9, 1.0
    bbox[16][0, i] = [0.25, 0.5, math.log(6), math.log(7.5)]
    kps[16][0, i] = [-1.5, -1.0, 1.5, -1.0, 0.0, 0.75, -1.0, 2.0, 1.0, 2.0]
    # Stride 8, row 60 col 10 -> anchor (80, 480); score 0.8 * 0.8.
    j = 60 * 80 + 10
    cls[8][0, j, 0], obj[8][0, j, 0] = 0.8, 0.8
    bbox[8][0, j] = [0.0, 0.0, math.log(5), math.log(6)]
    kps[8][0, j] = [-1.2, -1.0, 1.2, -1.0, 0.0, 0.5, -1.0, 1.5, 1.0, 1.5]
    # Stride 32: score 0.6 * 0.5 = 0.3, below the threshold.
    cls[32][0, 5, 0], obj[32][0, 5, 0] = 0.6, 0.5
    bbox[32][0, 5] = [0, 0, 0, 0]
    outputs = ([(f"cls_{s}", cls[s]) for s in STRIDES] + [(f"obj_{s}", obj[s]) for s in STRIDES]
               + [(f"bbox_{s}", bbox[s]) for s in STRIDES] + [(f"kps_{s}", kps[s]) for s in STRIDES])
    constant_model(os.path.join(out_dir, "yunet_2023_mar_synthetic.onnx"), "input", outputs)

    faces = []
    for s in STRIDES:
        c, o = cls[s].astype(np.float32), obj[s].astype(np.float32)
        b, k = bbox[s].astype(np.float32)[0], kps[s].astype(np.float32)[0]
        scores = (c * o).reshape(-1)
        a = anchors(s, 1)
        for idx in np.where(scores >= 0.5)[0]:
            centre = b[idx, :2] * s + a[idx]
            size = np.exp(b[idx, 2:4]) * s
            points = [k[idx, 2 * p:2 * p + 2] * s + a[idx] for p in range(5)]
            faces.append(face([*(centre - size / 2), *(centre + size / 2)], scores[idx], points))
    CANDIDATES["yunet_2023_mar_synthetic.onnx"] = faces
    expected = nms(faces)
    assert len(expected) == 2, expected
    return expected


def scrfd(out_dir):
    score, bbox, kps = {}, {}, {}
    for s in STRIDES:
        n = (SIZE // s) ** 2 * 2
        score[s], bbox[s], kps[s] = np.zeros((1, n, 1)), np.zeros((1, n, 4)), np.zeros((1, n, 10))
    # Stride 16, row 12 col 25, second anchor -> anchor point (400, 192).
    i = (12 * 40 + 25) * 2 + 1
    score[16][0, i, 0] = 0.85
    bbox[16][0, i] = [3, 4, 3, 4]
    kps[16][0, i] = [-1.2, -1.5, 1.2, -1.5, 0, 0, -1, 1.8, 1, 1.8]
    # Stride 32, row 4 col 3, first anchor -> (96, 128).
    j = (4 * 20 + 3) * 2
    score[32][0, j, 0] = 0.75
    bbox[32][0, j] = [1.5, 2, 1.5, 2]
    kps[32][0, j] = [-0.6, -0.8, 0.6, -0.8, 0, 0, -0.5, 0.9, 0.5, 0.9]
    outputs = ([(f"score_{s}", score[s]) for s in STRIDES] + [(f"bbox_{s}", bbox[s]) for s in STRIDES]
               + [(f"kps_{s}", kps[s]) for s in STRIDES])
    constant_model(os.path.join(out_dir, "scrfd_2.5g_signature.onnx"), "input.1", outputs)

    faces = []
    for s in STRIDES:
        a = anchors(s, 2)
        sc, bb, kp = score[s][0, :, 0].astype(np.float32), bbox[s][0].astype(np.float32) * s, kps[s][0].astype(np.float32) * s
        for idx in np.where(sc >= 0.5)[0]:
            x, y = a[idx]
            points = [(x + kp[idx, 2 * p], y + kp[idx, 2 * p + 1]) for p in range(5)]
            faces.append(face([x - bb[idx, 0], y - bb[idx, 1], x + bb[idx, 2], y + bb[idx, 3]], sc[idx], points))
    CANDIDATES["scrfd_2.5g_signature.onnx"] = faces
    expected = nms(faces)
    assert len(expected) == 2, expected
    return expected


def retinaface(out_dir):
    """retinaface_10g stand-in. FaceFusion (face_detector.py, detect_with_retinaface) feeds it one input named
    `input` ((x - 127.5) / 128, BGR, the frame top-left on a zero canvas; FaceFusion offers 160 to 640, so the input
    is [1, 3, height, width]) and reads its 9 outputs by position: scores of strides 8, 16, 32, then boxes, then
    keypoints. It treats them as 2-D arrays (the first axis of a score array is the candidate index, box distances
    are its columns), so each output is [N, 1], [N, 4] or [N, 10] without a batch axis,
    N = (640 / stride)^2 x 2 at 640. Decoding (as for SCRFD): anchor points of a stride are the cell corners
    (column * stride, row * stride), row-major with the column fastest, each twice; box = anchor -/+ distance x stride
    (left, top, right, bottom); keypoint = anchor + offset x stride; kept where score >= threshold. There is no prior
    box size and no variance factor in FaceFusion's contract for this export. The output names are not read by
    FaceFusion or Swapline; those below are ours.

    Planted faces (640 input pixels), chosen against the other stand-ins for the "many" merge:
    - stride 16, row 15, column 20, second anchor (320, 240): nearly the YOLOFace stand-in's first face (IoU ~0.9),
      score 0.88 < 0.9, so "many" keeps only the YOLOFace one;
    - stride 32, row 5, column 4, first anchor (128, 160): overlaps the SCRFD stand-in's stride-32 face with IoU
      0.23, score 0.8 > 0.75: both survive NMS 0.4, "many" (0.1) keeps only this one;
    - stride 8, row 20, column 60, second anchor (480, 160): only here, score 0.92;
    - stride 8, row 20, column 61, first anchor: the same face again at 0.65 (IoU 0.94), removed by NMS;
    - stride 16, row 22, column 30, first anchor (480, 352): only here, score 0.6 (dropped at --face-detector-score 0.7);
    - stride 32, row 2, column 15, second anchor: score 0.3, below the threshold.
    """
    score, bbox, kps = {}, {}, {}
    for s in STRIDES:
        n = (SIZE // s) ** 2 * 2
        score[s], bbox[s], kps[s] = np.zeros((n, 1)), np.zeros((n, 4)), np.zeros((n, 10))

    def plant(stride, row, column, anchor, value, sides, points):
        """sides: pixel distances left, top, right, bottom; points: five pixel offsets from the anchor point."""
        index = (row * (SIZE // stride) + column) * 2 + anchor
        score[stride][index, 0] = value
        bbox[stride][index] = np.array(sides, dtype=np.float64) / stride
        kps[stride][index] = np.array(points, dtype=np.float64).ravel() / stride

    plant(16, 15, 20, 1, 0.88, [52, 58, 48, 62], [(-30, -20), (30, -20), (0, 10), (-25, 35), (25, 35)])
    plant(32, 5, 4, 0, 0.8, [32, 64, 64, 64], [(-16, -24), (32, -24), (8, 8), (-8, 40), (24, 40)])
    plant(8, 20, 60, 1, 0.92, [30, 40, 34, 40], [(-14, -12), (14, -12), (0, 4), (-10, 20), (10, 20)])
    plant(8, 20, 61, 0, 0.65, [36, 40, 28, 40], [(-20, -12), (8, -12), (-6, 4), (-16, 20), (4, 20)])
    plant(16, 22, 30, 0, 0.6, [24, 30, 24, 30], [(-10, -10), (10, -10), (0, 2), (-8, 16), (8, 16)])
    plant(32, 2, 15, 1, 0.3, [32, 32, 32, 32], [(0, 0)] * 5)
    outputs = ([(f"score_{s}", score[s]) for s in STRIDES] + [(f"bbox_{s}", bbox[s]) for s in STRIDES]
               + [(f"kps_{s}", kps[s]) for s in STRIDES])
    constant_model(os.path.join(out_dir, "retinaface_10g_synthetic.onnx"), "input", outputs,
                   input_shape=(1, 3, "height", "width"))

    # Independent decoder: anchors from an explicit (row, column) loop, as FaceFusion lays them out.
    faces = []
    for s in STRIDES:
        cells = SIZE // s
        points = np.array([(column * s, row * s) for row in range(cells) for column in range(cells) for _ in range(2)],
                          dtype=np.float32)
        sc, bb, kp = score[s][:, 0].astype(np.float32), bbox[s].astype(np.float32) * s, kps[s].astype(np.float32) * s
        for idx in np.flatnonzero(sc >= 0.5):
            x, y = points[idx]
            faces.append(face([x - bb[idx, 0], y - bb[idx, 1], x + bb[idx, 2], y + bb[idx, 3]], sc[idx],
                              [(x + kp[idx, 2 * p], y + kp[idx, 2 * p + 1]) for p in range(5)]))
    CANDIDATES["retinaface_10g_synthetic.onnx"] = faces
    expected = nms(faces)
    assert [round(f["score"], 2) for f in expected] == [0.92, 0.88, 0.8, 0.6], expected
    return expected


def many_expectation():
    """FaceFusion's "many": retinaface, scrfd and yolo_face (not yunet) candidates together, one NMS at IoU 0.1."""
    files = ["retinaface_10g_synthetic.onnx", "scrfd_2.5g_signature.onnx", "yoloface_8n_synthetic.onnx"]
    candidates = [dict(f, source=name) for name in files for f in CANDIDATES[name]]
    expected = nms(candidates, iou_threshold=0.1)
    # The YOLOFace face absorbs retinaface's near copy; retinaface's 0.8 face absorbs SCRFD's 0.75 one.
    assert [(f["source"][:4], round(f["score"], 2)) for f in expected] == [
        ("reti", 0.92), ("yolo", 0.9), ("scrf", 0.85), ("reti", 0.8), ("yolo", 0.7), ("reti", 0.6)], expected
    return expected


def typed_models(out_dir):
    """Plumbing models for the tensor types: fp16 with dynamic spatial dimensions, and int64."""
    half = helper.make_graph(
        [helper.make_node("Mul", ["image", "two"], ["doubled"])], "fp16_double",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT16, [1, 3, "height", "width"])],
        [helper.make_tensor_value_info("doubled", TensorProto.FLOAT16, [1, 3, "height", "width"])],
        [numpy_helper.from_array(np.array(2.0, dtype=np.float16), "two")])
    integer = helper.make_graph(
        [helper.make_node("Add", ["ids", "one"], ["next_ids"])], "int64_increment",
        [helper.make_tensor_value_info("ids", TensorProto.INT64, ["count"])],
        [helper.make_tensor_value_info("next_ids", TensorProto.INT64, ["count"])],
        [numpy_helper.from_array(np.array(1, dtype=np.int64), "one")])
    for graph, name in ((half, "fp16_double.onnx"), (integer, "int64_increment.onnx")):
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="swapline-test-models")
        model.ir_version = 7
        onnx.checker.check_model(model)
        with open(os.path.join(out_dir, name), "wb") as handle:
            handle.write(model.SerializeToString())


def swapper_models(out_dir):
    """Swapper/recogniser plumbing models with FaceFusion's input names and shapes.

    - inswapper_128_synthetic.onnx: inputs target [1,3,128,128] and source [1,512]; its output
      carries the source vector it was fed in its first 512 values (channel 0, rows 0-3), so a
      test can check the emap projection; the LAST initializer is a 512x512 emap, as in the
      real inswapper. swapper_expectations.json["inswapper_source"] holds raw.emap/|raw| for
      the raw embedding cos(0.1 i), computed here with numpy.
    - hyperswap_1a_256_identity.onnx: inputs source [1,512], target [1,3,256,256]; output =
      target (identity), for layout/normalisation and pixel-boost round trips.
    - arcface_w600k_r50_synthetic.onnx: input [1,3,112,112] -> [1,512]: the channel means times
      a fixed 3x512 matrix, so embeddings depend on the crop's colour.
    """
    rng = np.random.default_rng(7)
    emap = rng.standard_normal((512, 512)).astype(np.float32) / 16
    pad = np.zeros((1, 3 * 128 * 128 - 512), dtype=np.float32)
    nodes = [
        helper.make_node("Concat", ["source", "pad"], ["flat"], axis=1),
        helper.make_node("Reshape", ["flat", "shape"], ["carried"]),
        helper.make_node("Mul", ["target", "zero"], ["silent"]),
        helper.make_node("Add", ["carried", "silent"], ["output"]),
    ]
    graph = helper.make_graph(
        nodes, "inswapper_synthetic",
        [helper.make_tensor_value_info("target", TensorProto.FLOAT, [1, 3, 128, 128]),
         helper.make_tensor_value_info("source", TensorProto.FLOAT, [1, 512])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 3, 128, 128])],
        [numpy_helper.from_array(np.array(0.0, dtype=np.float32), "zero"),
         numpy_helper.from_array(pad, "pad"),
         numpy_helper.from_array(np.array([1, 3, 128, 128], dtype=np.int64), "shape"),
         numpy_helper.from_array(emap, "emap")])
    write(graph, os.path.join(out_dir, "inswapper_128_synthetic.onnx"))
    raw = np.cos(0.1 * np.arange(512)).astype(np.float32).reshape(1, 512)
    projected = (raw @ emap) / np.linalg.norm(raw)

    identity = helper.make_graph(
        [helper.make_node("ReduceSum", ["source"], ["source_sum"], keepdims=0),
         helper.make_node("Mul", ["source_sum", "zero"], ["silent"]),
         helper.make_node("Add", ["target", "silent"], ["output"])],
        "hyperswap_identity",
        [helper.make_tensor_value_info("source", TensorProto.FLOAT, [1, 512]),
         helper.make_tensor_value_info("target", TensorProto.FLOAT, [1, 3, 256, 256])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 3, 256, 256])],
        [numpy_helper.from_array(np.array(0.0, dtype=np.float32), "zero")])
    write(identity, os.path.join(out_dir, "hyperswap_1a_256_identity.onnx"))

    weights = rng.standard_normal((3, 512)).astype(np.float32)
    arcface = helper.make_graph(
        [helper.make_node("ReduceMean", ["input"], ["means"], axes=[2, 3], keepdims=0),
         helper.make_node("MatMul", ["means", "weights"], ["embedding"])],
        "arcface_synthetic",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 112, 112])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, [1, 512])],
        [numpy_helper.from_array(weights, "weights")])
    write(arcface, os.path.join(out_dir, "arcface_w600k_r50_synthetic.onnx"))
    return [float(v) for v in projected.ravel()]


def mask_models(out_dir):
    """Occluder/parser/swapper stand-ins that make occlusion testable without the real models.

    - xseg_1_bluescarf.onnx: xseg signature, input [1,256,256,3] NHWC BGR/255 -> [1,256,256,1];
      1 (face) everywhere except where the pixel is saturated blue (B > 0.8, G and R < 0.3),
      which it calls an occluder - a blue scarf in the tests.
    - bisenet_resnet_34_bluescarf.onnx: bisenet signature, input [1,3,512,512] RGB ImageNet-normalised
      -> [1,19,512,512] logits: class 1 (skin) everywhere, class 0 (background) wins on blue.
    - hyperswap_1a_256_negative.onnx: hyperswap signature whose output is -target, i.e. the
      inverted face after de-normalisation, so every swapped pixel visibly changes.
    """
    def blue_from_nhwc():
        return [
            helper.make_node("Split", ["input"], ["b", "g", "r"], axis=3),
            helper.make_node("Greater", ["b", "hi"], ["b_hi"]),
            helper.make_node("Less", ["g", "lo"], ["g_lo"]),
            helper.make_node("Less", ["r", "lo"], ["r_lo"]),
            helper.make_node("And", ["b_hi", "g_lo"], ["bg"]),
            helper.make_node("And", ["bg", "r_lo"], ["blue_bool"]),
            helper.make_node("Cast", ["blue_bool"], ["blue"], to=TensorProto.FLOAT),
        ]
    thresholds = [numpy_helper.from_array(np.array(0.8, dtype=np.float32), "hi"),
                  numpy_helper.from_array(np.array(0.3, dtype=np.float32), "lo"),
                  numpy_helper.from_array(np.array(1.0, dtype=np.float32), "one")]
    xseg = helper.make_graph(
        blue_from_nhwc() + [helper.make_node("Sub", ["one", "blue"], ["output"])], "xseg_bluescarf",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 256, 256, 3])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 256, 256, 1])], thresholds)
    write(xseg, os.path.join(out_dir, "xseg_1_bluescarf.onnx"))

    # ImageNet-normalised thresholds for the same blue test on RGB planes.
    mean, std = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])
    hi_b, lo_r, lo_g = (0.8 - mean[2]) / std[2], (0.3 - mean[0]) / std[0], (0.3 - mean[1]) / std[1]
    parser = helper.make_graph(
        [helper.make_node("Split", ["input"], ["r", "g", "b"], axis=1),
         helper.make_node("Greater", ["b", "hi_b"], ["b_hi"]),
         helper.make_node("Less", ["g", "lo_g"], ["g_lo"]),
         helper.make_node("Less", ["r", "lo_r"], ["r_lo"]),
         helper.make_node("And", ["b_hi", "g_lo"], ["bg"]),
         helper.make_node("And", ["bg", "r_lo"], ["blue_bool"]),
         helper.make_node("Cast", ["blue_bool"], ["blue"], to=TensorProto.FLOAT),
         helper.make_node("Mul", ["blue", "two"], ["background"]),
         helper.make_node("Mul", ["r", "zero"], ["zeros"]),
         helper.make_node("Add", ["zeros", "one"], ["skin"]),
         helper.make_node("Tile", ["zeros", "repeats"], ["rest"]),
         helper.make_node("Concat", ["background", "skin", "rest"], ["output"], axis=1)],
        "bisenet_bluescarf",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 512, 512])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 19, 512, 512])],
        [numpy_helper.from_array(np.array(v, dtype=np.float32), n) for n, v in
         (("hi_b", hi_b), ("lo_g", lo_g), ("lo_r", lo_r), ("two", 2.0), ("zero", 0.0), ("one", 1.0))]
        + [numpy_helper.from_array(np.array([1, 17, 1, 1], dtype=np.int64), "repeats")])
    write(parser, os.path.join(out_dir, "bisenet_resnet_34_bluescarf.onnx"))

    negative = helper.make_graph(
        [helper.make_node("ReduceSum", ["source"], ["source_sum"], keepdims=0),
         helper.make_node("Mul", ["source_sum", "zero"], ["silent"]),
         helper.make_node("Neg", ["target"], ["inverted"]),
         helper.make_node("Add", ["inverted", "silent"], ["output"])],
        "hyperswap_negative",
        [helper.make_tensor_value_info("source", TensorProto.FLOAT, [1, 512]),
         helper.make_tensor_value_info("target", TensorProto.FLOAT, [1, 3, 256, 256])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 3, 256, 256])],
        [numpy_helper.from_array(np.array(0.0, dtype=np.float32), "zero")])
    write(negative, os.path.join(out_dir, "hyperswap_1a_256_negative.onnx"))


def swapper_probe_models(out_dir):
    """Swapper probes: output plane 0 = target plane 0, plane 1 = 0.5 x target plane 0, plane 2 = 0.25, so the colour
    a swap produces on a uniform crop depends on the input plane order, the input normalisation, the output
    de-normalisation and the output plane order. Signatures as FaceFusion's zoo files (inputs named source/target):

    - inswapper_128_probe.onnx: target [1,3,128,128], source [1,512]; LAST initializer a 512x512 emap (as inswapper).
    - simswap_256_probe.onnx, ghost_1_256_probe.onnx, hififace_unofficial_256_probe.onnx: source [1,512],
      target [1,3,256,256].
    All outputs [1,3,size,size] named output.
    """
    def probe(name, size, inputs, emap=None):
        nodes = [
            helper.make_node("Split", ["target"], ["t0", "t1", "t2"], axis=1),
            helper.make_node("ReduceSum", ["source"], ["source_sum"], keepdims=0),
            helper.make_node("Mul", ["source_sum", "zero"], ["silent"]),
            helper.make_node("Add", ["t0", "silent"], ["o0"]),
            helper.make_node("Mul", ["t0", "half"], ["o1"]),
            helper.make_node("Mul", ["t2", "zero"], ["t2_zero"]),
            helper.make_node("Add", ["t2_zero", "quarter"], ["o2"]),
            helper.make_node("Concat", ["o0", "o1", "o2"], ["output"], axis=1),
        ]
        initializers = [numpy_helper.from_array(np.array(v, dtype=np.float32), n)
                        for n, v in (("zero", 0.0), ("half", 0.5), ("quarter", 0.25))]
        if emap is not None:
            initializers.append(numpy_helper.from_array(emap, "emap"))
        declared = {"source": helper.make_tensor_value_info("source", TensorProto.FLOAT, [1, 512]),
                    "target": helper.make_tensor_value_info("target", TensorProto.FLOAT, [1, 3, size, size])}
        graph = helper.make_graph(nodes, name, [declared[n] for n in inputs],
                                  [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 3, size, size])], initializers)
        write(graph, os.path.join(out_dir, name + ".onnx"))

    probe("inswapper_128_probe", 128, ["target", "source"], emap=np.eye(512, dtype=np.float32))
    for name in ("simswap_256_probe", "ghost_1_256_probe", "hififace_unofficial_256_probe"):
        probe(name, 256, ["source", "target"])


def mask_probe_models(out_dir):
    """Mask probes (FaceFusion face_masker.py: create_occlusion_mask feeds xseg the crop resized to 256, NHWC, its
    OpenCV BGR channels / 255; create_region_mask feeds bisenet the crop resized to 512, RGB, (x / 255 - ImageNet
    mean) / ImageNet std, NCHW, and keeps pixels whose arg-max class is a chosen region).

    - xseg_1_probe.onnx: [1,256,256,3] -> [1,256,256,1] = input channel 0 (blue under FaceFusion's BGR feed).
    - bisenet_resnet_34_probe.onnx: [1,3,512,512] -> [1,19,512,512] logits: class 0 (background) = -2, class 1
      (skin) = input plane 0, classes 2-18 = -10. Skin wins where (R / 255 - 0.485) / 0.229 > -2, i.e. R >= 7:
      R = 8 is skin, R = 6 background, under FaceFusion's red mean and std only.
    """
    xseg = helper.make_graph(
        [helper.make_node("Slice", ["input", "start", "end", "axes"], ["output"])], "xseg_probe",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 256, 256, 3])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 256, 256, 1])],
        [numpy_helper.from_array(np.array([0], dtype=np.int64), "start"),
         numpy_helper.from_array(np.array([1], dtype=np.int64), "end"),
         numpy_helper.from_array(np.array([3], dtype=np.int64), "axes")])
    write(xseg, os.path.join(out_dir, "xseg_1_probe.onnx"))
    mean, std = 0.485, 0.229  # ImageNet red, as FaceFusion's create_region_mask
    assert (8 / 255 - mean) / std > -2 > (6 / 255 - mean) / std
    parser = helper.make_graph(
        [helper.make_node("Slice", ["input", "start", "end", "axes"], ["skin"]),
         helper.make_node("Mul", ["skin", "zero"], ["zeros"]),
         helper.make_node("Add", ["zeros", "minus_two"], ["background"]),
         helper.make_node("Add", ["zeros", "minus_ten"], ["low"]),
         helper.make_node("Tile", ["low", "repeats"], ["rest"]),
         helper.make_node("Concat", ["background", "skin", "rest"], ["output"], axis=1)],
        "bisenet_probe",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 512, 512])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 19, 512, 512])],
        [numpy_helper.from_array(np.array([0], dtype=np.int64), "start"),
         numpy_helper.from_array(np.array([1], dtype=np.int64), "end"),
         numpy_helper.from_array(np.array([1], dtype=np.int64), "axes"),
         numpy_helper.from_array(np.array([1, 17, 1, 1], dtype=np.int64), "repeats")]
        + [numpy_helper.from_array(np.array(v, dtype=np.float32), n) for n, v in (("zero", 0.0), ("minus_two", -2.0), ("minus_ten", -10.0))])
    write(parser, os.path.join(out_dir, "bisenet_resnet_34_probe.onnx"))


def enhancer_models(out_dir):
    """Enhancer stand-ins with FaceFusion's names and shapes.

    - gfpgan_1.4_negative.onnx: input [1,3,512,512] -> -input (the inverted face after mapping back).
    - real_esrgan_x2_nearest.onnx: input [1,3,H,W] -> nearest-neighbour x2 [1,3,2H,2W], so a
      correctly stitched tiled result equals a plain nearest upscale of the whole frame.
    """
    gfpgan = helper.make_graph(
        [helper.make_node("Neg", ["input"], ["output"])], "gfpgan_negative",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 512, 512])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 3, 512, 512])])
    write(gfpgan, os.path.join(out_dir, "gfpgan_1.4_negative.onnx"))
    esrgan = helper.make_graph(
        [helper.make_node("Resize", ["input", "", "scales"], ["output"], mode="nearest")], "esrgan_nearest",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, "height", "width"])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 3, "out_height", "out_width"])],
        [numpy_helper.from_array(np.array([1, 1, 2, 2], dtype=np.float32), "scales")])
    write(esrgan, os.path.join(out_dir, "real_esrgan_x2_nearest.onnx"))


# FaceFusion conventions the probe stand-ins below are written against, stated here independently
# of Swapline's Swift code (read from facefusion/facefusion 3.8.1):
# - face_helper.py WARP_TEMPLATE_SET['ffhq_512'] (normalised 5-point template).
FFHQ_512 = np.array([[0.37691676, 0.46864664], [0.62285697, 0.46912813], [0.50123859, 0.61331904],
                     [0.39308822, 0.72541100], [0.61150205, 0.72490465]])
# - face_landmarker.py detect_with_2dfan4 / detect_with_peppa_wutz: the frame (OpenCV, BGR) is cropped by
#   scale = 195 / max(box side), translation = (256 - (x1 + x2, y1 + y2) * scale) / 2 into 256 x 256 (black
#   outside the frame), fed as its BGR planes / 255; landmark rows are on a 64 grid (times 256 / 64), mapped back
#   through the inverse crop; 2dfan4 score = mean of the heatmap maxima mapped [0, 0.9] -> [0, 1], peppa_wutz score =
#   mean of the rows' third values mapped [0, 0.95] -> [0, 1].
# - estimate_face_landmark_68_5: the five points go through the similarity onto ffhq_512 at size (1, 1), the model
#   returns 68 points in that unit frame, which go back through the inverse similarity.
#
# The landmark scene (frame RGB, as Swapline holds images): a uniform green frame whose blue channel is 0, and a
# 3 x 3 spot centred on frame pixel SPOT (blue value 204 = 0.8 after / 255) near the lower-left edge of BOX.
LANDMARK_SCENE = {"frame_size": [320, 320], "background_rgb": [0, 150, 0], "box": [100, 60, 230, 250],
                  "spot": [108, 241], "spot_radius": 1, "spot_rgb": [0, 150, 204], "wrong_channel_spot_rgb": [204, 150, 0]}
# Per-point offsets on the 64 grid, spreading the decoded points over most of the crop (x up to 230, y down to 108
# crop pixels) so that a wrong 256 / 64 factor moves the far points measurably.
LANDMARK_OFFSETS = np.array([[(i % 17) * 2.5, -(i // 17) * 9.0] for i in range(68)], dtype=np.float32)
HEATMAP_PEAK = 0.72  # 2dfan4 stand-in: every heatmap's maximum = 0.72 x (window maximum of the probed plane)
PEPPA_CONFIDENCE = 0.855  # peppa_wutz stand-in: every row's confidence = 0.855 x (window maximum)


def landmark_crop_matrix(box):
    """FaceFusion's 2dfan4/peppa_wutz crop: frame pixel -> 256 x 256 crop pixel (2 x 3)."""
    box = np.asarray(box, dtype=np.float64)
    scale = 195 / max(1.0, (box[2:] - box[:2]).max())
    translation = (256 - (box[2:] + box[:2]) * scale) * 0.5
    return np.array([[scale, 0, translation[0]], [0, scale, translation[1]]])


def spot_finder_nodes(window):
    """Nodes reading `input` [1,3,256,256]: plane 0 only (blue under FaceFusion's BGR feed).

    cx, cy: its intensity centroid in crop pixels (0 when the plane is empty); peak: its maximum over the crop
    pixels window = (x0, y0, x1, y1) (inclusive), which only sees the spot's full value when the crop geometry is
    FaceFusion's (within about a pixel)."""
    x0, y0, x1, y1 = window
    ys, xs = np.mgrid[:256, :256].astype(np.float32)
    nodes = [
        helper.make_node("Split", ["input"], ["plane", "plane_1", "plane_2"], axis=1),
        helper.make_node("ReduceSum", ["plane"], ["mass_raw"], keepdims=0),
        helper.make_node("Add", ["mass_raw", "tiny"], ["mass"]),
        helper.make_node("Mul", ["plane", "grid_x"], ["weighted_x"]),
        helper.make_node("Mul", ["plane", "grid_y"], ["weighted_y"]),
        helper.make_node("ReduceSum", ["weighted_x"], ["sum_x"], keepdims=0),
        helper.make_node("ReduceSum", ["weighted_y"], ["sum_y"], keepdims=0),
        helper.make_node("Div", ["sum_x", "mass"], ["cx"]),
        helper.make_node("Div", ["sum_y", "mass"], ["cy"]),
        helper.make_node("Unsqueeze", ["cx", "axis0"], ["cx1"]),
        helper.make_node("Unsqueeze", ["cy", "axis0"], ["cy1"]),
        helper.make_node("Concat", ["cx1", "cy1"], ["centroid"], axis=0),
        helper.make_node("Mul", ["centroid", "quarter"], ["centroid64"]),  # crop pixels -> 64 grid
        helper.make_node("Add", ["centroid64", "offsets"], ["points"]),  # [1,68,2]
        helper.make_node("Slice", ["plane", "window_start", "window_end", "window_axes"], ["window"]),
        helper.make_node("ReduceMax", ["window"], ["peak"], keepdims=0),
    ]
    initializers = [
        numpy_helper.from_array(xs.reshape(1, 1, 256, 256), "grid_x"),
        numpy_helper.from_array(ys.reshape(1, 1, 256, 256), "grid_y"),
        numpy_helper.from_array(np.array(1e-6, dtype=np.float32), "tiny"),
        numpy_helper.from_array(np.array(0.25, dtype=np.float32), "quarter"),
        numpy_helper.from_array(np.array([0], dtype=np.int64), "axis0"),
        numpy_helper.from_array(LANDMARK_OFFSETS.reshape(1, 68, 2), "offsets"),
        numpy_helper.from_array(np.array([y0, x0], dtype=np.int64), "window_start"),
        numpy_helper.from_array(np.array([y1 + 1, x1 + 1], dtype=np.int64), "window_end"),
        numpy_helper.from_array(np.array([2, 3], dtype=np.int64), "window_axes"),
    ]
    return nodes, initializers


def landmarker_models(out_dir):
    """Landmarker probes with FaceFusion's input names and output layouts (see LANDMARK_SCENE and the notes above).

    - 2dfan4_spot.onnx: input [1,3,256,256] -> landmarks [1,68,3] (point i = centroid of input plane 0 / 4 +
      LANDMARK_OFFSETS[i], third value = window peak) and heatmaps [1,68,64,64] (each map's maximum =
      HEATMAP_PEAK x window peak).
    - peppa_wutz_spot.onnx: input [1,3,256,256] -> [1,204] rows (x, y, PEPPA_CONFIDENCE x window peak).
    - fan_68_5_ffhq.onnx: input [1,5,2] -> [1,68,2], point i = 2 x ffhq_512[i % 5] - input[i % 5]: the
      template itself exactly when it is fed the five points in FaceFusion's unit ffhq_512 frame.

    Returns landmarker_expectations.json: the scene and, computed here from FaceFusion's formulas, where a correct
    decoder puts the points and what score it reports.
    """
    matrix = landmark_crop_matrix(LANDMARK_SCENE["box"])
    spot = np.array(LANDMARK_SCENE["spot"], dtype=np.float64)
    spot_in_crop = matrix[:, :2] @ spot + matrix[:, 2]
    # The crop pixels whose bilinear sample lies wholly inside the spot (its full-value plateau), kept 0.25 px in.
    radius = LANDMARK_SCENE["spot_radius"]
    low = matrix[:, :2] @ (spot - radius) + matrix[:, 2]
    high = matrix[:, :2] @ (spot + radius) + matrix[:, 2]
    first, last = np.ceil(low + 0.25).astype(int), np.floor(high - 0.25).astype(int)
    assert (last >= first).all(), (low, high)
    window = [int(first[0]), int(first[1]), int(last[0]), int(last[1])]
    # The window misses the spot under a crop moved by 3 px or more (e.g. another centring or scale).
    assert (low + 3 > last).all() and (high - 3 < first).all()
    peak = LANDMARK_SCENE["spot_rgb"][2] / 255.0

    nodes, initializers = spot_finder_nodes(window)
    heatmap_base = np.zeros((1, 68, 64, 64), dtype=np.float32)
    heatmap_base[0, :, 5, 7] = HEATMAP_PEAK
    fan = helper.make_graph(
        nodes + [
            helper.make_node("Mul", ["ones_68", "peak"], ["third"]),
            helper.make_node("Concat", ["points", "third"], ["landmarks"], axis=2),
            helper.make_node("Mul", ["heatmap_base", "peak"], ["heatmaps"]),
        ], "2dfan4_spot",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 256, 256])],
        [helper.make_tensor_value_info("landmarks", TensorProto.FLOAT, [1, 68, 3]),
         helper.make_tensor_value_info("heatmaps", TensorProto.FLOAT, [1, 68, 64, 64])],
        initializers + [numpy_helper.from_array(np.ones((1, 68, 1), dtype=np.float32), "ones_68"),
                        numpy_helper.from_array(heatmap_base, "heatmap_base")])
    write(fan, os.path.join(out_dir, "2dfan4_spot.onnx"))

    nodes, initializers = spot_finder_nodes(window)
    peppa = helper.make_graph(
        nodes + [
            helper.make_node("Mul", ["confidence_68", "peak"], ["confidence"]),
            helper.make_node("Concat", ["points", "confidence"], ["rows"], axis=2),
            helper.make_node("Reshape", ["rows", "flat_shape"], ["output"]),
        ], "peppa_wutz_spot",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 256, 256])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 204])],
        initializers + [numpy_helper.from_array(np.full((1, 68, 1), PEPPA_CONFIDENCE, dtype=np.float32), "confidence_68"),
                        numpy_helper.from_array(np.array([1, 204], dtype=np.int64), "flat_shape")])
    write(peppa, os.path.join(out_dir, "peppa_wutz_spot.onnx"))

    selector = np.zeros((68, 5), dtype=np.float32)
    for i in range(68):
        selector[i, i % 5] = 1
    doubled_template = (2 * FFHQ_512[np.arange(68) % 5]).astype(np.float32).reshape(1, 68, 2)
    fan_68_5 = helper.make_graph(
        [helper.make_node("MatMul", ["selector", "input"], ["selected"]),
         helper.make_node("Sub", ["doubled_template", "selected"], ["output"])], "fan_68_5_ffhq",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 5, 2])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 68, 2])],
        [numpy_helper.from_array(selector, "selector"), numpy_helper.from_array(doubled_template, "doubled_template")])
    write(fan_68_5, os.path.join(out_dir, "fan_68_5_ffhq.onnx"))

    # FaceFusion's decoding of the probes' outputs for the scene, assuming the centroid lands on the spot's crop
    # position (bilinear resampling of a symmetric spot moves it by a small fraction of a pixel).
    inverse = np.linalg.inv(np.vstack([matrix, [0, 0, 1]]))[:2]
    def decoded(rows64):
        crop = rows64 / 64 * 256
        return (crop @ inverse[:, :2].T + inverse[:, 2]).tolist()
    rows64 = spot_in_crop / 4 + LANDMARK_OFFSETS.astype(np.float64)
    return {
        "scene": LANDMARK_SCENE,
        "score_window_in_crop": window,
        "2dfan4": {"points": decoded(rows64), "score": float(np.interp(HEATMAP_PEAK * peak, [0, 0.9], [0, 1]))},
        "peppa_wutz": {"points": decoded(rows64), "score": float(np.interp(PEPPA_CONFIDENCE * peak, [0, 0.95], [0, 1]))},
    }


def converter_models(out_dir):
    """crossface_double.onnx: input [1,512] -> 2 x input (a crossface converter stand-in);
    carrier_256.onnx: swapper signature (source [1,512], target [1,3,256,256]) whose output carries
    the source it was fed in its first 512 values."""
    double = helper.make_graph(
        [helper.make_node("Mul", ["input", "two"], ["output"])], "crossface_double",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 512])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 512])],
        [numpy_helper.from_array(np.array(2.0, dtype=np.float32), "two")])
    write(double, os.path.join(out_dir, "crossface_double.onnx"))
    pad = np.zeros((1, 3 * 256 * 256 - 512), dtype=np.float32)
    carrier = helper.make_graph(
        [helper.make_node("Concat", ["source", "pad"], ["flat"], axis=1),
         helper.make_node("Reshape", ["flat", "shape"], ["carried"]),
         helper.make_node("Mul", ["target", "zero"], ["silent"]),
         helper.make_node("Add", ["carried", "silent"], ["output"])],
        "carrier_256",
        [helper.make_tensor_value_info("source", TensorProto.FLOAT, [1, 512]),
         helper.make_tensor_value_info("target", TensorProto.FLOAT, [1, 3, 256, 256])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 3, 256, 256])],
        [numpy_helper.from_array(np.array(0.0, dtype=np.float32), "zero"), numpy_helper.from_array(pad, "pad"),
         numpy_helper.from_array(np.array([1, 3, 256, 256], dtype=np.int64), "shape")])
    write(carrier, os.path.join(out_dir, "carrier_256.onnx"))


def write(graph, path):
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="swapline-test-models")
    model.ir_version = 7
    onnx.checker.check_model(model)
    with open(path, "wb") as handle:
        handle.write(model.SerializeToString())


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    expectations = {
        "yoloface_8n_synthetic.onnx": yoloface(out_dir),
        "yunet_2023_mar_synthetic.onnx": yunet(out_dir),
        "scrfd_2.5g_signature.onnx": scrfd(out_dir),
        "retinaface_10g_synthetic.onnx": retinaface(out_dir),
    }
    expectations["many"] = many_expectation()
    typed_models(out_dir)
    mask_models(out_dir)
    mask_probe_models(out_dir)
    swapper_probe_models(out_dir)
    enhancer_models(out_dir)
    with open(os.path.join(out_dir, "landmarker_expectations.json"), "w") as handle:
        json.dump(landmarker_models(out_dir), handle, indent=1)
    converter_models(out_dir)
    with open(os.path.join(out_dir, "swapper_expectations.json"), "w") as handle:
        json.dump({"inswapper_source": swapper_models(out_dir)}, handle)
    with open(os.path.join(out_dir, "expectations.json"), "w") as handle:
        json.dump(expectations, handle, indent=1)
    print(f"wrote {sum(name.endswith('.onnx') for name in os.listdir(out_dir))} synthetic models to {out_dir}")


if __name__ == "__main__":
    main()
