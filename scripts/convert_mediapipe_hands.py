#!/usr/bin/env python3
"""Convert MediaPipe's palm detector and hand landmarker (TensorFlow Lite, Apache-2.0) to ONNX.

Usage:
    python3 scripts/convert_mediapipe_hands.py IN.tflite OUT.onnx

IN is palm_detection_full.tflite / palm_detection_lite.tflite or hand_landmark_full.tflite /
hand_landmark_lite.tflite from the mediapipe wheel (mediapipe/modules/...). Which of the two
networks it is follows from its signature; anything else is refused.

Standard library only (like convert_dlib_recognizer.py): the TFLite flatbuffer is read with
`struct` following tensorflow/lite/schema/schema.fbs, and the ONNX model is written by
onnx_proto.py (opset 13).

ONNX interface (the TFLite model's own layout, NHWC, RGB, values 0..1):
    palm detector   input     float32 [1, 192, 192, 3]
                    boxes     float32 [1, 2016, 18]  per SSD anchor: box centre offset and size
                                                     in input pixels, then 7 keypoints (x, y)
                    scores    float32 [1, 2016, 1]   logits (apply a sigmoid)
    hand landmarker input     float32 [1, 224, 224, 3]
                    landmarks float32 [1, 63]        21 points (x, y, z) in input pixels
                    presence  float32 [1, 1]         hand presence (already a probability)
                    handedness float32 [1, 1]
                    world_landmarks float32 [1, 63]

Graph notes: activations run in NCHW (one Transpose after the input; RESHAPE sees NHWC order
again through a Transpose in front of it); DEQUANTIZE of float16 weights is folded into float32
initializers; TFLite's SAME padding becomes explicit pads (more at the end, as TensorFlow does);
PRELU becomes relu(x) + alpha * (x - relu(x)).

Exit status: 0 on success, 2 if the input is not one of these networks (or unreadable), 1 if the
output cannot be written.
"""

import struct
import sys
from array import array

from onnx_proto import INT64, FormatError, Graph, command_line, encode_model


# --- Flatbuffer reading (tables, vectors, strings; little-endian) -------------------------

class Table:
    def __init__(self, buf, pos):
        self.buf, self.pos = buf, pos
        vtable = pos - struct.unpack_from("<i", buf, pos)[0]
        self.vt_size = struct.unpack_from("<H", buf, vtable)[0]
        self.vtable = vtable

    def _field(self, index):
        offset = 4 + 2 * index
        if offset >= self.vt_size:
            return 0
        return struct.unpack_from("<H", self.buf, self.vtable + offset)[0]

    def scalar(self, index, fmt, default=0):
        o = self._field(index)
        return struct.unpack_from("<" + fmt, self.buf, self.pos + o)[0] if o else default

    def _indirect(self, index):
        o = self._field(index)
        if not o:
            return None
        at = self.pos + o
        return at + struct.unpack_from("<I", self.buf, at)[0]

    def table(self, index):
        at = self._indirect(index)
        return Table(self.buf, at) if at is not None else None

    def vector(self, index):
        """(start, length) of a vector field, or (0, 0) when absent."""
        at = self._indirect(index)
        if at is None:
            return 0, 0
        return at + 4, struct.unpack_from("<I", self.buf, at)[0]

    def ints(self, index):
        start, length = self.vector(index)
        return list(struct.unpack_from("<%di" % length, self.buf, start)) if length else []

    def tables(self, index):
        start, length = self.vector(index)
        return [Table(self.buf, start + 4 * i + struct.unpack_from("<I", self.buf, start + 4 * i)[0])
                for i in range(length)]

    def string(self, index):
        start, length = self.vector(index)
        return self.buf[start:start + length].decode("utf-8", "replace")

    def blob(self, index):
        start, length = self.vector(index)
        return self.buf[start:start + length]


# TFLite builtin operator codes and enums (schema.fbs).
ADD, CONCATENATION, CONV_2D, DEPTHWISE_CONV_2D, DEQUANTIZE = 0, 2, 3, 4, 6
FULLY_CONNECTED, LOGISTIC, MAX_POOL_2D, RESHAPE, RESIZE_BILINEAR = 9, 14, 17, 22, 23
PAD, MEAN, PRELU = 34, 40, 54
FLOAT32, FLOAT16, INT32 = 0, 1, 2
SAME = 0
ACT_NONE, ACT_RELU, ACT_RELU6 = 0, 1, 3

SIGNATURES = {
    # input shape, output shapes -> (kind, output names)
    ((1, 192, 192, 3), ((1, 2016, 18), (1, 2016, 1))): ("palm detector", ["boxes", "scores"]),
    ((1, 224, 224, 3), ((1, 63), (1, 1), (1, 1), (1, 63))):
        ("hand landmarker", ["landmarks", "presence", "handedness", "world_landmarks"]),
}


class Model:
    def __init__(self, data):
        if len(data) < 8 or data[4:8] != b"TFL3":
            raise FormatError("not a TensorFlow Lite flatbuffer (no TFL3 identifier)")
        root = Table(data, struct.unpack_from("<I", data, 0)[0])
        self.buffers = [b.blob(0) for b in root.tables(4)]
        self.opcodes = [max(c.scalar(0, "b"), c.scalar(3, "i")) for c in root.tables(1)]
        subgraphs = root.tables(2)
        if len(subgraphs) != 1:
            raise FormatError("%d subgraphs (expected 1)" % len(subgraphs))
        graph = subgraphs[0]
        self.tensors = [dict(shape=tuple(t.ints(0)), type=t.scalar(1, "b"), buffer=t.scalar(2, "I"),
                             name=t.string(3)) for t in graph.tables(0)]
        self.inputs, self.outputs = graph.ints(1), graph.ints(2)
        self.operators = [dict(code=self.opcodes[o.scalar(0, "I")], inputs=o.ints(1),
                               outputs=o.ints(2), options=o.table(4)) for o in graph.tables(3)]

    def data(self, index):
        t = self.tensors[index]
        raw = self.buffers[t["buffer"]] if t["buffer"] < len(self.buffers) else b""
        if not raw:
            return None
        if t["type"] == FLOAT32:
            values = array("f")
            values.frombytes(raw)
        elif t["type"] == FLOAT16:
            values = array("f", struct.unpack("<%de" % (len(raw) // 2), raw))
        elif t["type"] == INT32:
            values = array("i")
            values.frombytes(raw)
        else:
            raise FormatError("tensor %s has unsupported type %d" % (t["name"], t["type"]))
        if sys.byteorder == "big":
            values.byteswap()
        return values


# --- Conversion -------------------------------------------------------------------------

NHWC_TO_NCHW_AXIS = {0: 0, 1: 2, 2: 3, 3: 1}


def same_pads(size, kernel, stride, dilation=1):
    out = -(-size // stride)
    total = max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


def ohwi_to_oihw(values, o, h, w, i):
    out = array("f")
    block = h * w * i
    for oc in range(o):
        for ic in range(i):
            out.extend(values[oc * block + ic:(oc + 1) * block:i])
    return out


class Converter:
    def __init__(self, model):
        self.m = model
        self.g = Graph()
        self.names = {}      # tflite tensor index -> ONNX value name
        self.constants = {}  # tflite tensor index -> array of values (weights, folded dequantize)
        self.counts = {}

    def shape(self, index):
        return self.m.tensors[index]["shape"]

    def const(self, index):
        if index in self.constants:
            return self.constants[index]
        values = self.m.data(index)
        if values is None:
            raise FormatError("tensor %s has no data" % self.m.tensors[index]["name"])
        return values

    def activation(self, name, code):
        if code == ACT_NONE:
            return name
        if code == ACT_RELU:
            return self.g.node("Relu", [name])
        if code == ACT_RELU6:
            low = self.g.constant("zero", [], [0.0])
            high = self.g.constant("six", [], [6.0])
            return self.g.node("Clip", [name, low, high], prefix="relu6")
        raise FormatError("unsupported fused activation %d" % code)

    def operand(self, index):
        """The ONNX value of a tensor; constants become initializers (4-D ones as NCHW-broadcastable)."""
        if index in self.names:
            return self.names[index]
        values = self.const(index)
        shape = list(self.shape(index))
        if len(shape) >= 1 and len(shape) <= 3 and shape and shape[-1] > 1:
            # A per-channel constant next to a 4-D NCHW activation: channels to the front.
            channels = shape[-1]
            if all(d == 1 for d in shape[:-1]):
                return self.g.constant("c", [channels, 1, 1], values)
        return self.g.constant("c", shape, values)

    def convert(self):
        m, g = self.m, self.g
        (input_index,) = m.inputs
        self.names[input_index] = g.node("Transpose", ["input"], [("perm", [0, 3, 1, 2])], prefix="nchw")
        for op in m.operators:
            code, ins, outs, opt = op["code"], op["inputs"], op["outputs"], op["options"]
            self.counts[code] = self.counts.get(code, 0) + 1
            out = outs[0]
            if code == DEQUANTIZE:
                self.constants[out] = self.const(ins[0])
                continue
            if code in (CONV_2D, DEPTHWISE_CONV_2D):
                self.names[out] = self.conv(code, ins, opt)
            elif code == MAX_POOL_2D:
                _, h, w, _ = self.shape(ins[0])
                stride_w, stride_h = opt.scalar(1, "i", 1), opt.scalar(2, "i", 1)
                kw, kh = opt.scalar(3, "i", 1), opt.scalar(4, "i", 1)
                pads = [0, 0, 0, 0]
                if opt.scalar(0, "b") == SAME:
                    top, bottom = same_pads(h, kh, stride_h)
                    left, right = same_pads(w, kw, stride_w)
                    pads = [top, left, bottom, right]
                pooled = g.node("MaxPool", [self.names[ins[0]]], [
                    ("kernel_shape", [kh, kw]), ("strides", [stride_h, stride_w]), ("pads", pads)])
                self.names[out] = self.activation(pooled, opt.scalar(5, "b"))
            elif code == ADD:
                summed = g.node("Add", [self.operand(ins[0]), self.operand(ins[1])])
                self.names[out] = self.activation(summed, opt.scalar(0, "b") if opt else ACT_NONE)
            elif code == PRELU:
                # relu(x) + alpha * min(x, 0): exact, and ~25% faster in ONNX Runtime than its
                # PRelu with per-channel alphas (43% of the palm detector's time).
                x = self.operand(ins[0])
                positive = g.node("Relu", [x])
                negative = g.node("Sub", [x, positive])
                scaled = g.node("Mul", [negative, self.operand(ins[1])])
                self.names[out] = g.node("Add", [positive, scaled], prefix="prelu")
            elif code == LOGISTIC:
                self.names[out] = g.node("Sigmoid", [self.operand(ins[0])])
            elif code == PAD:
                paddings = list(self.const(ins[1]))  # [[before, after]] per NHWC axis
                if len(paddings) != 8:
                    raise FormatError("PAD of a %d-D tensor" % (len(paddings) // 2))
                before = [paddings[2 * a] for a in (0, 3, 1, 2)]
                after = [paddings[2 * a + 1] for a in (0, 3, 1, 2)]
                pads = g.constant("pads", [8], before + after, data_type=INT64)
                self.names[out] = g.node("Pad", [self.names[ins[0]], pads], [("mode", b"constant")])
            elif code == RESIZE_BILINEAR:
                n, _, _, c = self.shape(ins[0])
                new_h, new_w = list(self.const(ins[1]))
                if opt and opt.scalar(2, "b"):
                    mode = b"align_corners"
                elif opt and opt.scalar(3, "b"):
                    mode = b"half_pixel"
                else:
                    mode = b"asymmetric"
                sizes = g.constant("sizes", [4], [n, c, new_h, new_w], data_type=INT64)
                self.names[out] = g.node("Resize", [self.names[ins[0]], "", "", sizes], [
                    ("mode", b"linear"), ("coordinate_transformation_mode", mode)])
            elif code == RESHAPE:
                source = self.names[ins[0]]
                if len(self.shape(ins[0])) == 4:
                    source = g.node("Transpose", [source], [("perm", [0, 2, 3, 1])], prefix="nhwc")
                target = g.constant("shape", [len(self.shape(out))], list(self.shape(out)), data_type=INT64)
                self.names[out] = g.node("Reshape", [source, target])
            elif code == CONCATENATION:
                axis = opt.scalar(0, "i")
                rank = len(self.shape(out))
                axis = axis + rank if axis < 0 else axis
                if rank == 4:
                    axis = NHWC_TO_NCHW_AXIS[axis]
                joined = g.node("Concat", [self.operand(i) for i in ins], [("axis", axis)])
                self.names[out] = self.activation(joined, opt.scalar(1, "b"))
            elif code == MEAN:
                axes = list(self.const(ins[1]))
                if len(self.shape(ins[0])) != 4:
                    raise FormatError("MEAN of a non-4-D tensor")
                axes = sorted(NHWC_TO_NCHW_AXIS[a % 4] for a in axes)
                keep = opt.scalar(0, "b") if opt else 0
                if keep and axes != [2, 3]:
                    raise FormatError("MEAN keeping dims over axes %s" % axes)
                self.names[out] = g.node("ReduceMean", [self.names[ins[0]]],
                                         [("axes", axes), ("keepdims", 1 if keep else 0)])
            elif code == FULLY_CONNECTED:
                if len(self.shape(ins[0])) != 2:
                    raise FormatError("FULLY_CONNECTED of a %d-D input" % len(self.shape(ins[0])))
                units, depth = self.shape(ins[1])
                weight = g.constant("fc_w", [units, depth], self.const(ins[1]))
                operands = [self.names[ins[0]], weight]
                if len(ins) > 2 and ins[2] >= 0:
                    operands.append(g.constant("fc_b", [units], self.const(ins[2])))
                product = g.node("Gemm", operands, [("transB", 1)], prefix="fc")
                self.names[out] = self.activation(product, opt.scalar(0, "b") if opt else ACT_NONE)
            else:
                raise FormatError("unsupported TFLite operator %d" % code)
        return [self.names[o] for o in m.outputs]

    def conv(self, code, ins, opt):
        g = self.g
        _, h, w, c = self.shape(ins[0])
        weight = self.const(ins[1])
        wshape = self.shape(ins[1])
        stride_w, stride_h = opt.scalar(1, "i", 1), opt.scalar(2, "i", 1)
        if code == CONV_2D:
            o, kh, kw, i = wshape
            dil_w, dil_h = opt.scalar(4, "i", 1), opt.scalar(5, "i", 1)
            activation = opt.scalar(3, "b")
            w_name = g.constant("conv_w", [o, i, kh, kw], ohwi_to_oihw(weight, o, kh, kw, i))
            group = 1
        else:
            _, kh, kw, o = wshape
            dil_w, dil_h = opt.scalar(5, "i", 1), opt.scalar(6, "i", 1)
            activation = opt.scalar(4, "b")
            if o != c * opt.scalar(3, "i", 1):
                raise FormatError("depthwise conv with %d outputs over %d channels" % (o, c))
            # [1, kh, kw, o] is OHWI with one "output" and o "inputs": the same reordering.
            w_name = g.constant("dw_w", [o, 1, kh, kw], ohwi_to_oihw(weight, 1, kh, kw, o))
            group = c
        pads = [0, 0, 0, 0]
        if opt.scalar(0, "b") == SAME:
            top, bottom = same_pads(h, kh, stride_h, dil_h)
            left, right = same_pads(w, kw, stride_w, dil_w)
            pads = [top, left, bottom, right]
        operands = [self.names[ins[0]], w_name]
        if len(ins) > 2 and ins[2] >= 0:
            operands.append(g.constant("conv_b", [o], self.const(ins[2])))
        conv = g.node("Conv", operands, [
            ("kernel_shape", [kh, kw]), ("strides", [stride_h, stride_w]), ("pads", pads),
            ("dilations", [dil_h, dil_w]), ("group", group)], prefix="conv")
        return self.activation(conv, activation)


def convert(data):
    model = Model(data)
    if len(model.inputs) != 1:
        raise FormatError("%d inputs (expected 1)" % len(model.inputs))
    signature = (model.tensors[model.inputs[0]]["shape"],
                 tuple(model.tensors[o]["shape"] for o in model.outputs))
    if signature not in SIGNATURES:
        raise FormatError("signature %s is neither MediaPipe's palm detector nor its hand landmarker"
                          % (signature,))
    kind, output_names = SIGNATURES[signature]
    converter = Converter(model)
    values = converter.convert()
    for value, name in zip(values, output_names):
        converter.g.rename_output(value, name)
    payload = encode_model(
        converter.g, "mediapipe " + kind,
        "MediaPipe %s (Apache-2.0), converted from TensorFlow Lite; input NHWC RGB 0..1" % kind,
        [("input", list(signature[0]))], [(n, list(s)) for n, s in zip(output_names, signature[1])],
        "swapline scripts/convert_mediapipe_hands.py")
    return payload, ", %s, %d nodes" % (kind, len(converter.g.nodes))


def main(argv):
    return command_line(argv, __doc__, convert, "MediaPipe's palm detector or hand landmarker")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
