#!/usr/bin/env python3
"""Writes Tests/KindlingTests/Data/python_fixture.safetensors with the Python
`safetensors` package, so the tests can prove Kindling reads files that the
Python ecosystem (PyTorch, Hugging Face) writes.

Run from the repository root:

    python scripts/make_safetensors_fixture.py

The values are fixed (no randomness); SafetensorsTests.swift asserts them exactly.
"""

from pathlib import Path

import numpy as np
from safetensors.numpy import save_file

OUTPUT = Path(__file__).resolve().parent.parent / "Tests/KindlingTests/Data/python_fixture.safetensors"


def fixture_tensors() -> dict[str, np.ndarray]:
    return {
        # 2-D float32: [[-0.5, -0.25, 0.0], [0.25, 0.5, 0.75]]
        "layer.weight": (np.arange(6, dtype=np.float32).reshape(2, 3) / 4 - 0.5).astype(np.float32),
        # 1-D float32 with values that are not exact in binary
        "layer.bias": np.array([0.1, -0.2, 3.5], dtype=np.float32),
        # a one-element tensor, shape [1]
        "scale": np.array([2.5], dtype=np.float32),
        # float64, which Kindling converts to Float
        "double": np.array([1 / 3, -1e-3, 1e10, 0.0], dtype=np.float64),
    }


def main() -> None:
    save_file(fixture_tensors(), str(OUTPUT), metadata={"format": "np", "source": "make_safetensors_fixture.py"})
    print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main()
