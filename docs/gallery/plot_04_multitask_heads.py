"""
Multi-task: one trunk, a classification head and a regression head
===================================================================

A multi-task network computes one shared representation and reads several answers from it,
one head per task. The tasks share what they have in common and the model is smaller and
faster than one network per task; the price is that their losses must be balanced (Kendall,
Gal & Cipolla 2018 learn the weights from each task's uncertainty).

This example loads the shipped ``multitask_mlp.rotated_digits`` (a
:class:`zoo.patterns.MultiTask` trained with uncertainty weighting by
:class:`zoo.tasks.MultiTaskTask`), and reads both heads on the rotated test digits of
:class:`zoo.data.RotatedDigitsDataModule`: which digit, and by how many degrees it is rotated.
"""

import matplotlib.pyplot as plt
import torch

import zoo
from zoo.data import RotatedDigitsDataModule

net = zoo.create_model("multitask_mlp.rotated_digits", pretrained=True).eval()
data = RotatedDigitsDataModule(targets=["digit", "angle"], max_angle=45.0, copies=4, seed=0)
x, digit, angle = data.load()["test"][:3]

with torch.no_grad():
    out = net(x)  # {"digit": logits, "angle": the regression head's output}
predicted_digit = net.heads["digit"].predict(out["digit"])
predicted_angle = net.heads["angle"].predict(out["angle"]).squeeze(-1)
card = net.pretrained_cfg["card"]["metrics"]
print(
    f"digit accuracy {(predicted_digit == digit).float().mean():.3f} (card: {card['test/digit/acc']:.3f})"
)
print(
    f"angle MAE {(predicted_angle - angle).abs().mean():.2f} degrees (card: {card['test/angle/mae']:.2f})"
)
print(f"parameters: {sum(p.numel() for p in net.parameters()):,}, one trunk for both tasks")

# %%
# Both answers from one forward pass
# ----------------------------------

fig, (left, right) = plt.subplots(1, 2, figsize=(8, 3.6), width_ratios=(1, 1.2))
left.scatter(angle, predicted_angle, s=3, alpha=0.4)
left.plot([-45, 45], [-45, 45], color="black", linewidth=1)
left.set(xlabel="true angle (degrees)", ylabel="predicted angle", title="the angle head")
right.axis("off")
for i in range(8):
    ax = right.inset_axes((i % 4 / 4, 0.5 - i // 4 * 0.5, 0.23, 0.45))
    ax.imshow(x[i, 0], cmap="gray_r")
    ax.set(xticks=[], yticks=[])
    ax.set_title(f"{predicted_digit[i].item()}, {predicted_angle[i].item():+.0f}°", fontsize=8)
right.set_title("digit head, angle head")
fig.tight_layout()
plt.show()
