"""
Distillation: what a teacher's soft targets carry
=================================================

A trained classifier's outputs say more than its answer: how much a 3 looks like a 5 or an 8.
Softened by a temperature ``T`` (softmax of logits / T), these soft targets teach a student
the teacher's similarities between classes, which a one-hot label cannot (Hinton et al. 2015).

This example loads the shipped teacher ``cnn.digits_teacher`` and the small student
``mlp.digits_distilled_small`` that :class:`zoo.tasks.DistillationTask` trained from it,
shows the teacher's output for one digit at three temperatures, and compares the two models'
accuracy and size.
"""

import matplotlib.pyplot as plt
import torch

import zoo
from zoo.data import DigitsDataModule

teacher = zoo.create_model("cnn.digits_teacher", pretrained=True).eval()
student = zoo.create_model("mlp.digits_distilled_small", pretrained=True).eval()
x, y = DigitsDataModule().load()["test"][:2]

for name, net in (("teacher", teacher), ("student", student)):
    with torch.no_grad():
        accuracy = (net(x).argmax(1) == y).float().mean().item()
    size = sum(p.numel() for p in net.parameters())
    print(f"{name}: test accuracy {accuracy:.3f}, {size:,} parameters")

# %%
# One digit's soft targets
# ------------------------
# At T=1 nearly all the mass is on the answer; higher temperatures bring out the runner-ups.

with torch.no_grad():
    logits = teacher(x)
sample = int((y == 3).nonzero()[0])
fig, axes = plt.subplots(1, 4, figsize=(9, 2.6), width_ratios=(0.8, 1, 1, 1))
axes[0].imshow(x[sample, 0], cmap="gray_r")
axes[0].set(xticks=[], yticks=[], title=f"a test {y[sample].item()}")
for ax, temperature in zip(axes[1:], (1.0, 2.5, 20.0), strict=True):
    soft = torch.softmax(logits[sample] / temperature, dim=0)
    ax.bar(range(10), soft, color="C0")
    ax.set(xticks=range(10), ylim=(0, 1), title=f"T = {temperature:g}")
    first, second = soft.argsort(descending=True)[:2].tolist()
    print(
        f"T={temperature:>4}: p({first}) {soft[first]:.3f}, runner-up p({second}) {soft[second]:.3f}"
    )
axes[1].set_ylabel("teacher's probability")
fig.tight_layout()
plt.show()
