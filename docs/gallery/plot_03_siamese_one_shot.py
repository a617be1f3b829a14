"""
Siamese networks: one-shot recognition of unseen classes
========================================================

A Siamese network runs one encoder over two inputs and compares the embeddings. Trained so
that samples of one class land close together and others far apart (here with batch-hard
triplets), it can recognise a class from a single example, even a class it never saw
(Koch et al. 2015).

This example loads the shipped ``siamese_cnn.glyphs_triplet`` (a
:class:`zoo.patterns.Siamese`), generates the unseen test glyphs of
:class:`zoo.data.GlyphsDataModule`, and plays 5-way and 20-way one-shot episodes against
nearest neighbours on raw pixels.
"""

import matplotlib.pyplot as plt
import torch

import zoo
from zoo.analysis.oneshot import episodes
from zoo.data import GlyphsDataModule

net = zoo.create_model("siamese_cnn.glyphs_triplet", pretrained=True).eval()
x, labels = GlyphsDataModule(seed=0).load()["test"][:2]  # classes never trained on
with torch.no_grad():
    embedding = net.embed(x)


def one_shot_accuracy(features: torch.Tensor, n_way: int, count: int = 1000) -> float:
    """Pick each query's class as that of its nearest support sample (Euclidean)."""
    queries, supports, answers = episodes(labels, n_way, count, torch.Generator().manual_seed(0))
    distance = (features[queries][:, None] - features[supports]).norm(dim=-1)
    return (distance.argmin(1) == answers).float().mean().item()


for n_way in (5, 20):
    learned = one_shot_accuracy(embedding, n_way)
    pixels = one_shot_accuracy(x.flatten(1), n_way)
    print(f"{n_way:>2}-way one-shot: embedding {learned:.3f}, raw pixels {pixels:.3f}")

# %%
# Unseen classes in the embedding
# -------------------------------
# Eight classes the net never saw, projected to 2-D by PCA of their embeddings.

chosen = labels.unique()[:8]
mask = torch.isin(labels, chosen)
points = embedding[mask] - embedding[mask].mean(0)
_, _, vh = torch.linalg.svd(points, full_matrices=False)
flat = points @ vh[:2].T
fig, (left, right) = plt.subplots(1, 2, figsize=(8, 3.6))
for i, c in enumerate(chosen):
    here = labels[mask] == c
    right.scatter(flat[here, 0], flat[here, 1], s=12, color=f"C{i}")
    left_image = x[labels == c][0, 0]
    left.imshow(left_image, cmap="gray_r", extent=(i, i + 0.9, 0, 0.9))
left.set(xlim=(0, 8), ylim=(0, 0.9), xticks=[], yticks=[], title="one glyph of each class")
right.set(xticks=[], yticks=[], title="their embeddings (PCA to 2-D)")
fig.tight_layout()
plt.show()
