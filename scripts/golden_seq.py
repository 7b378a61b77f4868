#!/usr/bin/env python3
"""Writes Tests/KindlingTests/Data/torch_seq.safetensors and golden_seq.json:
PyTorch's sequence layers on fixed inputs, for SequenceTests.swift.

Each model is built under torch.manual_seed(0) with the parameter names
Kindling uses (which are PyTorch's), its state_dict saved under a prefix
("lstm.", "gru.", …) in one safetensors file. For each, the JSON holds the
input, the output, and the gradients of L = Σ w ⊙ output (w fixed, from
linspace) with respect to the input (when it is a float tensor) and to every
parameter, so both the forward pass and every backward rule are checked.

Usage: python scripts/golden_seq.py   (needs torch and safetensors)
"""

import json
import math
import os

import torch
import torch.nn as nn
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "Tests", "KindlingTests", "Data")


class Block(nn.Module):
    """Kindling's TransformerBlock: pre-norm, causal self-attention, GELU MLP."""

    def __init__(self, dim, heads):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attention = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim))

    def forward(self, x):
        t = x.shape[1]
        mask = torch.triu(torch.full((t, t), float("-inf")), diagonal=1)
        h = self.norm1(x)
        x = x + self.attention(h, h, h, attn_mask=mask, need_weights=False)[0]
        return x + self.mlp(self.norm2(x))


class Attention(nn.Module):
    """Causal self-attention alone, as Kindling's MultiheadAttention runs it."""

    def __init__(self, dim, heads):
        super().__init__()
        self.inner = nn.MultiheadAttention(dim, heads, batch_first=True)

    def forward(self, x):
        t = x.shape[1]
        mask = torch.triu(torch.full((t, t), float("-inf")), diagonal=1)
        return self.inner(x, x, x, attn_mask=mask, need_weights=False)[0]


class CharModel(nn.Module):
    """Embedding → LSTM → Linear: the character model's shape, tiny."""

    def __init__(self, vocab, dim, hidden):
        super().__init__()
        self.embedding = nn.Embedding(vocab, dim)
        self.lstm = nn.LSTM(dim, hidden, batch_first=True)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, ids):
        return self.head(self.lstm(self.embedding(ids))[0])


def case(name, model, x, state, float_input=True):
    if float_input:
        x = x.clone().requires_grad_(True)
    out = model(x)
    if isinstance(out, tuple):  # nn.RNN and nn.LSTM return (output, state)
        out = out[0]
    w = torch.linspace(0.5, 1.5, out.numel()).reshape(out.shape)
    (out * w).sum().backward()
    for k, v in model.state_dict().items():
        state[name + "." + k] = v.detach().clone().contiguous()
    result = {
        "input_shape": list(x.shape),
        "input": x.detach().flatten().tolist(),
        "output_shape": list(out.shape),
        "output": out.detach().flatten().tolist(),
        "parameter_grads": {k: p.grad.flatten().tolist() for k, p in model.named_parameters()},
    }
    if float_input:
        result["input_grad"] = x.grad.flatten().tolist()
    return result


def main():
    torch.manual_seed(0)
    state, cases = {}, {}
    cases["rnn"] = case("rnn", nn.RNN(4, 3, batch_first=True), torch.randn(2, 5, 4), state)
    cases["lstm"] = case("lstm", nn.LSTM(4, 3, batch_first=True), torch.randn(2, 5, 4), state)

    class GRUSteps(nn.Module):  # GRUCell run over time, from a zero state
        def __init__(self):
            super().__init__()
            self.cell = nn.GRUCell(4, 3)

        def forward(self, x):
            h = torch.zeros(x.shape[0], 3)
            outs = []
            for t in range(x.shape[1]):
                h = self.cell(x[:, t], h)
                outs.append(h)
            return torch.stack(outs, 1)

    cases["gru"] = case("gru", GRUSteps(), torch.randn(2, 5, 4), state)
    cases["attention"] = case("attention", Attention(8, 2), torch.randn(2, 5, 8), state)
    cases["block"] = case("block", Block(8, 2), torch.randn(2, 5, 8), state)
    ids = torch.tensor([[1, 4, 4, 0, 6, 2], [3, 3, 5, 1, 0, 6]])
    cases["char"] = case("char", CharModel(7, 5, 4), ids, state, float_input=False)

    save_file(state, os.path.join(DATA, "torch_seq.safetensors"))
    with open(os.path.join(DATA, "golden_seq.json"), "w") as f:
        json.dump(cases, f, indent=1)
        f.write("\n")
    print("wrote", len(state), "tensors and", len(cases), "cases")


if __name__ == "__main__":
    main()
