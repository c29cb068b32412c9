# Writes reference.safetensors the way the reference (Rust) implementation
# lays files out, using only Python's standard library, so that the Go reader
# is checked against an encoder it does not share code with: tensors ordered
# by dtype size (largest first) then name, "__metadata__" {"format": "pt"},
# header padded with spaces to a multiple of 8.
#   python3 make_fixture.py   (writes reference.safetensors beside it)
import json, math, os, struct

def bf16(x):
    return struct.pack("<f", x)[2:4]  # top half of the little-endian float32

tensors = {
    # name: (dtype, shape, bytes)
    "a.f32": ("F32", [2, 3], struct.pack("<6f", 1.0, -2.0, 0.5, 3.25, -0.0, 1e-3)),
    "b.f16": ("F16", [5], struct.pack("<5e", 1.0, -2.5, 65504.0, 2.0 ** -24, float("inf"))),
    "c.bf16": ("BF16", [2, 2], b"".join(bf16(x) for x in (1.0, 3.140625, -float("inf"), -0.5))),
    "d.scalar": ("F32", [], struct.pack("<f", 7.0)),
    "e.empty": ("F16", [0, 4], b""),
}
size = {"F32": 4, "F16": 2, "BF16": 2}
order = sorted(tensors, key=lambda n: (-size[tensors[n][0]], n))
header, data, off = {"__metadata__": {"format": "pt"}}, b"", 0
for n in order:
    dt, shape, raw = tensors[n]
    header[n] = {"dtype": dt, "shape": shape, "data_offsets": [off, off + len(raw)]}
    data += raw
    off += len(raw)
h = json.dumps(header, separators=(",", ":")).encode()
h += b" " * (-len(h) % 8)
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference.safetensors")
with open(out, "wb") as f:
    f.write(struct.pack("<Q", len(h)) + h + data)
