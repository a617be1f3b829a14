"""
Real benchmarks: Omniglot's official one-shot runs
==================================================

Omniglot (Lake et al. 2015) is the benchmark of one-shot learning: 20 fixed runs, each
showing one drawing of 20 new characters and asking which of them each of 20 other drawings
is. The data ship with the zoo (``data/omniglot``, Lake's two minimal background sets and the
official runs), so this runs offline.

This example loads the shipped ``siamese_cnn.omniglot_minimal``, scores it on the official
runs with ``zoo.analysis.oneshot.official_accuracy`` as Lake et al. score them, next to
nearest neighbours on raw pixels, and shows one run.
"""

from pathlib import Path

import matplotlib.pyplot as plt
import torch

import zoo
from zoo.analysis.oneshot import official_accuracy, runs_accuracy
from zoo.data import OmniglotDataModule

net = zoo.create_model("siamese_cnn.omniglot_minimal", pretrained=True).eval()
checkout = Path(zoo.__file__).resolve().parents[1]  # a clone: data/omniglot ships there
data = OmniglotDataModule(
    background="minimal", data_dir=str(checkout / "data"), image_size=28, download=False
)
runs = data.one_shot_runs()
accuracy = official_accuracy(net, runs)
pixels = runs_accuracy(-torch.cdist(runs.query.flatten(2), runs.support.flatten(2)), runs.answer)
card = net.pretrained_cfg["card"]["metrics"]["test/acc_official_20way"]
print(f"official 20-way accuracy: {accuracy:.3f} (card: {card:.3f}); raw pixels {pixels:.3f}")

# %%
# The first run: its 20 training drawings, then 10 of its test drawings
# ---------------------------------------------------------------------

fig, axes = plt.subplots(3, 10, figsize=(8, 2.8))
for c in range(10):
    axes[0, c].imshow(runs.support[0, c, 0], cmap="gray")
    axes[1, c].imshow(runs.support[0, 10 + c, 0], cmap="gray")
    axes[2, c].imshow(runs.query[0, c, 0], cmap="gray")
for ax in axes.flat:
    ax.set(xticks=[], yticks=[])
axes[0, 0].set_ylabel("train", rotation=0, ha="right")
axes[2, 0].set_ylabel("test", rotation=0, ha="right")
fig.tight_layout()
plt.show()
