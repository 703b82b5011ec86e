"""Writes ONNX models without the onnx package: a graph builder and the protobuf wire encoding.

Shared by the converters in this folder (convert_dlib_recognizer.py, convert_mediapipe_hands.py),
which run at setup with a bare system python3. Field numbers are those of onnx/onnx.proto; the
models use opset 13.
"""

import os
import struct
import sys
import tempfile
from array import array

FLOAT, INT64 = 1, 7  # TensorProto.DataType


class FormatError(Exception):
    """The input is not the model a converter expects."""


class Graph:
    def __init__(self):
        self.nodes = []         # (op_type, inputs, outputs, attributes)
        self.initializers = []  # (name, dims, data_type, raw bytes)
        self.counter = 0

    def fresh(self, prefix):
        self.counter += 1
        return "%s_%d" % (prefix, self.counter)

    def constant(self, prefix, dims, values, data_type=FLOAT):
        """An initializer from Python numbers (or an array('f')) in row-major order."""
        name = self.fresh(prefix)
        if data_type == FLOAT:
            payload = values if isinstance(values, array) else array("f", values)
            if sys.byteorder == "big":
                payload = array("f", payload)
                payload.byteswap()
            raw = payload.tobytes()
        else:
            raw = struct.pack("<%dq" % len(values), *values)
        self.initializers.append((name, list(dims), data_type, raw))
        return name

    def node(self, op_type, inputs, attributes=None, prefix=None, output=None):
        output = output or self.fresh(prefix or op_type.lower())
        self.nodes.append((op_type, list(inputs), [output], attributes or []))
        return output

    def rename_output(self, old, new):
        """Gives the node that produces `old` the graph output name `new`."""
        for index, (op_type, inputs, outputs, attributes) in enumerate(self.nodes):
            if old in outputs:
                outputs = [new if o == old else o for o in outputs]
                self.nodes[index] = (op_type, inputs, outputs, attributes)
        for index, (op_type, inputs, outputs, attributes) in enumerate(self.nodes):
            if old in inputs:
                inputs = [new if i == old else i for i in inputs]
                self.nodes[index] = (op_type, inputs, outputs, attributes)


def varint(value):
    if value < 0:
        value += 1 << 64  # int64 two's complement
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field_varint(number, value):
    return varint(number << 3) + varint(value)


def field_bytes(number, payload):
    if isinstance(payload, str):
        payload = payload.encode("utf-8")
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def encode_attribute(name, value):
    # AttributeProto: name=1, f=2, i=3, s=4, floats=7, ints=8, type=20
    # (FLOAT=1, INT=2, STRING=3, INTS=7)
    out = field_bytes(1, name)
    if isinstance(value, bytes):
        out += field_bytes(4, value) + field_varint(20, 3)
    elif isinstance(value, float):
        out += varint(2 << 3 | 5) + struct.pack("<f", value) + field_varint(20, 1)
    elif isinstance(value, int):
        out += field_varint(3, value) + field_varint(20, 2)
    else:
        out += b"".join(field_varint(8, v) for v in value) + field_varint(20, 7)
    return out


def encode_node(op_type, inputs, outputs, attributes, name):
    # NodeProto: input=1, output=2, name=3, op_type=4, attribute=5
    out = b"".join(field_bytes(1, i) for i in inputs)
    out += b"".join(field_bytes(2, o) for o in outputs)
    out += field_bytes(3, name) + field_bytes(4, op_type)
    out += b"".join(field_bytes(5, encode_attribute(k, v)) for k, v in attributes)
    return out


def encode_tensor(name, dims, data_type, raw):
    # TensorProto: dims=1, data_type=2, name=8, raw_data=9
    out = b"".join(field_varint(1, d) for d in dims)
    return out + field_varint(2, data_type) + field_bytes(8, name) + field_bytes(9, raw)


def encode_value_info(name, dims):
    # ValueInfoProto{name=1, type=2}; TypeProto{tensor_type=1};
    # TypeProto.Tensor{elem_type=1, shape=2}; TensorShapeProto{dim=1};
    # Dimension{dim_value=1, dim_param=2}
    shape = b""
    for d in dims:
        dim = field_bytes(2, d) if isinstance(d, str) else field_varint(1, d)
        shape += field_bytes(1, dim)
    tensor_type = field_varint(1, 1) + field_bytes(2, shape)
    return field_bytes(1, name) + field_bytes(2, field_bytes(1, tensor_type))


def encode_model(graph, name, doc, inputs, outputs, producer):
    """inputs/outputs: [(name, dims)], float32 tensors; a str dim is symbolic."""
    body = b"".join(field_bytes(1, encode_node(op, ins, outs, attrs, "%s_%d" % (op, i)))
                    for i, (op, ins, outs, attrs) in enumerate(graph.nodes))
    body += field_bytes(2, name)
    body += b"".join(field_bytes(5, encode_tensor(*init)) for init in graph.initializers)
    body += field_bytes(10, doc)
    body += b"".join(field_bytes(11, encode_value_info(n, d)) for n, d in inputs)
    body += b"".join(field_bytes(12, encode_value_info(n, d)) for n, d in outputs)
    # ModelProto: ir_version=1, producer_name=2, graph=7, opset_import=8
    # (OperatorSetIdProto: domain=1, version=2)
    model = field_varint(1, 7)
    model += field_bytes(2, producer)
    model += field_bytes(7, body)
    model += field_bytes(8, field_bytes(1, "") + field_varint(2, 13))
    return model


def write_atomically(path, payload):
    # A temporary file plus rename: re-running overwrites, and a failed run
    # never leaves a truncated model behind.
    directory = os.path.dirname(os.path.abspath(path))
    handle, temp_path = tempfile.mkstemp(prefix=".convert-", suffix=".onnx", dir=directory)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(payload)
        os.chmod(temp_path, 0o644)
        os.replace(temp_path, path)
    except BaseException:
        if os.path.exists(temp_path):
            os.unlink(temp_path)
        raise


def command_line(argv, doc, convert, refusal):
    """The converters' shared command line: `IN OUT`. `convert(bytes)` returns the ONNX payload
    and a summary line, or raises FormatError (a truncated or malformed file may also surface as
    struct.error, IndexError or UnicodeDecodeError). Exit status: 0 written, 2 not the expected
    model or unreadable (`refusal` says what was expected), 1 the output cannot be written."""
    if len(argv) != 3 or argv[1] in ("-h", "--help"):
        print(doc.split("\n\n")[1], file=sys.stderr)
        return 2
    source, target = argv[1], argv[2]
    try:
        with open(source, "rb") as f:
            payload, summary = convert(f.read())
    except OSError as error:
        print("error: cannot read %s: %s" % (source, error.strerror), file=sys.stderr)
        return 2
    except (FormatError, struct.error, IndexError, UnicodeDecodeError) as error:
        print("error: %s is not %s: %s" % (source, refusal, error), file=sys.stderr)
        return 2
    try:
        write_atomically(target, payload)
    except OSError as error:
        print("error: cannot write %s: %s" % (target, error.strerror), file=sys.stderr)
        return 1
    print("wrote %s (%d bytes%s)" % (target, len(payload), summary))
    return 0
