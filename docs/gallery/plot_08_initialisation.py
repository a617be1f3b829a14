"""
Optimisation: initialisation sets the signal's scale
====================================================

A deep network multiplies its input by one weight matrix per layer. If each layer shrinks the
signal a little, twenty layers make it vanish; if each grows it, the signal explodes. Glorot &
Bengio (2010) and He et al. (2015) choose the weights' variance so that each layer keeps it,
for tanh and for ReLU respectively.

This example builds the same 20-layer, 128-unit MLP preset (``deep_mlp``) with four
initialisations (``zoo.create_model("deep_mlp", init=..., backbone__kind="plain")``), runs one batch of digits through
it and plots the standard deviation of every layer's output
(``zoo.analysis.init_statistics.layer_statistics``).
"""

import matplotlib.pyplot as plt
import torch
from sklearn.datasets import load_digits

import zoo
from zoo.analysis.init_statistics import layer_statistics

x, y = load_digits(return_X_y=True)
x = torch.tensor((x - x.mean(0)) / (x.std(0) + 1e-6), dtype=torch.float32)[:256].view(-1, 1, 8, 8)
y = torch.tensor(y)[:256]

fig, ax = plt.subplots(figsize=(6, 3.6))
for init in ("normal_0.01", "normal_1", "glorot", "he"):
    torch.manual_seed(0)
    net = zoo.create_model(
        "deep_mlp", init=init, backbone__kind="plain", backbone__width=128, backbone__depth=20
    )
    activations, _ = layer_statistics(net, x, y)
    ax.semilogy(range(1, len(activations) + 1), activations, marker=".", label=init)
    ratio = activations[-2] / activations[0]  # the last hidden layer against the first
    print(f"{init:>12}: std of the last hidden layer / the first = {ratio:.2g}")
ax.set(xlabel="layer", ylabel="std of the layer's output", title="20 ReLU layers at initialisation")
ax.legend()
fig.tight_layout()
plt.show()
