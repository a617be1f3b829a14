"""
Encoder-decoder: an autoencoder against PCA
===========================================

An autoencoder squeezes each input through a narrow code ``z = encode(x)`` and learns to
rebuild it, ``decode(z)``. With linear layers the best it can do is PCA (Baldi & Hornik 1989);
with nonlinear ones it can bend the code around the data and do better at the same width.

This example loads the shipped ``autoencoder.digits`` (a :class:`zoo.patterns.Autoencoder`),
reconstructs the held-out digits it was tested on, and compares its squared error with PCA's
at the same bottleneck, fitted on the same training images.
"""

import matplotlib.pyplot as plt
import torch

import zoo
from zoo.analysis.baselines import PCA
from zoo.data import DigitsDataModule

net = zoo.create_model("autoencoder.digits", pretrained=True).eval()
splits = DigitsDataModule(scale="unit").load()  # pixels in [0, 1], the card's split
x_train, x_test = splits["train"][0], splits["test"][0]

with torch.no_grad():
    code = net.encode(x_test)
    reconstruction = net(x_test)
k = code.shape[1]
pca = PCA(k).fit(x_train)
by_pca = pca.reconstruct(x_test)


def error(a: torch.Tensor) -> float:
    """Squared error per image, summed over its 64 pixels, averaged over the images."""
    return (a - x_test).pow(2).flatten(1).sum(1).mean().item()


print(f"bottleneck k = {k}")
print(
    f"autoencoder: {error(reconstruction):.3f}  (its card: {net.pretrained_cfg['card']['metrics']['test/loss']:.3f})"
)
print(f"PCA:         {error(by_pca):.3f}")

# %%
# Originals, the autoencoder's reconstructions and PCA's
# ------------------------------------------------------

rows = {"original": x_test, "autoencoder": reconstruction, f"PCA, k={k}": by_pca}
fig, axes = plt.subplots(3, 10, figsize=(8, 2.8))
for r, (label, images) in enumerate(rows.items()):
    for c in range(10):
        axes[r, c].imshow(images[c, 0], cmap="gray_r", vmin=0, vmax=1)
        axes[r, c].set(xticks=[], yticks=[])
    axes[r, 0].set_ylabel(label, rotation=0, ha="right", va="center")
fig.tight_layout()
plt.show()
