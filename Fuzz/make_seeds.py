#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets idx, safetensors and markers
(Fuzz/corpus/TARGET/): a few small valid inputs and a few near-valid ones,
from which libFuzzer's mutations start. Deterministic: running it again
rewrites the same bytes. The seeds of `events` are captured from real test
runs instead (see Fuzz/README.md).

Run from the repository root:

    python3 Fuzz/make_seeds.py
"""

import gzip
import json
import struct
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "Fuzz/corpus"


def write(target: str, name: str, data: bytes) -> None:
    folder = CORPUS / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)


def gz(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=9, mtime=0)


# --- IDX ---------------------------------------------------------------------

def idx(shape: list[int], data: bytes, dtype: int = 0x08) -> bytes:
    return bytes([0, 0, dtype, len(shape)]) + b"".join(struct.pack(">I", n) for n in shape) + data


def idx_seeds() -> None:
    labels = idx([3], bytes([9, 0, 4]))
    images = idx([2, 3, 3], bytes(range(18)))
    write("idx", "labels-3", labels)
    write("idx", "labels-3.gz", gz(labels))
    write("idx", "images-2x3x3", images)
    write("idx", "images-2x3x3.gz", gz(images))
    write("idx", "scalar", idx([], bytes([7])))
    write("idx", "empty-0x28", idx([0, 28], b""))
    # Near-valid: each is one mistake away from a good file.
    write("idx", "truncated-data", idx([4], bytes([1, 2])))
    write("idx", "trailing-garbage", idx([2], bytes([1, 2, 3])))
    write("idx", "float-type", idx([1], bytes(4), dtype=0x0D))
    write("idx", "truncated-header", bytes([0, 0, 8, 3, 0, 0]))
    write("idx", "truncated.gz", gz(images)[:-6])
    # Inflates to 64 KiB more than its header declares: the inflation cap's path.
    write("idx", "padded-64k.gz", gz(labels + bytes(65 << 10)))


# --- safetensors ---------------------------------------------------------------

def safetensors(tensors: dict, metadata: dict | None = None, pad: bool = True) -> bytes:
    """tensors: name -> (dtype, shape, raw bytes), laid out in name order."""
    header, data = {}, b""
    for name in sorted(tensors):
        dtype, shape, raw = tensors[name]
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    if metadata is not None:
        header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":"), sort_keys=True).encode()
    if pad:
        text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


def floats(fmt: str, values: list) -> bytes:
    return struct.pack("<" + fmt * len(values), *values)


def safetensors_seeds() -> None:
    fixture = ROOT / "Tests/KindlingTests/Data/python_fixture.safetensors"
    write("safetensors", "python-fixture", fixture.read_bytes())
    write("safetensors", "f32-2x3", safetensors({"w": ("F32", [2, 3], floats("f", [0.5, -1, 2, 0, 3.25, -0.125]))},
                                                 {"framework": "kindling"}))
    write("safetensors", "every-dtype", safetensors({
        "a.f16": ("F16", [2], floats("e", [1.5, -0.0])),
        "b.bf16": ("BF16", [2], bytes([0x80, 0x3F, 0x00, 0xC0])),
        "c.f64": ("F64", [1], floats("d", [1 / 3])),
        "d.i32": ("I32", [2], struct.pack("<2i", -7, 9)),
        "e.i64": ("I64", [], struct.pack("<q", 123456789)),
    }))
    write("safetensors", "empty-tensor", safetensors({"nothing": ("F32", [0, 4], b"")}))
    write("safetensors", "no-tensors", safetensors({}, {"note": "empty"}))
    write("safetensors", "empty-but-wide", safetensors({"wide": ("F32", [0, 1 << 32], b"")}))
    # Found writing this target: no elements, but strides that overflow (refused since).
    write("safetensors", "empty-strides-overflow", safetensors({"wide": ("F32", [0, 1 << 32, 1 << 32], b"")}))
    # Near-valid.
    write("safetensors", "unpadded", safetensors({"x": ("F32", [1], floats("f", [1]))}, pad=False))
    write("safetensors", "truncated", safetensors({"x": ("F32", [4], floats("f", [1, 2, 3, 4]))})[:-5])
    overlap = b'{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}'
    write("safetensors", "overlapping", struct.pack("<Q", len(overlap)) + overlap + bytes(4))
    unknown = b'{"q":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}'
    write("safetensors", "unsupported-dtype", struct.pack("<Q", len(unknown)) + unknown + bytes(2))


# --- markers -----------------------------------------------------------------

def region_lines(path: str, first: int, last: int) -> bytes:
    lines = (ROOT / path).read_text(encoding="utf-8").split("\n")
    return ("\n".join(lines[first - 1:last]) + "\n").encode()


def markers_seeds() -> None:
    # As in the library (reference code) and in a learner's workspace (stubs).
    write("markers", "reference-shape", region_lines("Sources/Kindling/Tensor/Shape.swift", 1, 38))
    write("markers", "workspace-shape", region_lines("Exercises/Kindling/Tensor/Shape.swift", 1, 28))
    # A region in a closure, with a local (`y`) that only the region reads.
    write("markers", "reference-tanh", region_lines("Sources/Kindling/Ops/Unary.swift", 43, 52))
    begin = "    // BEGIN EXERCISE 1.2 — the product rule (Lessons/01-scalar-autograd.md)"
    end = "    // END EXERCISE 1.2"
    body = "    return Value(a.data * b.data)"
    def text(*lines: str, newline: str = "\n") -> bytes:
        return (newline.join(lines) + newline).encode()
    write("markers", "crlf", text("func f() {", begin, body, end, "}", newline="\r\n"))
    # Damaged markers: each is one edit away from a good region.
    write("markers", "begin-without-end", text("func f() {", begin, body, "}"))
    write("markers", "end-without-begin", text("func f() {", body, end, "}"))
    write("markers", "mismatched-ids", text(begin, body, "    // END EXERCISE 1.3"))
    write("markers", "nested", text(begin, "    // BEGIN EXERCISE 1.3 — inner (Lessons/01-scalar-autograd.md)",
                                    body, "    // END EXERCISE 1.3", end))
    write("markers", "damaged-inside", text(begin, body, "    // BEGIN EXERCISE oops", body, end))
    write("markers", "bad-id", text("// BEGIN EXERCISE x.y — title (Lessons/01-scalar-autograd.md)", body,
                                     "// END EXERCISE x.y"))


if __name__ == "__main__":
    idx_seeds()
    safetensors_seeds()
    markers_seeds()
    for target in ("idx", "safetensors", "markers"):
        print(f"{target}: {len(list((CORPUS / target).iterdir()))} seeds")
