#!/usr/bin/env python3
"""PyTorch reference benchmark for Kindling.

Prints exactly one line `name value unit` per workload, in this order:

    mlp_epoch_s            wall seconds for one Fashion-MNIST epoch of the MLP
    mlp_1epoch_test_acc    test accuracy after that epoch (fraction)
    cnn_epoch_s            wall seconds for one epoch of the small CNN
    cnn_1epoch_test_acc    test accuracy after that epoch (fraction)
    cnn_bn_epoch_s         one epoch of `kindling train --model cnn` (conv–BN–ReLU, global average pooling)
    cnn_bn_1epoch_test_acc test accuracy after that epoch (fraction)
    tiny_fwd_bwd_us        µs per (a*b + a).sum().backward() on 4x4 tensors
    matmul1024_gflops      1024x1024 @ 1024x1024 float32 throughput
    eltwise4M_ms           ms per x*y + x on 4,194,304-element tensors
    lstm_step_ms           ms per training step of `kindling train --model charlstm`
                           (32 windows of 64 characters, vocabulary 113, AdamW, clipping)
    gpt_step_ms            the same for `--model gpt` (a small pre-norm transformer, 16 windows)

The workloads mirror Kindling's own benchmark so the two can be compared:
the data set is pre-loaded into one tensor and batches are gathered with a
shuffled index permutation (no DataLoader, no worker processes).

Usage:
    python bench/bench_torch.py [--data DIR] [--only NAME[,NAME...]]

Environment: THREADS (default 2) sets torch.set_num_threads;
KINDLING_FASHION_MNIST is used as the data folder when --data is not given.
"""

import argparse
import gzip
import os
import statistics
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

DEFAULT_DATA = "/usr/share/datasets/fashion-mnist"
WORKLOADS = ["mlp", "cnn", "cnnbn", "tiny", "matmul", "eltwise", "lstm", "gpt"]


# ---------------------------------------------------------------- data

def read_idx(path):
    """Reads a (gzipped) IDX file into a numpy array of its declared shape."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    zero, dtype_code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype_code != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def find_file(folder, stem):
    for name in (stem + ".gz", stem):
        path = os.path.join(folder, name)
        if os.path.exists(path):
            return path
    raise FileNotFoundError(f"{stem}(.gz) not found in {folder}")


def load_split(folder, split):
    images = read_idx(find_file(folder, f"{split}-images-idx3-ubyte"))
    labels = read_idx(find_file(folder, f"{split}-labels-idx1-ubyte"))
    x = torch.from_numpy(images.astype(np.float32) / 255.0)  # [N, 28, 28]
    y = torch.from_numpy(labels.astype(np.int64))
    return x, y


# ---------------------------------------------------------------- training

def make_mlp():
    return nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))


def make_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 8, 3), nn.ReLU(), nn.MaxPool2d(2),     # 28 -> 26 -> 13
        nn.Conv2d(8, 16, 3), nn.ReLU(), nn.MaxPool2d(2),    # 13 -> 11 -> 5
        nn.Flatten(), nn.Linear(400, 10),
    )


def make_cnn_bn():
    def block(i, o):
        return [nn.Conv2d(i, o, 3, padding=1, bias=False), nn.BatchNorm2d(o), nn.ReLU()]
    return nn.Sequential(
        *block(1, 16), *block(16, 16), nn.MaxPool2d(2),     # 28 -> 14
        *block(16, 32), *block(32, 32), nn.MaxPool2d(2),    # 14 -> 7
        *block(32, 64), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10),
    )


def train_epoch(model, x, y, lr, batch=64):
    """One epoch of plain SGD over shuffled mini-batches; returns wall seconds."""
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.0)
    model.train()
    start = time.perf_counter()
    perm = torch.randperm(x.shape[0])
    for i in range(0, x.shape[0], batch):
        idx = perm[i:i + batch]
        xb, yb = x[idx], y[idx]
        loss = F.cross_entropy(model(xb), yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return time.perf_counter() - start


@torch.no_grad()
def accuracy(model, x, y, batch=1000):
    model.eval()
    correct = 0
    for i in range(0, x.shape[0], batch):
        correct += (model(x[i:i + batch]).argmax(dim=1) == y[i:i + batch]).sum().item()
    return correct / x.shape[0]


def bench_mlp(data):
    (xtr, ytr), (xte, yte) = data
    torch.manual_seed(0)
    model = make_mlp()
    secs = train_epoch(model, xtr.reshape(-1, 784), ytr, lr=0.1)
    report("mlp_epoch_s", secs, "s")
    report("mlp_1epoch_test_acc", accuracy(model, xte.reshape(-1, 784), yte), "fraction")


def bench_cnn(data, make=make_cnn, name="cnn"):
    """One epoch of a CNN from `make`, reported as `{name}_epoch_s` and `{name}_1epoch_test_acc`."""
    (xtr, ytr), (xte, yte) = data
    torch.manual_seed(0)
    model = make()
    secs = train_epoch(model, xtr.unsqueeze(1), ytr, lr=0.05)
    report(f"{name}_epoch_s", secs, "s")
    report(f"{name}_1epoch_test_acc", accuracy(model, xte.unsqueeze(1), yte), "fraction")


# ---------------------------------------------------------------- micro

def bench_tiny():
    torch.manual_seed(0)
    a = torch.randn(4, 4, requires_grad=True)
    b = torch.randn(4, 4, requires_grad=True)

    def step():
        a.grad = None
        b.grad = None
        (a * b + a).sum().backward()

    for _ in range(2000):
        step()
    best = float("inf")
    iters = 20000
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(iters):
            step()
        best = min(best, (time.perf_counter() - start) / iters)
    report("tiny_fwd_bwd_us", best * 1e6, "us")


def bench_matmul():
    torch.manual_seed(0)
    n = 1024
    a = torch.randn(n, n)
    b = torch.randn(n, n)
    for _ in range(3):
        a @ b
    times = []
    for _ in range(15):
        start = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - start)
    report("matmul1024_gflops", 2 * n ** 3 / statistics.median(times) / 1e9, "GFLOP/s")


def bench_eltwise():
    torch.manual_seed(0)
    n = 4 * 1024 * 1024
    x = torch.randn(n)
    y = torch.randn(n)
    for _ in range(5):
        x * y + x
    times = []
    for _ in range(30):
        start = time.perf_counter()
        x * y + x
        times.append(time.perf_counter() - start)
    report("eltwise4M_ms", statistics.median(times) * 1e3, "ms")


# ---------------------------------------------------------------- main

# ---------------------------------------------------------------- character models
# Kindling's Sources/kindling/TextModels.swift, layer for layer (the same
# parameter names, so weights move between the two).

VOCABULARY, CONTEXT = 113, 64
BATCH = {"lstm": 32, "gpt": 16}


class CharLSTM(nn.Module):
    def __init__(self, vocabulary, dimension=64, hidden=256):
        super().__init__()
        self.embedding = nn.Embedding(vocabulary, dimension)
        self.lstm = nn.LSTM(dimension, hidden, batch_first=True)
        self.head = nn.Linear(hidden, vocabulary)

    def forward(self, ids):
        return self.head(self.lstm(self.embedding(ids))[0])


class Block(nn.Module):
    """Pre-norm: x + attention(norm1(x)), then x + mlp(norm2(x)); causal."""

    def __init__(self, width, heads):
        super().__init__()
        self.norm1 = nn.LayerNorm(width)
        self.attention = nn.MultiheadAttention(width, heads, batch_first=True)
        self.norm2 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(), nn.Linear(4 * width, width))

    def forward(self, x):
        t = x.shape[1]
        mask = torch.triu(torch.full((t, t), float("-inf")), diagonal=1)
        h = self.norm1(x)
        x = x + self.attention(h, h, h, attn_mask=mask, need_weights=False)[0]
        return x + self.mlp(self.norm2(x))


class GPT(nn.Module):
    def __init__(self, vocabulary, context, width=128, depth=4, heads=4):
        super().__init__()
        self.tokens = nn.Embedding(vocabulary, width)
        self.positions = nn.Embedding(context, width)
        self.blocks = nn.ModuleList([Block(width, heads) for _ in range(depth)])
        self.norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, vocabulary)

    def forward(self, ids):
        h = self.tokens(ids) + self.positions(torch.arange(ids.shape[1]))
        for block in self.blocks:
            h = block(h)
        return self.head(self.norm(h))


def bench_text_step(kind):
    """ms per training step (median of 10 after 3 warm-up steps)."""
    torch.manual_seed(0)
    model = CharLSTM(VOCABULARY) if kind == "lstm" else GPT(VOCABULARY, CONTEXT)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    ids = torch.randint(0, VOCABULARY, (BATCH[kind], CONTEXT + 1))
    x, y = ids[:, :-1], ids[:, 1:]

    def step():
        opt.zero_grad()
        logits = model(x)
        loss = F.cross_entropy(logits.reshape(-1, VOCABULARY), y.reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()

    for _ in range(3):
        step()
    times = []
    for _ in range(10):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    report(f"{kind}_step_ms", statistics.median(times) * 1e3, "ms")


def report(name, value, unit):
    print(f"{name} {value:.6g} {unit}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=os.environ.get("KINDLING_FASHION_MNIST", DEFAULT_DATA),
                        help="folder holding the Fashion-MNIST IDX files")
    parser.add_argument("--only", action="append", default=[],
                        help="run only these workloads (%s); repeatable or comma-separated"
                             % ", ".join(WORKLOADS))
    args = parser.parse_args()

    aliases = {"mlp_epoch_s": "mlp", "mlp_1epoch_test_acc": "mlp",
               "cnn_epoch_s": "cnn", "cnn_1epoch_test_acc": "cnn",
               "cnn_bn_epoch_s": "cnnbn", "cnn_bn_1epoch_test_acc": "cnnbn",
               "tiny_fwd_bwd_us": "tiny", "matmul1024_gflops": "matmul",
               "eltwise4M_ms": "eltwise", "lstm_step_ms": "lstm", "gpt_step_ms": "gpt"}
    selected = set()
    for w in (w for spec in args.only for w in spec.split(",") if w):
        w = aliases.get(w, w)
        if w not in WORKLOADS:
            parser.error(f"unknown workload {w!r}; choose from {', '.join(WORKLOADS)}")
        selected.add(w)
    selected = selected or set(WORKLOADS)

    torch.set_num_threads(int(os.environ.get("THREADS", 2)))
    torch.manual_seed(0)
    np.random.seed(0)

    data = None
    if selected & {"mlp", "cnn", "cnnbn"}:
        data = (load_split(args.data, "train"), load_split(args.data, "t10k"))

    for w in WORKLOADS:
        if w not in selected:
            continue
        if w == "mlp":
            bench_mlp(data)
        elif w == "cnn":
            bench_cnn(data)
        elif w == "cnnbn":
            bench_cnn(data, make_cnn_bn, "cnn_bn")
        elif w == "tiny":
            bench_tiny()
        elif w == "matmul":
            bench_matmul()
        elif w == "eltwise":
            bench_eltwise()
        elif w in ("lstm", "gpt"):
            bench_text_step(w)
    return 0


if __name__ == "__main__":
    sys.exit(main())
