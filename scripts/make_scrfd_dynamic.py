#!/usr/bin/env python3
"""Make the offline SCRFD detector (scrfd_2.5g_kps.onnx) accept any input height and width.

Usage:
    python3 scripts/make_scrfd_dynamic.py IN.onnx OUT.onnx

The scrfd PyPI package's export fixes its input at 1x3x640x640: the graph's input and output
shapes name 640, its two FPN upsamplings (Resize) take fixed output sizes (40x40, 80x80), and its
intermediate value_info records 640-based shapes. This rewrites only those: the input becomes
1x3xHxW, the outputs' anchor counts symbolic, each Resize doubles by scales (1, 1, 2, 2) instead
of naming sizes (the same result whenever H and W are multiples of 32, as at 640; the two sizes
tensors go), and the value_info goes. Every weight and every other node is copied byte for byte, so the detector can
run at a frame's own aspect (640x384 for a 640x360 frame: 40% less work) with the same results
at 640x640. FaceFusion's scrfd_2.5g.onnx is dynamic the same way.

Standard library only (protobuf wire format read and written by hand, like onnx_proto.py).
Exit status: 0 on success, 2 if the input is not this export (or unreadable), 1 if the output
cannot be written.
"""

import struct
import sys

from onnx_proto import FormatError, command_line, field_bytes, varint


def read_varint(data, pos):
    value = shift = 0
    while True:
        if pos >= len(data):
            raise FormatError("truncated varint")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7


def fields(data):
    """(field number, wire type, value bytes or int, raw bytes of the whole field) in order."""
    pos, out = 0, []
    while pos < len(data):
        start = pos
        key, pos = read_varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = read_varint(data, pos)
        elif wire == 1:
            value, pos = data[pos:pos + 8], pos + 8
        elif wire == 2:
            length, pos = read_varint(data, pos)
            value, pos = data[pos:pos + length], pos + length
        elif wire == 5:
            value, pos = data[pos:pos + 4], pos + 4
        else:
            raise FormatError("unsupported wire type %d" % wire)
        if pos > len(data):
            raise FormatError("truncated field %d" % number)
        out.append((number, wire, value, data[start:pos]))
    return out


def strings(message, number):
    return [v.decode() for n, w, v, _ in fields(message) if n == number and w == 2]


def value_info(name, dims):
    """ValueInfoProto of a float tensor; str dims are symbolic."""
    shape = b""
    for d in dims:
        dim = field_bytes(2, d) if isinstance(d, str) else varint(1 << 3) + varint(d)
        shape += field_bytes(1, dim)
    tensor_type = varint(1 << 3) + varint(1) + field_bytes(2, shape)
    return field_bytes(1, name) + field_bytes(2, field_bytes(1, tensor_type))


def dims_of(info):
    """The dims of a ValueInfoProto (ints, or str for symbolic ones)."""
    for n, _, type_proto, _ in fields(info):
        if n != 2:
            continue
        for n2, _, tensor, _ in fields(type_proto):
            if n2 != 1:
                continue
            for n3, _, shape, _ in fields(tensor):
                if n3 != 2:
                    continue
                dims = []
                for _, _, dim, _ in fields(shape):
                    for n4, _, value, _ in fields(dim):
                        dims.append(value if n4 == 1 else value.decode())
                return dims
    return []


def tensor_name_and_values(tensor):
    name, dims, data_type, raw = "", [], 0, b""
    for n, _, value, _ in fields(tensor):
        if n == 1:
            dims.append(value)
        elif n == 2:
            data_type = value
        elif n == 8:
            name = value.decode()
        elif n == 9:
            raw = value
    return name, dims, data_type, raw


def rewrite_graph(graph):
    parts = fields(graph)
    initializers = {}
    for n, _, value, _ in parts:
        if n == 5:
            name, dims, data_type, raw = tensor_name_and_values(value)
            initializers[name] = (dims, data_type, raw)
    # The Resize nodes' sizes tensors, dropped with them (ONNX Runtime warns about unused ones).
    replaced = set()
    for n, _, value, _ in parts:
        if n == 1 and strings(value, 4) == ["Resize"] and len(strings(value, 1)) == 4:
            replaced.add(strings(value, 1)[3])
    for n, _, value, _ in parts:
        if n == 1 and strings(value, 4) != ["Resize"]:
            replaced -= set(strings(value, 1))
    out = bytearray()
    resized = 0
    scales_name = "swapline_resize_scales_x2"
    for n, w, value, raw in parts:
        if n == 5 and tensor_name_and_values(value)[0] in replaced:
            continue
        if n == 13:  # value_info: 640-based intermediate shapes
            continue
        if n == 11:  # input
            dims = dims_of(value)
            if dims != [1, 3, 640, 640]:
                raise FormatError("input shape %s (expected 1x3x640x640)" % dims)
            name = strings(value, 1)[0]
            out += field_bytes(11, value_info(name, [1, 3, "height", "width"]))
            continue
        if n == 12:  # outputs: anchors per stride depend on the size
            name = strings(value, 1)[0]
            dims = dims_of(value)
            if len(dims) != 3:
                raise FormatError("output %s has shape %s" % (name, dims))
            out += field_bytes(12, value_info(name, [1, "anchors_" + name.split("_")[-1], dims[2]]))
            continue
        if n == 1:
            node = fields(value)
            op_type = strings(value, 4)
            if op_type == ["Resize"]:
                inputs = strings(value, 1)
                if len(inputs) != 4 or inputs[3] not in initializers:
                    raise FormatError("Resize with inputs %s" % inputs)
                dims, data_type, sizes = initializers[inputs[3]]
                if data_type != 7 or dims != [4]:
                    raise FormatError("Resize sizes of type %d" % data_type)
                rebuilt = field_bytes(1, inputs[0]) + field_bytes(1, inputs[1]) + field_bytes(1, scales_name)
                rebuilt += b"".join(r for n2, _, _, r in node if n2 != 1)
                out += field_bytes(1, rebuilt)
                resized += 1
                continue
        out += raw
    if resized != 2:
        raise FormatError("%d Resize nodes (expected 2)" % resized)
    # TensorProto: dims=1, data_type=2 (FLOAT=1), name=8, raw_data=9
    scales = varint(1 << 3) + varint(4) + varint(2 << 3) + varint(1) + field_bytes(8, scales_name)
    scales += field_bytes(9, struct.pack("<4f", 1, 1, 2, 2))
    out += field_bytes(5, scales)
    return bytes(out)


def rewrite(model):
    out = bytearray()
    graphs = 0
    for n, _, value, raw in fields(model):
        if n == 7:
            out += field_bytes(7, rewrite_graph(value))
            graphs += 1
        else:
            out += raw
    if graphs != 1:
        raise FormatError("no graph")
    return bytes(out)


def main(argv):
    return command_line(argv, __doc__, lambda data: (rewrite(data), "; input 1x3xHxW, H and W multiples of 32"),
                        "the scrfd package's 640x640 SCRFD export")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
