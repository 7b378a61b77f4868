#!/usr/bin/env python3
"""Writes Tests/KindlingTests/Data/torch_cnn_bn.safetensors and golden_bn.json:
a small PyTorch CNN with batch norm, for NNTests.swift's interop test.

The model, nn.Sequential(Conv2d(1, 4, 3, padding=1), BatchNorm2d(4), ReLU(),
MaxPool2d(2), Flatten(), Linear(4·3·3, 5), LayerNorm(5)), is initialized under
torch.manual_seed(0) and trained for three SGD steps on a fixed batch, so that
its running statistics and num_batches_tracked (an int64 scalar) are no longer
their initial values. Its state_dict goes to the safetensors file as PyTorch
writes it; the JSON holds the eval-mode output for a fixed input [2, 1, 6, 6],
the train-mode output for the same input, and the running statistics after
that train-mode call.

Usage: python scripts/golden_bn.py   (needs torch and safetensors)
"""

import json
import os

import torch
import torch.nn as nn
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "Tests", "KindlingTests", "Data")


def main():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(4 * 3 * 3, 5), nn.LayerNorm(5))
    batch = torch.randn(8, 1, 6, 6)
    targets = torch.randn(8, 5)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(3):
        optimizer.zero_grad()
        ((model(batch) - targets) ** 2).mean().backward()
        optimizer.step()
    state = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}
    save_file(state, os.path.join(DATA, "torch_cnn_bn.safetensors"))

    x = torch.linspace(-2, 2, 72).reshape(2, 1, 6, 6)
    model.eval()
    with torch.no_grad():
        evaluation = model(x)
    model.train()
    with torch.no_grad():
        training = model(x)
    out = {
        "input": x.flatten().tolist(),
        "eval_output": evaluation.flatten().tolist(),
        "train_output": training.flatten().tolist(),
        "running_mean_after": model[1].running_mean.tolist(),
        "running_var_after": model[1].running_var.tolist(),
        "num_batches_tracked_after": int(model[1].num_batches_tracked),
        "keys": sorted(state.keys()),
    }
    with open(os.path.join(DATA, "golden_bn.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print("wrote torch_cnn_bn.safetensors and golden_bn.json")


if __name__ == "__main__":
    main()
