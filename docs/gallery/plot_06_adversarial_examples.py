"""
Backprop to the input: adversarial examples and feature visualisation
=====================================================================

The gradient that trains the weights also says how to change the input to raise the loss.
One step along its sign (FGSM, Goodfellow et al. 2015), or several projected back into a small
box around the image (PGD, Madry et al. 2018), fools a classifier with changes a person
barely sees. Training on such inputs (adversarial training) makes the model robust to them.

This example attacks the shipped ``cnn.digits`` and ``cnn.digits_adversarial`` (trained by
:class:`zoo.tasks.AdversarialTrainingTask`) with the attacks of ``zoo.analysis.attacks`` at
growing sizes, shows a digit before and after, and optimises one input per class to show what
``cnn.digits`` looks for.
"""

import matplotlib.pyplot as plt
import torch

import zoo
from zoo.analysis.attacks import pgd, robust_accuracy
from zoo.analysis.feature_vis import visualize
from zoo.data import DigitsDataModule
from zoo.utils.preprocessing import input_range, normalize

torch.manual_seed(0)
epsilons = [0.0, 0.1, 0.2, 0.3]
unit, y = DigitsDataModule().load_unit()["test"][:2]  # pixels in [0, 1]
curves = {}
for name in ("cnn.digits", "cnn.digits_adversarial"):
    net = zoo.create_model(name, pretrained=True).eval()
    x = normalize(unit, net.pretrained_cfg)  # the model's own preprocessing
    low, high = input_range(net.pretrained_cfg)
    curves[name] = robust_accuracy(net, x, y, epsilons, low, high, pgd_steps=5)
    print(name, "PGD accuracy:", ", ".join(f"{a:.2f}" for a in curves[name]["pgd"]))

# %%
# Accuracy against the size of the perturbation
# ---------------------------------------------
# Random noise of the same size barely hurts; the attacks, which follow the gradient, do.

fig, ax = plt.subplots(figsize=(6.5, 3.8))
for i, (name, curve) in enumerate(curves.items()):
    for kind, style in (("noise", ":"), ("fgsm", "--"), ("pgd", "-")):
        ax.plot(epsilons, curve[kind], style, color=f"C{i}", marker="o", label=f"{name} {kind}")
ax.set(xlabel="epsilon (fraction of the pixel range)", ylabel="test accuracy")
ax.legend(fontsize=7)
fig.tight_layout()
plt.show()

# %%
# The same digit, attacked, and what the network looks for
# --------------------------------------------------------
# Left: a test digit and its PGD-perturbed copy. Right: one input per class optimised from grey
# noise by gradient ascent on that class's logit (``zoo.analysis.feature_vis.visualize``).

net = zoo.create_model("cnn.digits", pretrained=True).eval()
x = normalize(unit[:1], net.pretrained_cfg)
low, high = input_range(net.pretrained_cfg)
attacked = pgd(net, x, y[:1], 0.2, low, high, steps=10)
dreams = visualize(net, list(range(10)), low, high)
with torch.no_grad():
    before, after = net(x).argmax(1).item(), net(attacked).argmax(1).item()
    confidence = torch.softmax(net(dreams), dim=1).diagonal()
print(f"cnn.digits on the attacked digit: {before} -> {after}")
print(
    "confidence of each optimised input for its class:", ", ".join(f"{c:.2f}" for c in confidence)
)

fig, axes = plt.subplots(1, 12, figsize=(10, 1.6))
pictures = [x[0, 0], attacked[0, 0], *dreams[:, 0]]
titles = [f"digit: {before}", f"PGD: {after}", *(f"class {c}" for c in range(10))]
for ax, picture, title in zip(axes, pictures, titles, strict=True):
    ax.imshow(picture, cmap="gray_r")
    ax.set(xticks=[], yticks=[])
    ax.set_title(title, fontsize=8)
fig.tight_layout()
plt.show()
