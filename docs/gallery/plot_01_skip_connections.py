"""
Modulation: skip connections train a deep network
=================================================

A stack of plain layers multiplies its input by many random matrices: with depth the signal
and its gradient fade, and the first layers barely learn. A residual layer computes
``x + f(x)``, so the identity path carries both signals through any depth (He et al. 2016).

This example builds the same deep, narrow MLP of :class:`zoo.patterns.DeepMLP` twice, once with
plain hidden layers and once with residual ones (:class:`zoo.blocks.Residual`), puts a
:class:`zoo.blocks.MultiClassHead` on each with :class:`zoo.patterns.Classifier`, and trains
both for a few epochs on scikit-learn's digits in a plain PyTorch loop.
"""

import matplotlib.pyplot as plt
import torch
from sklearn.datasets import load_digits

from zoo.blocks import MultiClassHead
from zoo.patterns import Classifier, DeepMLP

torch.manual_seed(0)
x, y = load_digits(return_X_y=True)
x = torch.tensor((x - x.mean()) / x.std(), dtype=torch.float32).view(-1, 1, 8, 8)
y = torch.tensor(y)
x_train, y_train, x_test, y_test = x[:1200], y[:1200], x[1200:], y[1200:]

# %%
# Two nets that differ only in their hidden layers
# ------------------------------------------------
# Fifty layers of fifty units; the head reads the last layer's width by itself.


def deep_net(kind: str) -> Classifier:
    return Classifier(
        backbone=DeepMLP(64, width=50, depth=50, kind=kind),
        head=lambda width: MultiClassHead(width, num_classes=10),
        input_shape=(1, 8, 8),
    )


def train(net: Classifier, epochs: int = 8) -> list[float]:
    """SGD with momentum; the mean training loss of each epoch."""
    optimizer = torch.optim.SGD(net.parameters(), lr=0.005, momentum=0.9)
    losses = []
    for _ in range(epochs):
        order, total = torch.randperm(len(x_train)), 0.0
        for batch in order.split(128):
            loss = net.head.loss(net(x_train[batch]), y_train[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch)
        losses.append(total / len(x_train))
    return losses


curves, accuracy = {}, {}
for kind in ("plain", "residual"):
    net = deep_net(kind)
    curves[kind] = train(net)
    net.eval()
    with torch.no_grad():
        accuracy[kind] = (net.head.predict(net(x_test)) == y_test).float().mean().item()
    print(f"{kind:>8}: test accuracy {accuracy[kind]:.3f} after {len(curves[kind])} epochs")

# %%
# Learning curves
# ---------------

fig, ax = plt.subplots(figsize=(6, 3.5))
for kind, losses in curves.items():
    ax.plot(
        range(1, len(losses) + 1),
        losses,
        marker="o",
        label=f"{kind} (test acc {accuracy[kind]:.2f})",
    )
ax.set(xlabel="epoch", ylabel="training loss (cross-entropy)", title="50-layer MLP on digits")
ax.legend()
fig.tight_layout()
plt.show()
