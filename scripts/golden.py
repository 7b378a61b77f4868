#!/usr/bin/env python3
"""Writes Tests/KindlingTests/Data/golden.json: PyTorch reference values for
GoldenTests.swift.

Each case is a composite expression over small deterministic inputs. The
inputs are drawn from a seeded numpy generator, rounded to float32, and stored
in the file, so the Swift side rebuilds the expression on exactly the same
numbers. The reference forward value and the gradient of every input that
requires grad are computed by PyTorch in float64 and stored rounded to
float32. A case with a non-scalar output also stores `gradOutput`, the
upstream gradient passed to `backward`.

As a guard against ill-conditioned cases, every case is also evaluated by
PyTorch in float32 and must agree with the float64 reference within the
tolerance the Swift test uses (relative 1e-4, absolute 1e-5). A case that
float32 PyTorch itself cannot meet is rejected here rather than blamed on
Kindling there.

Usage: python scripts/golden.py [OUTPUT]   (needs torch and numpy)

To add a case: add a `Case` to CASES below, add its name and a builder to
GoldenTests.swift (the Swift switch mirrors `fn`), and re-run this script.
"""

import json
import os
import re
import sys
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

RTOL = 1e-4
ATOL = 1e-5
HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUTPUT = os.path.join(HERE, "..", "Tests", "KindlingTests", "Data", "golden.json")


@dataclass
class Case:
    name: str
    expression: str  # the Kindling expression, for humans reading the JSON
    inputs: dict  # name -> (np.ndarray float32, requires_grad)
    fn: Callable  # (dict of torch tensors, targets) -> torch tensor
    targets: list = field(default=None)  # integer class targets, if any


def f32(array):
    return np.asarray(array, dtype=np.float32)


def rng_for(name):
    # A stable per-case seed (Python's hash() is salted per process).
    return np.random.default_rng(sum((i + 1) * ord(c) for i, c in enumerate(name)))


# ---------------------------------------------------------------- cases

def build_cases():
    cases = []

    def add(name, expression, make_inputs, fn, targets=None):
        rng = rng_for(name)
        cases.append(Case(name, expression, make_inputs(rng), fn, targets))

    # 1. The classic autograd composite: every op feeds several others.
    add("tanh_composite",
        "((a * b + a / (b.abs() + 1)).tanh() * c).sum()",
        lambda r: {"a": (f32(r.normal(size=(3, 4))), True),
                   "b": (f32(r.normal(size=(3, 4))), True),
                   "c": (f32(r.normal(size=(3, 4))), True)},
        lambda t, _: ((t["a"] * t["b"] + t["a"] / (t["b"].abs() + 1)).tanh() * t["c"]).sum())

    # 2. A two-layer MLP with cross-entropy on integer targets.
    add("mlp_cross_entropy",
        "crossEntropy((x.matmul(w1) + b1).relu().matmul(w2) + b2, targets)",
        lambda r: {"x": (f32(r.normal(size=(5, 6))), True),
                   "w1": (f32(r.normal(size=(6, 8)) * 0.5), True),
                   "b1": (f32(r.normal(size=(8,)) * 0.1), True),
                   "w2": (f32(r.normal(size=(8, 4)) * 0.5), True),
                   "b2": (f32(r.normal(size=(4,)) * 0.1), True)},
        lambda t, y: F.cross_entropy((t["x"] @ t["w1"] + t["b1"]).relu() @ t["w2"] + t["b2"], y),
        targets=[2, 0, 3, 1, 2])

    # 3. Softmax of large logits (exp(1000) overflows without the max shift).
    add("softmax_large",
        "x.softmax(axis: 1)  (x ≈ 1000)",
        lambda r: {"x": (f32(1000 + np.round(r.normal(size=(3, 5)) * 3 * 64) / 64), True)},
        lambda t, _: t["x"].softmax(dim=1))

    # 4. logSoftmax along axis 0 and logsumexp along axis 1 of large values.
    #    Offsets are multiples of 1/64, exact in float32 next to 1000.
    add("logsoftmax_logsumexp_large",
        "(x.logSoftmax(axis: 0) * w).sum() + x.logsumexp(axis: 1, keepdim: true).sum()  (x ≈ ±1000)",
        lambda r: {"x": (f32(np.array([[1000.0], [-1000.0], [1000.0], [0.0]])
                             + np.round(r.normal(size=(4, 3)) * 2 * 64) / 64), True),
                   "w": (f32(r.normal(size=(4, 3))), False)},
        lambda t, _: (t["x"].log_softmax(dim=0) * t["w"]).sum()
        + t["x"].logsumexp(dim=1, keepdim=True).sum())

    # 5. A linear layer the PyTorch way: x · wᵀ + b, the transpose a view.
    add("matmul_transposed_bias",
        "(x.matmul(w.transposed()) + b).tanh()",
        lambda r: {"x": (f32(r.normal(size=(4, 5))), True),
                   "w": (f32(r.normal(size=(3, 5)) * 0.5), True),
                   "b": (f32(r.normal(size=(3,))), True)},
        lambda t, _: (t["x"] @ t["w"].T + t["b"]).tanh())

    # 6. Batched matmul whose batch axes broadcast ([2,1] with [3]).
    add("batched_matmul_broadcast",
        "a.matmul(b)  (a [2,1,3,4], b [3,4,2] → [2,3,3,2])",
        lambda r: {"a": (f32(r.normal(size=(2, 1, 3, 4))), True),
                   "b": (f32(r.normal(size=(3, 4, 2))), True)},
        lambda t, _: t["a"] @ t["b"])

    # 7. A chain of elementwise functions; the values stay clear of the kinks
    #    of relu, abs and clamp.
    def unary_inputs(r):
        x = r.uniform(-2, 2, size=(3, 5))
        x[np.abs(x) < 0.05] += 0.2
        x[np.abs(x + 0.5) < 0.05] += 0.2
        x[np.abs(x - 0.7) < 0.05] += 0.2
        return {"x": (f32(x), True)}

    add("unary_chain",
        "x.sigmoid() * x.gelu() + x.relu() + (x.exp() + 1).log() + (x * x + 1).sqrt()"
        " + (x.abs() + 0.5).pow(1.5) + x.clamp(min: -0.5, max: 0.7)",
        unary_inputs,
        lambda t, _: (t["x"].sigmoid() * F.gelu(t["x"]) + t["x"].relu() + (t["x"].exp() + 1).log()
                      + (t["x"] * t["x"] + 1).sqrt() + (t["x"].abs() + 0.5).pow(1.5)
                      + t["x"].clamp(min=-0.5, max=0.7)))

    # 8. Reductions over axes with keepdim feeding back into broadcasting.
    add("reductions_keepdim",
        "((x - x.mean(axes: [0, 2], keepdim: true)) / (x.variance(axes: [1], keepdim: true) + 1).sqrt()"
        " * x.max(axis: 2, keepdim: true) - x.min(axis: 0, keepdim: true)).pow(2).mean()",
        lambda r: {"x": (f32(r.normal(size=(3, 4, 5))), True)},
        lambda t, _: ((t["x"] - t["x"].mean(dim=(0, 2), keepdim=True))
                      / (t["x"].var(dim=(1,), keepdim=True) + 1).sqrt()
                      * t["x"].amax(dim=2, keepdim=True)
                      - t["x"].amin(dim=0, keepdim=True)).pow(2).mean())

    # 9. where + comparisons (with a broadcast operand).
    def where_fn(t, _):
        a, b = t["a"], t["b"]
        first = torch.where(a > b, a * b, a - b * 2)
        return torch.where(a <= 0.2, first.exp(), first * (b < 0.5).to(a.dtype) + first).sum()

    add("where_compare",
        "Tensor.where(a .<= 0.2, w.exp(), w * (b .< 0.5) + w).sum() with w = Tensor.where(a .> b, a * b, a - b * 2)",
        lambda r: {"a": (f32(r.normal(size=(4, 5))), True),
                   "b": (f32(r.normal(size=(5,))), True)},
        where_fn)

    # 10. conv2d (stride 2, padding 1, bias) → relu → maxPool2d(2).
    add("conv_relu_pool",
        "x.conv2d(w, bias: b, stride: 2, padding: 1).relu().maxPool2d(kernelSize: 2)",
        lambda r: {"x": (f32(r.normal(size=(2, 3, 7, 7))), True),
                   "w": (f32(r.normal(size=(4, 3, 3, 3)) * 0.3), True),
                   "b": (f32(r.normal(size=(4,)) * 0.1), True)},
        lambda t, _: F.max_pool2d(F.conv2d(t["x"], t["w"], t["b"], stride=2, padding=1).relu(), 2))

    # 11. conv2d summed (every output position, including the padded border).
    add("conv_sum_squares",
        "(y * y).sum() with y = x.conv2d(w, bias: b, stride: 2, padding: 1)",
        lambda r: {"x": (f32(r.normal(size=(1, 2, 6, 5))), True),
                   "w": (f32(r.normal(size=(3, 2, 3, 3)) * 0.3), True),
                   "b": (f32(r.normal(size=(3,)) * 0.1), True)},
        lambda t, _: F.conv2d(t["x"], t["w"], t["b"], stride=2, padding=1).pow(2).sum())

    # 12. Mean-squared error.
    add("mse_loss",
        "mseLoss(a.tanh() * 2, target)",
        lambda r: {"a": (f32(r.normal(size=(4, 3))), True),
                   "target": (f32(r.normal(size=(4, 3))), False)},
        lambda t, _: F.mse_loss(t["a"].tanh() * 2, t["target"]))

    # 13. Binary cross-entropy with logits, including logits large enough to
    #     overflow a naive exp(-z) and fractional targets.
    add("bce_with_logits",
        "binaryCrossEntropyWithLogits(z, target)",
        lambda r: {"z": (f32(np.concatenate([r.normal(size=(2, 4)) * 2,
                                             [[30.0, -30.0, 90.0, -90.0]]])), True),
                   "target": (f32([[1, 0, 1, 0], [0.25, 0.5, 1, 0], [1, 0, 0, 1]]), False)},
        lambda t, _: F.binary_cross_entropy_with_logits(t["z"], t["target"]))

    # 14. nll on logSoftmax (the two halves of cross-entropy).
    add("nll_log_softmax",
        "nllLoss((x * 3).logSoftmax(axis: 1), targets)",
        lambda r: {"x": (f32(r.normal(size=(4, 5))), True)},
        lambda t, y: F.nll_loss((t["x"] * 3).log_softmax(dim=1), y),
        targets=[4, 0, 2, 2])

    # 15. Views (slice with step, permute, expand, unsqueeze, transpose,
    #     reshape of a non-contiguous view) feeding arithmetic.
    def views_fn(t, _):
        s = t["x"][:, 1:6:2]                       # [4, 3]
        p = t["y"].permute(2, 0, 1)                # [4, 2, 3]
        e = t["c"].expand(2, 3)                    # [2, 3]
        z = s.unsqueeze(1) * p + e                 # [4, 2, 3]
        return z.transpose(0, 2).reshape(3, 8).sum(dim=1) * t["c"].squeeze(0)

    add("views_feed_ops",
        "(x.sliced(axis: 1, from: 1, to: 6, step: 2).unsqueezed(axis: 1) * y.permuted([2, 0, 1])"
        " + c.expanded(to: [2, 3])).transposed(0, 2).reshaped([3, 8]).sum(axis: 1) * c.squeezed(axis: 0)",
        lambda r: {"x": (f32(r.normal(size=(4, 6))), True),
                   "y": (f32(r.normal(size=(2, 3, 4))), True),
                   "c": (f32(r.normal(size=(1, 3))), True)},
        views_fn)

    # 16. A layer norm written out of primitives.
    add("layer_norm_composite",
        "((x - x.mean(axis: -1, keepdim: true)) / (x.variance(axes: [-1], keepdim: true, unbiased: false)"
        " + 1e-5).sqrt() * g + b).gelu().sum(axis: 0)",
        lambda r: {"x": (f32(r.normal(size=(3, 6)) * 2 + 1), True),
                   "g": (f32(1 + r.normal(size=(6,)) * 0.1), True),
                   "b": (f32(r.normal(size=(6,)) * 0.1), True)},
        lambda t, _: F.gelu((t["x"] - t["x"].mean(dim=-1, keepdim=True))
                            / (t["x"].var(dim=(-1,), keepdim=True, unbiased=False) + 1e-5).sqrt()
                            * t["g"] + t["b"]).sum(dim=0))

    # 17–20. Convolution and pooling windows at the edges: inputs smaller than
    #     the kernel, width or height 1, stride larger than the kernel,
    #     padding ≥ kernel / 2, batch 1. A window that hangs over the right
    #     edge has a negative numerator in ⌊(w − 1 + p − j) / s⌋, where
    #     rounding toward zero (Swift's `/`) once counted a column too many.
    def conv_edge(name, x_shape, w_shape, stride, padding):
        add(name,
            f"(y * y).sum() with y = x.conv2d(w, bias: b, stride: {stride}, padding: {padding})",
            lambda r: {"x": (f32(r.normal(size=x_shape)), True),
                       "w": (f32(r.normal(size=w_shape) * 0.5), True),
                       "b": (f32(r.normal(size=(w_shape[0],)) * 0.1), True)},
            lambda t, _: F.conv2d(t["x"], t["w"], t["b"], stride=stride, padding=padding).pow(2).sum())

    conv_edge("conv_edge_1x1_input", (2, 2, 1, 1), (2, 2, 3, 3), 2, 1)
    conv_edge("conv_edge_width_1", (2, 1, 5, 1), (3, 1, 3, 4), 3, 2)
    conv_edge("conv_edge_stride_past_kernel", (1, 2, 7, 6), (2, 2, 2, 3), 3, 2)

    add("pool_edge_windows",
        "x.maxPool2d(kernelSize: 3, stride: 2) * w, summed",
        lambda r: {"x": (f32(r.normal(size=(1, 2, 5, 4))), True),
                   "w": (f32(r.normal(size=(1, 2, 2, 1))), False)},
        lambda t, _: (F.max_pool2d(t["x"], 3, stride=2) * t["w"]).sum())

    # 21–23. Batch norm in training mode (the batch's own statistics) and
    #     layer norm, each with γ and β: one fused backward rule each.
    add("batch_norm_train_4d",
        "x.batchNorm(runningMean: nil, runningVar: nil, weight: g, bias: b, training: true)",
        lambda r: {"x": (f32(r.normal(size=(3, 4, 2, 3)) * 2 + 1), True),
                   "g": (f32(1 + r.normal(size=(4,)) * 0.2), True),
                   "b": (f32(r.normal(size=(4,)) * 0.1), True)},
        lambda t, _: F.batch_norm(t["x"], None, None, t["g"], t["b"], training=True))

    add("batch_norm_train_2d",
        "x.batchNorm(runningMean: nil, runningVar: nil, weight: g, bias: b, training: true, eps: 1e-3)",
        lambda r: {"x": (f32(r.normal(size=(5, 3)) * 3), True),
                   "g": (f32(1 + r.normal(size=(3,)) * 0.2), True),
                   "b": (f32(r.normal(size=(3,)) * 0.1), True)},
        lambda t, _: F.batch_norm(t["x"], None, None, t["g"], t["b"], training=True, eps=1e-3))

    add("layer_norm_fused",
        "x.layerNorm([3, 4], weight: g, bias: b)",
        lambda r: {"x": (f32(r.normal(size=(2, 3, 4)) * 2 - 1), True),
                   "g": (f32(1 + r.normal(size=(3, 4)) * 0.2), True),
                   "b": (f32(r.normal(size=(3, 4)) * 0.1), True)},
        lambda t, _: F.layer_norm(t["x"], (3, 4), t["g"], t["b"]))

    # 24–25. Average pooling: padded windows (zeros counted in the mean, as
    #     count_include_pad=True), and adaptive bins of unequal sizes.
    add("avg_pool_padded",
        "x.avgPool2d(kernelSize: 3, stride: 2, padding: 1)",
        lambda r: {"x": (f32(r.normal(size=(2, 2, 5, 6))), True)},
        lambda t, _: F.avg_pool2d(t["x"], 3, stride=2, padding=1))

    add("adaptive_avg_pool",
        "x.adaptiveAvgPool2d((3, 2)) + x.adaptiveAvgPool2d((1, 1))",
        lambda r: {"x": (f32(r.normal(size=(1, 2, 7, 5))), True)},
        lambda t, _: F.adaptive_avg_pool2d(t["x"], (3, 2)) + F.adaptive_avg_pool2d(t["x"], 1))

    # 26–27. Dilated and grouped convolutions, and a depthwise one (groups = channels).
    add("conv_dilated_grouped",
        "(y * y).sum() with y = x.conv2d(w, bias: b, stride: 1, padding: 2, dilation: 2, groups: 2)",
        lambda r: {"x": (f32(r.normal(size=(2, 4, 6, 5))), True),
                   "w": (f32(r.normal(size=(6, 2, 3, 3)) * 0.3), True),
                   "b": (f32(r.normal(size=(6,)) * 0.1), True)},
        lambda t, _: F.conv2d(t["x"], t["w"], t["b"], padding=2, dilation=2, groups=2).pow(2).sum())

    add("conv_depthwise",
        "x.conv2d(w, stride: 2, padding: 1, groups: 3)",
        lambda r: {"x": (f32(r.normal(size=(1, 3, 5, 5))), True),
                   "w": (f32(r.normal(size=(3, 1, 3, 3)) * 0.5), True)},
        lambda t, _: F.conv2d(t["x"], t["w"], stride=2, padding=1, groups=3))

    return cases


# ---------------------------------------------------------------- evaluation

def evaluate(case, dtype, grad_output=None):
    tensors = {k: torch.tensor(v, dtype=dtype, requires_grad=rg) for k, (v, rg) in case.inputs.items()}
    targets = torch.tensor(case.targets, dtype=torch.long) if case.targets is not None else None
    out = case.fn(tensors, targets)
    if out.dim() == 0:
        out.backward()
    else:
        if grad_output is None:
            grad_output = f32(rng_for(case.name + "/grad").normal(size=tuple(out.shape)))
        out.backward(torch.tensor(grad_output, dtype=dtype))
    grads = {k: t.grad.detach().numpy() for k, t in tensors.items() if case.inputs[k][1]}
    return out.detach().numpy(), grads, grad_output


def worst_violation(actual, expected):
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    excess = np.abs(actual - expected) - (ATOL + RTOL * np.abs(expected))
    return float(excess.max()) if excess.size else -1.0


def encode(array):
    array = f32(array)
    # str() of a float32 is its shortest round-tripping decimal.
    return {"shape": list(array.shape), "values": [float(str(v)) for v in array.reshape(-1)]}


def main():
    output_path = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_OUTPUT
    cases = build_cases()
    assert len({c.name for c in cases}) == len(cases), "duplicate case names"
    records = []
    for case in cases:
        value, grads, grad_output = evaluate(case, torch.float64)
        value32, grads32, _ = evaluate(case, torch.float32, grad_output)
        checks = [("value", value32, value)] + [(f"grad {k}", grads32[k], grads[k]) for k in grads]
        for what, actual, expected in checks:
            assert np.all(np.isfinite(expected)), f"{case.name}: {what} is not finite"
            if worst_violation(actual, expected) > 0:
                raise SystemExit(f"{case.name}: float32 PyTorch misses the tolerance on {what}; "
                                 "the case is ill-conditioned — change its inputs")
        record = {
            "name": case.name,
            "expression": case.expression,
            "inputs": [dict(name=k, requiresGrad=rg, **encode(v)) for k, (v, rg) in case.inputs.items()],
        }
        if case.targets is not None:
            record["targets"] = list(case.targets)
        record["output"] = encode(value)
        if grad_output is not None:
            record["gradOutput"] = encode(grad_output)
        record["grads"] = [dict(name=k, **encode(g)) for k, g in grads.items()]
        records.append(record)

    document = {
        "generator": "scripts/golden.py",
        "torch": torch.__version__.split("+")[0],
        "tolerance": {"relative": RTOL, "absolute": ATOL},
        "cases": records,
    }
    os.makedirs(os.path.dirname(os.path.abspath(output_path)), exist_ok=True)
    text = json.dumps(document, indent=1)
    # Keep every list of numbers on one line: diffs stay readable.
    text = re.sub(r"\[\s*([-+0-9.eE,\s]+?)\s*\]",
                  lambda m: "[" + ", ".join(m.group(1).replace(",", " ").split()) + "]", text)
    with open(output_path, "w") as f:
        f.write(text + "\n")
    print(f"wrote {len(records)} cases to {os.path.relpath(output_path)}")


if __name__ == "__main__":
    main()
