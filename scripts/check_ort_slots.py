"""Checks Swapline's OrtApi slot table against an upstream onnxruntime_c_api.h.

Our header (Sources/COnnxRuntime/include/swapline_ort.h) declares only the OrtApi functions we
call, each pinned to its zero-based slot with SWAPLINE_ORT_SLOT(Name, index). This script counts
the members of `struct OrtApi` in the upstream header (never committed: obtain it from the
onnxruntime repository or a release archive) and compares. The table is append-only across
releases, so any header with ORT_API_VERSION >= 17 checks every slot we use.

Usage: python3 scripts/check_ort_slots.py UPSTREAM_HEADER OUR_HEADER [--dump NAME...]
"""
import re
import sys

MEMBER = re.compile(
    r"ORT_API2_STATUS\(\s*(\w+)"                 # OrtStatus* (*Name)(...)
    r"|ORT_CLASS_RELEASE2?\(\s*(\w+)\s*\)"       # void (*ReleaseName)(OrtName*)
    r"|ORT_API_T\(\s*[^,]+,\s*(\w+)"             # typed function
    r"|\(\s*ORT_API_CALL\s*\*\s*(\w+)\s*\)"      # spelled-out function pointer
)


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", " ", text)


def upstream_slots(path):
    text = strip_comments(open(path, encoding="utf-8").read())
    start = text.index("struct OrtApi {")
    body, depth, index = [], 0, start + len("struct OrtApi {")
    depth = 1
    while depth:
        ch = text[index]
        depth += ch == "{"
        depth -= ch == "}"
        body.append(ch)
        index += 1
    lines = [line for line in "".join(body).splitlines() if not line.strip().startswith("#")]
    slots = {}
    for match in MEMBER.finditer("\n".join(lines)):
        name = next(group for group in match.groups() if group)
        if match.group(2):
            name = "Release" + name
        slots[name] = len(slots)
    version = re.search(r"#define ORT_API_VERSION (\d+)", text)
    return slots, int(version.group(1)) if version else None


def our_slots(path):
    text = open(path, encoding="utf-8").read()
    return [(name, int(index)) for name, index in re.findall(r"^SWAPLINE_ORT_SLOT\((\w+),\s*(\d+)\);", text, flags=re.M)]


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    slots, version = upstream_slots(sys.argv[1])
    if "--dump" in sys.argv:
        for name in sys.argv[sys.argv.index("--dump") + 1:]:
            print(name, slots.get(name, "not found"))
        return
    mismatches = 0
    ours = our_slots(sys.argv[2])
    for name, index in ours:
        expected = slots.get(name)
        if expected != index:
            mismatches += 1
            print(f"MISMATCH {name}: ours {index}, upstream {expected}")
    print(f"upstream ORT_API_VERSION {version}, {len(slots)} OrtApi members; "
          f"{len(ours)} slots checked, {mismatches} mismatches")
    sys.exit(1 if mismatches or not ours else 0)


if __name__ == "__main__":
    main()
