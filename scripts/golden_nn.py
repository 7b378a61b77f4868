#!/usr/bin/env python3
"""Writes Tests/KindlingTests/Data/golden_nn.json (and torch_mlp.safetensors):
PyTorch reference values for NNTests.swift.

Three kinds of reference:

1. Optimizer trajectories. A fixed small problem — parameters w [3, 2] and
   b [2] with fixed initial values, a fixed batch x [4, 3] and targets y [4, 2],
   loss = mse((x @ w + b).tanh(), y) — is optimized for 5 steps by each
   optimizer configuration in OPTIMIZERS; the parameters after every step are
   stored. A configuration may list steps on which b is left out of the loss
   (`biasFrozenSteps`): then b gets no gradient (grad None) on that step, and
   PyTorch skips it. The Swift side rebuilds the same loss with Kindling and
   must reproduce every step.

   The trajectories are computed in float64 and stored rounded to float32. As
   a guard against ill-conditioning, each is also run in float32 and must
   agree within the Swift tolerance (relative 1e-5, absolute 1e-6).

2. Learning-rate schedules: StepLR and CosineAnnealingLR over 10 epochs; the
   rate in force during each epoch 0…10 (initial rate first).

3. An interop fixture: nn.Sequential(Flatten, Linear(784, 128), ReLU,
   Linear(128, 10)) initialized under torch.manual_seed(0), its state_dict
   written with safetensors.torch.save_file to torch_mlp.safetensors, and the
   float32 logits it produces for a fixed input [2, 1, 28, 28] (stored here
   too), plus the state_dict's names and shapes.

The output is deterministic: running the script twice gives identical bytes.

Usage: python scripts/golden_nn.py   (needs torch, numpy and safetensors)
"""

import json
import os
import re

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import save_file

RTOL = 1e-5
ATOL = 1e-6
STEPS = 5
EPOCHS = 10
HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "Tests", "KindlingTests", "Data")
JSON_OUTPUT = os.path.join(DATA, "golden_nn.json")
MLP_OUTPUT = os.path.join(DATA, "torch_mlp.safetensors")


def f32(array):
    return np.asarray(array, dtype=np.float32)


def encode(array):
    array = f32(array)
    # str() of a float32 is its shortest round-tripping decimal.
    return {"shape": list(array.shape), "values": [float(str(v)) for v in array.reshape(-1)]}


# ---------------------------------------------------------------- the problem

def make_problem():
    r = np.random.default_rng(20240611)
    return {
        "x": f32(r.normal(size=(4, 3))),
        "y": f32(r.uniform(-0.8, 0.8, size=(4, 2))),
        "w": f32(r.normal(size=(3, 2)) * 0.5),
        "b": f32(r.normal(size=(2,)) * 0.1),
    }


# name, optimizer kind, keyword arguments (Kindling spelling), steps on which b gets no gradient
OPTIMIZERS = [
    ("sgd", "SGD", {"lr": 0.1}, []),
    ("sgd_momentum", "SGD", {"lr": 0.1, "momentum": 0.9}, []),
    ("sgd_nesterov", "SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}, []),
    ("sgd_momentum_weight_decay", "SGD", {"lr": 0.1, "momentum": 0.9, "weightDecay": 0.01}, []),
    ("adam", "Adam", {"lr": 0.01}, []),
    ("adam_weight_decay", "Adam", {"lr": 0.01, "weightDecay": 0.1}, []),
    ("adamw", "AdamW", {"lr": 0.01, "weightDecay": 0.1}, []),
    # b has no gradient on step 1: PyTorch skips it and starts its state on step 2.
    ("sgd_momentum_bias_frozen_first_step", "SGD", {"lr": 0.1, "momentum": 0.9}, [1]),
    ("adam_bias_frozen_first_step", "Adam", {"lr": 0.01}, [1]),
]


def make_optimizer(kind, kw, params):
    if kind == "SGD":
        return torch.optim.SGD(params, lr=kw["lr"], momentum=kw.get("momentum", 0.0),
                               nesterov=kw.get("nesterov", False), weight_decay=kw.get("weightDecay", 0.0))
    if kind == "Adam":
        return torch.optim.Adam(params, lr=kw["lr"], weight_decay=kw.get("weightDecay", 0.0))
    if kind == "AdamW":
        return torch.optim.AdamW(params, lr=kw["lr"], weight_decay=kw.get("weightDecay", 0.01))
    raise ValueError(kind)


def trajectory(problem, kind, kw, frozen, dtype):
    x = torch.tensor(problem["x"], dtype=dtype)
    y = torch.tensor(problem["y"], dtype=dtype)
    w = torch.tensor(problem["w"], dtype=dtype, requires_grad=True)
    b = torch.tensor(problem["b"], dtype=dtype, requires_grad=True)
    opt = make_optimizer(kind, kw, [w, b])
    steps = []
    for step in range(1, STEPS + 1):
        opt.zero_grad(set_to_none=True)
        z = x @ w if step in frozen else x @ w + b
        loss = F.mse_loss(z.tanh(), y)
        loss.backward()
        assert (b.grad is None) == (step in frozen)
        opt.step()
        steps.append({"w": w.detach().numpy().copy(), "b": b.detach().numpy().copy()})
    return steps


def worst_violation(actual, expected):
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    return float((np.abs(actual - expected) - (ATOL + RTOL * np.abs(expected))).max())


def optimizer_records(problem):
    records = []
    for name, kind, kw, frozen in OPTIMIZERS:
        reference = trajectory(problem, kind, kw, frozen, torch.float64)
        single = trajectory(problem, kind, kw, frozen, torch.float32)
        for i, (s64, s32) in enumerate(zip(reference, single)):
            for k in ("w", "b"):
                if worst_violation(s32[k], s64[k]) > 0:
                    raise SystemExit(f"{name}: float32 PyTorch misses the tolerance on {k} at step {i + 1}; "
                                     "the problem is ill-conditioned — change it")
        record = {"name": name, "optimizer": kind}
        record.update({k: (float(str(np.float32(v))) if isinstance(v, float) else v) for k, v in kw.items()})
        record["biasFrozenSteps"] = list(frozen)
        record["steps"] = [{"w": encode(s["w"]), "b": encode(s["b"])} for s in reference]
        records.append(record)
    return records


# ---------------------------------------------------------------- schedulers

def scheduler_records():
    records = []

    def run(name, kind, lr, make, params):
        p = torch.zeros(1, requires_grad=True)
        opt = torch.optim.SGD([p], lr=lr)
        scheduler = make(opt)
        rates = [opt.param_groups[0]["lr"]]
        for _ in range(EPOCHS):
            opt.step()  # p has no grad: nothing changes, but the call order is the documented one
            scheduler.step()
            rates.append(opt.param_groups[0]["lr"])
        records.append(dict(name=name, scheduler=kind, lr=lr, **params,
                            learningRates=[float(str(np.float32(v))) for v in rates]))

    run("step_lr", "StepLR", 0.1,
        lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5),
        {"stepSize": 3, "gamma": 0.5})
    run("cosine_annealing", "CosineAnnealingLR", 0.1,
        lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=EPOCHS, eta_min=0.001),
        {"totalEpochs": EPOCHS, "minimum": 0.001})
    return records


# ---------------------------------------------------------------- interop MLP

def mlp_record():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 128), torch.nn.ReLU(),
                                torch.nn.Linear(128, 10))
    state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    save_file(state, MLP_OUTPUT)
    # A fixed "image" pair: pixel intensities k/255, as a dataset would give.
    r = np.random.default_rng(784)
    image = f32(r.integers(0, 256, size=(2, 1, 28, 28)) / 255)
    with torch.no_grad():
        logits = model(torch.tensor(image)).numpy()
    return {
        "file": os.path.basename(MLP_OUTPUT),
        "torchModule": "nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))"
                       " after torch.manual_seed(0)",
        "stateDict": [{"name": k, "shape": list(v.shape)} for k, v in state.items()],
        "input": encode(image),
        "logits": encode(logits),
    }


def main():
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    problem = make_problem()
    document = {
        "generator": "scripts/golden_nn.py",
        "torch": torch.__version__.split("+")[0],
        "tolerance": {"relative": RTOL, "absolute": ATOL},
        "problem": {
            "loss": "mseLoss((x.matmul(w) + b).tanh(), y)  (b left out on biasFrozenSteps)",
            "x": encode(problem["x"]),
            "y": encode(problem["y"]),
            "w": encode(problem["w"]),
            "b": encode(problem["b"]),
        },
        "optimizers": optimizer_records(problem),
        "schedulers": scheduler_records(),
        "mlp": mlp_record(),
    }
    text = json.dumps(document, indent=1)
    # Keep every list of numbers on one line: diffs stay readable.
    text = re.sub(r"\[\s*([-+0-9.eE,\s]+?)\s*\]",
                  lambda m: "[" + ", ".join(m.group(1).replace(",", " ").split()) + "]", text)
    with open(JSON_OUTPUT, "w") as f:
        f.write(text + "\n")
    print(f"wrote {os.path.relpath(JSON_OUTPUT)} and {os.path.relpath(MLP_OUTPUT)}")


if __name__ == "__main__":
    main()
