#!/usr/bin/env python3
"""Convert dlib's ResNet face recogniser (dlib_face_recognition_resnet_model_v1.dat) to ONNX.

Usage:
    python3 scripts/convert_dlib_recognizer.py IN.dat OUT.onnx

Standard library only: dlib's binary serialisation is parsed with `struct` and the
ONNX ModelProto is written as hand-encoded protobuf (opset 13), so this runs with
a bare system python3.

The network is the one of dlib's dnn_face_recognition_ex.cpp:
    loss_metric<fc_no_bias<128, avg_pool_everything<ResNet-29 ...
        input_rgb_image_sized<150>>>>

ONNX interface:
    input      float32 [N, 3, 150, 150]  RGB planes (NCHW), values 0..255: the pixels
                                         of dlib's 150x150 aligned face chip. dlib's
                                         input layer preprocessing, (v - channel_mean)/256,
                                         is part of the graph.
    embedding  float32 [N, 128]          the fc layer's output exactly as dlib returns it
                                         (not L2-normalised). Faces of the same person are
                                         closer than 0.6 in Euclidean distance.
N (batch) is dynamic.

Graph notes: each affine layer (dlib's frozen batch-norm) is folded into the
convolution below it; dlib's add_prev of differently shaped tensors (zero-extended
to the larger shape) becomes Pad + Add.

Exit status: 0 on success, 2 if the input is not this network (or unreadable),
1 if the output cannot be written.
"""

import math
import sys
from array import array

from onnx_proto import FormatError, Graph, command_line, encode_model

IMAGE_SIZE = 150
EMBEDDING_SIZE = 128


# ---------------------------------------------------------------------------
# Expected network, outermost layer first (the order dlib writes the headers).
# Each entry is a tuple (kind, params...). Paddings follow dlib's template
# defaults: 0 when the stride is not 1, else half the window.


def _con(filters, size, stride):
    pad = 0 if stride != 1 else size // 2
    return ("con", filters, size, size, stride, stride, pad, pad)


def _block(filters, stride):
    # BN<con<N,3,3,1,1, relu<BN<con<N,3,3,stride,stride, SUBNET>>>>>, BN = affine
    return [("affine",), _con(filters, 3, 1), ("relu",), ("affine",), _con(filters, 3, stride)]


def _ares(filters):
    # relu<add_prev1<block<N,1,tag1<SUBNET>>>>
    return [("relu",), ("add_prev", 1)] + _block(filters, 1) + [("tag", 1)]


def _ares_down(filters):
    # relu<add_prev2<avg_pool<2,2,2,2,skip1<tag2<block<N,2,tag1<SUBNET>>>>>>>
    return ([("relu",), ("add_prev", 2), ("avg_pool", 2, 2, 2, 2, 0, 0), ("skip", 1), ("tag", 2)]
            + _block(filters, 2) + [("tag", 1)])


def expected_network():
    layers = [("loss_metric",), ("fc", EMBEDDING_SIZE, "no_bias"), ("avg_pool", 0, 0, 1, 1, 0, 0)]
    layers += _ares_down(256)                                             # alevel0
    layers += _ares(256) + _ares(256) + _ares_down(256)                   # alevel1
    layers += _ares(128) + _ares(128) + _ares_down(128)                   # alevel2
    layers += _ares(64) + _ares(64) + _ares(64) + _ares_down(64)          # alevel3
    layers += _ares(32) + _ares(32) + _ares(32)                           # alevel4
    layers += [("max_pool", 3, 3, 2, 2, 0, 0), ("relu",), ("affine",), _con(32, 7, 2),
               ("input", IMAGE_SIZE)]
    return layers


# ---------------------------------------------------------------------------
# dlib serialisation primitives (dlib/serialize.h, dlib/float_details.h,
# dlib/cuda/tensor.h).


class Reader:
    def __init__(self, data):
        self.data = data
        self.pos = 0

    def take(self, count):
        if self.pos + count > len(self.data):
            raise FormatError("unexpected end of file at byte %d" % self.pos)
        chunk = self.data[self.pos:self.pos + count]
        self.pos += count
        return chunk

    def peek(self):
        if self.pos >= len(self.data):
            raise FormatError("unexpected end of file at byte %d" % self.pos)
        return self.data[self.pos]

    def integer(self, max_bytes=8):
        # Control byte: low nibble = byte count (1..8), 0x80 = negative; then the
        # magnitude, little-endian. Zero is written as one 0x00 byte.
        control = self.take(1)[0]
        size = control & 0x0F
        if size == 0 or size > max_bytes:
            raise FormatError("bad integer control byte 0x%02x at byte %d" % (control, self.pos - 1))
        value = int.from_bytes(self.take(size), "little")
        return -value if control & 0x80 else value

    def boolean(self):
        # Written as the ASCII character '1' or '0'.
        ch = self.take(1)
        if ch not in (b"0", b"1"):
            raise FormatError("bad bool at byte %d" % (self.pos - 1))
        return ch == b"1"

    def string(self, limit=256):
        size = self.integer()
        if size < 0 or size > limit:
            raise FormatError("implausible string length %d at byte %d" % (size, self.pos))
        raw = self.take(size)
        try:
            return raw.decode("ascii")
        except UnicodeDecodeError:
            raise FormatError("non-ASCII string at byte %d" % (self.pos - size)) from None

    def real(self):
        # float_details: int64 mantissa then int16 exponent, value = m * 2**e.
        # (Very old dlib wrote floats as text; such files have bits 0x70 set here.)
        if self.peek() & 0x70:
            raise FormatError("text-encoded float at byte %d (dlib format too old)" % self.pos)
        mantissa = self.integer(8)
        exponent = self.integer(2)
        if exponent >= 32000:  # 32000 inf, 32001 -inf, 32002 nan
            return {32000: math.inf, 32001: -math.inf}.get(exponent, math.nan)
        return math.ldexp(float(mantissa), exponent)

    def tensor(self):
        # int version (2), long long num_samples, k, nr, nc, then the values as
        # raw little-endian IEEE float32.
        version = self.integer()
        if version != 2:
            raise FormatError("unexpected tensor version %d at byte %d" % (version, self.pos))
        shape = tuple(self.integer() for _ in range(4))
        if min(shape) < 0:
            raise FormatError("negative tensor dimension %r" % (shape,))
        count = shape[0] * shape[1] * shape[2] * shape[3]
        values = array("f")
        values.frombytes(self.take(4 * count))
        if sys.byteorder == "big":
            values.byteswap()
        return shape, values

    def alias_tensor(self):
        # int version (1) and the four dimensions; no data.
        version = self.integer()
        if version != 1:
            raise FormatError("unexpected alias_tensor version %d" % version)
        return tuple(self.integer() for _ in range(4))

    def expect_version(self, allowed, what):
        version = self.integer()
        if version not in allowed:
            raise FormatError("unexpected %s version %d at byte %d" % (what, version, self.pos))
        return version


# ---------------------------------------------------------------------------
# Layer details (dlib/dnn/layers.h, input.h, loss.h). Each reader checks the
# hyper-parameters against the expected ones and returns the weights.


def read_con(r, spec):
    _, filters, nr, nc, sy, sx, py, px = spec
    version = r.string()
    if version not in ("con_4", "con_5", "con_6"):
        raise FormatError("expected a con_ layer, found %r" % version)
    _, params = r.tensor()
    got = (r.integer(), r.integer(), r.integer(), r.integer(), r.integer(), r.integer(), r.integer())
    if got != (filters, nr, nc, sy, sx, py, px):
        raise FormatError("con layer is %r, expected %r" % (got, (filters, nr, nc, sy, sx, py, px)))
    weight_shape = r.alias_tensor()
    bias_shape = r.alias_tensor()
    for _ in range(4):  # learning-rate and weight-decay multipliers
        r.real()
    use_bias = r.boolean() if version in ("con_5", "con_6") else True
    use_relu = r.boolean() if version == "con_6" else False
    if weight_shape[0] != filters or weight_shape[2:] != (nr, nc):
        raise FormatError("con filter shape %r does not match the layer" % (weight_shape,))
    weight_count = weight_shape[0] * weight_shape[1] * nr * nc
    bias_count = filters if use_bias else 0
    if len(params) != weight_count + bias_count:
        raise FormatError("con has %d parameters, expected %d" % (len(params), weight_count + bias_count))
    if use_bias and bias_shape[0] * bias_shape[1] * bias_shape[2] * bias_shape[3] != filters:
        raise FormatError("con bias shape %r does not match %d filters" % (bias_shape, filters))
    return {"weight": params[:weight_count], "weight_shape": weight_shape,
            "bias": params[weight_count:] if use_bias else array("f", bytes(4 * filters)),
            "relu": use_relu}


def read_affine(r):
    version = r.string()
    if version in ("bn_con2", "bn_fc2"):
        return read_batch_norm(r, version)
    if version not in ("affine_", "affine_2"):
        raise FormatError("expected an affine_ layer, found %r" % version)
    _, params = r.tensor()
    gamma_shape = r.alias_tensor()
    r.alias_tensor()  # beta has gamma's shape
    mode = r.integer()
    disabled = r.boolean() if version == "affine_2" else False
    if mode != 0:
        raise FormatError("affine layer is not in CONV_MODE")
    channels = gamma_shape[0] * gamma_shape[1] * gamma_shape[2] * gamma_shape[3]
    if disabled:
        return {"gamma": array("f", [1.0] * channels), "beta": array("f", bytes(4 * channels))}
    if len(params) != 2 * channels:
        raise FormatError("affine has %d parameters for %d channels" % (len(params), channels))
    return {"gamma": params[:channels], "beta": params[channels:]}


def read_batch_norm(r, version):
    # A training-time bn_ layer stands in for affine_; dlib converts it with its
    # running statistics: gamma' = gamma / sqrt(var + eps), beta' = beta - gamma' * mean.
    if version != "bn_con2":
        raise FormatError("bn layer is not in CONV_MODE")
    _, params = r.tensor()
    r.alias_tensor()
    r.alias_tensor()
    r.tensor()  # batch means
    r.tensor()  # batch inverse std-devs
    _, running_means = r.tensor()
    _, running_vars = r.tensor()
    r.integer()  # num_updates
    r.integer()  # running_stats_window_size
    for _ in range(4):
        r.real()
    eps = r.real()
    channels = len(running_means)
    gamma = [g / math.sqrt(v + eps) for g, v in zip(params[:channels], running_vars)]
    beta = [b - g * m for b, g, m in zip(params[channels:], gamma, running_means)]
    return {"gamma": array("f", gamma), "beta": array("f", beta)}


def read_relu(r):
    version = r.string()
    if version not in ("relu_", "relu_2"):
        raise FormatError("expected a relu_ layer, found %r" % version)
    return {"disabled": r.boolean() if version == "relu_2" else False}


def read_pool(r, spec):
    kind, nr, nc, sy, sx, py, px = spec
    version = r.string()
    if version != kind + "_2":
        raise FormatError("expected a %s_ layer, found %r" % (kind, version))
    got = tuple(r.integer() for _ in range(6))
    if got != (nr, nc, sy, sx, py, px):
        raise FormatError("%s layer is %r, expected %r" % (kind, got, (nr, nc, sy, sx, py, px)))
    return {}


def read_add_prev(r):
    version = r.string()
    if version != "add_prev_":
        raise FormatError("expected an add_prev_ layer, found %r" % version)
    return {}


def read_fc(r, spec):
    _, outputs, bias_mode = spec
    version = r.string()
    if version not in ("fc_2", "fc_3"):
        raise FormatError("expected an fc_ layer, found %r" % version)
    num_outputs = r.integer()
    num_inputs = r.integer()
    _, params = r.tensor()
    r.alias_tensor()
    r.alias_tensor()
    mode = r.integer()
    for _ in range(4):
        r.real()
    use_bias = r.boolean() if version == "fc_3" else True
    if num_outputs != outputs or mode != (1 if bias_mode == "no_bias" else 0):
        raise FormatError("fc layer has %d outputs / bias mode %d, expected %d / %s"
                          % (num_outputs, mode, outputs, bias_mode))
    has_bias = mode == 0 and use_bias
    if len(params) != num_inputs * num_outputs + (num_outputs if has_bias else 0):
        raise FormatError("fc has %d parameters for %d inputs" % (len(params), num_inputs))
    weight_count = num_inputs * num_outputs
    return {"inputs": num_inputs, "weight": params[:weight_count],
            "bias": params[weight_count:] if has_bias else None}


def read_input(r, size):
    version = r.string()
    if version != "input_rgb_image_sized":
        raise FormatError("expected an input_rgb_image_sized layer, found %r" % version)
    means = (r.real(), r.real(), r.real())
    rows, cols = r.integer(), r.integer()
    if (rows, cols) != (size, size):
        raise FormatError("input layer is %dx%d, expected %dx%d" % (rows, cols, size, size))
    return {"means": means}


def read_loss(r):
    version = r.string()
    if version == "loss_metric_2":
        r.real()  # margin
        r.real()  # distance threshold (training only)
    elif version != "loss_metric_":
        raise FormatError("expected a loss_metric_ layer, found %r" % version)
    return {}


def read_details(r, spec):
    kind = spec[0]
    if kind == "con":
        return read_con(r, spec)
    if kind == "affine":
        return read_affine(r)
    if kind == "relu":
        return read_relu(r)
    if kind in ("avg_pool", "max_pool"):
        return read_pool(r, spec)
    if kind == "add_prev":
        return read_add_prev(r)
    if kind == "fc":
        return read_fc(r, spec)
    raise AssertionError(kind)


def parse_network(data):
    """Parse the file; returns [(spec, details)] from the input layer outwards.

    dlib writes a nested add_layer<DETAILS, SUBNET> as: version, SUBNET, DETAILS,
    then per-layer state. So the file holds every layer's version header from the
    outside in, then the input layer, then the layer bodies from the inside out.
    The headers do not name their type, which is why the expected architecture
    drives the parse.
    """
    r = Reader(data)
    spec = expected_network()
    r.expect_version((1,), "add_loss_layer")
    read_loss(r)

    headers = []
    for index in range(1, len(spec) - 1):
        kind = spec[index][0]
        if kind in ("tag", "skip"):
            r.expect_version((1,), kind + " layer")
            headers.append(None)
        elif spec[index + 1][0] == "input":
            # add_layer directly on the input layer has its own format.
            headers.append(("on_input", r.expect_version((2, 3), "add_layer")))
        else:
            headers.append(("on_layer", r.expect_version((1, 2), "add_layer")))
    network = [(spec[-1], read_input(r, spec[-1][1]))]

    for index in range(len(spec) - 2, 0, -1):
        layer, header = spec[index], headers[index - 1]
        if header is None:
            network.append((layer, {}))
            continue
        details = read_details(r, layer)
        for _ in range(3):  # setup-called, gradient-stale, output-disabled flags
            r.boolean()
        r.tensor()  # x_grad
        r.tensor()  # cached_output
        placement, version = header
        if placement == "on_input":
            r.tensor()  # grad_final
            if version >= 3:
                r.integer()  # sample_expansion_factor
        elif version >= 2:
            r.tensor()  # params_grad
        network.append((layer, details))
    network.append((spec[0], {}))

    if r.pos != len(data):
        raise FormatError("%d unexpected bytes after the network" % (len(data) - r.pos))
    return network


# ---------------------------------------------------------------------------
# Graph construction. Shapes are tracked as (channels, rows, cols); the batch
# dimension is symbolic throughout.


def pooled_size(size, window, stride, pad):
    return 1 + (size + 2 * pad - window) // stride


def fold_affine(con, affine):
    """Scale each filter by gamma and fold beta into the bias (exact up to float rounding)."""
    filters = con["weight_shape"][0]
    per_filter = len(con["weight"]) // filters
    weight, gamma, beta = con["weight"], affine["gamma"], affine["beta"]
    if len(gamma) != filters:
        raise FormatError("affine has %d channels after a %d-filter con" % (len(gamma), filters))
    folded = array("f")
    for o in range(filters):
        g = gamma[o]
        folded.extend([w * g for w in weight[o * per_filter:(o + 1) * per_filter]])
    bias = array("f", [con["bias"][o] * gamma[o] + beta[o] for o in range(filters)])
    return folded, bias


def pad_to(graph, name, shape, target):
    """dlib adds tensors of unequal shape as if both were zero-extended at the end."""
    if shape == target:
        return name
    pads = [0, 0, 0, 0, 0] + [t - s for s, t in zip(shape, target)]
    pads_name = graph.constant("pads", [8], pads, data_type=7)
    return graph.node("Pad", [name, pads_name], [("mode", b"constant")], prefix="pad")


def build_graph(network):
    graph = Graph()
    layer_counts = {}
    means = network[0][1]["means"]
    # dlib's input layer: (pixel - mean[channel]) / 256.
    mean = graph.constant("input_mean", [1, 3, 1, 1], means)
    scale = graph.constant("input_scale", [1], [1.0 / 256.0])
    current = graph.node("Sub", ["input", mean], prefix="centered")
    current = graph.node("Mul", [current, scale], prefix="scaled")
    shape = (3, IMAGE_SIZE, IMAGE_SIZE)
    tags = {}

    index = 1
    while index < len(network):
        spec, details = network[index]
        kind = spec[0]
        layer_counts[kind] = layer_counts.get(kind, 0) + 1
        if kind == "con":
            _, filters, nr, nc, sy, sx, py, px = spec
            weight, bias = details["weight"], details["bias"]
            following = network[index + 1][0][0] if index + 1 < len(network) else None
            # Fold only when nothing sits between the two: a con_6 with its own fused
            # ReLU applies it before the affine.
            if following == "affine" and not details["relu"]:
                weight, bias = fold_affine(details, network[index + 1][1])
                layer_counts["affine"] = layer_counts.get("affine", 0) + 1
                index += 1
            w_name = graph.constant("conv_w", details["weight_shape"], weight)
            b_name = graph.constant("conv_b", [filters], bias)
            current = graph.node("Conv", [current, w_name, b_name], [
                ("kernel_shape", [nr, nc]), ("strides", [sy, sx]), ("pads", [py, px, py, px])],
                prefix="conv")
            if details["relu"]:
                current = graph.node("Relu", [current])
            shape = (filters, pooled_size(shape[1], nr, sy, py), pooled_size(shape[2], nc, sx, px))
        elif kind == "affine":
            # Not directly after a con (does not occur in this network): y = x*gamma + beta.
            g = graph.constant("affine_gamma", [1, shape[0], 1, 1], details["gamma"])
            b = graph.constant("affine_beta", [1, shape[0], 1, 1], details["beta"])
            current = graph.node("Add", [graph.node("Mul", [current, g]), b], prefix="affine")
        elif kind == "relu":
            if not details["disabled"]:
                current = graph.node("Relu", [current])
        elif kind in ("avg_pool", "max_pool"):
            _, nr, nc, sy, sx, py, px = spec
            if nr == 0 and nc == 0:
                op = "GlobalAveragePool" if kind == "avg_pool" else "GlobalMaxPool"
                current = graph.node(op, [current])
                shape = (shape[0], 1, 1)
            else:
                op = "AveragePool" if kind == "avg_pool" else "MaxPool"
                current = graph.node(op, [current], [
                    ("kernel_shape", [nr, nc]), ("strides", [sy, sx]), ("pads", [py, px, py, px])])
                shape = (shape[0], pooled_size(shape[1], nr, sy, py), pooled_size(shape[2], nc, sx, px))
        elif kind == "tag":
            tags[spec[1]] = (current, shape)
        elif kind == "skip":
            current, shape = tags[spec[1]]
        elif kind == "add_prev":
            other, other_shape = tags[spec[1]]
            target = tuple(max(a, b) for a, b in zip(shape, other_shape))
            current = graph.node("Add", [pad_to(graph, current, shape, target),
                                         pad_to(graph, other, other_shape, target)], prefix="add")
            shape = target
        elif kind == "fc":
            if details["inputs"] != shape[0] * shape[1] * shape[2]:
                raise FormatError("fc expects %d inputs, network gives %r" % (details["inputs"], shape))
            flat = graph.node("Flatten", [current], [("axis", 1)])
            w_name = graph.constant("fc_w", [details["inputs"], spec[1]], details["weight"])
            current = graph.node("MatMul", [flat, w_name], prefix="fc")
            if details["bias"] is not None:
                current = graph.node("Add", [current, graph.constant("fc_b", [spec[1]], details["bias"])])
            shape = (spec[1],)
        elif kind == "loss_metric":
            pass  # loss_metric's output is the fc output itself
        index += 1

    # The last node's output becomes the graph output.
    op_type, inputs, outputs, attributes = graph.nodes[-1]
    assert outputs == [current]
    graph.nodes[-1] = (op_type, inputs, ["embedding"], attributes)
    layer_counts["input_rgb_image_sized"] = 1
    return graph, layer_counts


def encode(graph):
    return encode_model(
        graph, "dlib_face_recognition_resnet_model_v1",
        "input: float32 [N,3,150,150] RGB 0..255 (dlib face chip, NCHW); "
        "output: float32 [N,128] dlib face descriptor",
        [("input", ["N", 3, IMAGE_SIZE, IMAGE_SIZE])], [("embedding", ["N", EMBEDDING_SIZE])],
        "swapline scripts/convert_dlib_recognizer.py")


def convert(data):
    graph, counts = build_graph(parse_network(data))
    summary = ", ".join("%s x%d" % item for item in sorted(counts.items()))
    return encode(graph), ", %d nodes; dlib layers: %s" % (len(graph.nodes), summary)


def main(argv):
    return command_line(argv, __doc__, convert,
                        "dlib's face recognition ResNet (dlib_face_recognition_resnet_model_v1)")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
