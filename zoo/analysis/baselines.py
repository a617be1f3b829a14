"""Closed-form baselines the learned patterns are measured against: PCA for autoencoders,
and for one-shot classification on fixed runs (`zoo.analysis.oneshot.OneShotRuns`, Omniglot's
official runs) raw-pixel nearest neighbours and Lake et al.'s modified-Hausdorff nearest
neighbours, scored by the same code as any net (`runs_accuracy`)."""

from __future__ import annotations

import torch
from torch import nn

from zoo.analysis.oneshot import OneShotRuns, official_accuracy, runs_accuracy


class PCA:
    """Principal component analysis by SVD: the best linear k-dimensional reconstruction in
    squared error, which a linear autoencoder can only match (Baldi & Hornik 1989)."""

    def __init__(self, k: int) -> None:
        self.k = k

    def fit(self, x: torch.Tensor) -> PCA:
        flat = x.flatten(1).double()
        self.mean = flat.mean(0)
        _, _, vh = torch.linalg.svd(flat - self.mean, full_matrices=False)
        self.components = vh[: self.k]
        return self

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        flat = x.flatten(1).double() - self.mean
        return ((flat @ self.components.T) @ self.components + self.mean).view_as(x).to(x.dtype)


def squared_error_per_sample(x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Squared error summed over each sample's values, averaged over samples."""
    return (x - target).pow(2).flatten(1).sum(1).mean()


def pixel_nearest_neighbour(runs: OneShotRuns) -> float:
    """Official one-shot accuracy of raw-pixel 1-NN: each query takes the class of the support
    image nearest in Euclidean distance between the images as they are (Koch et al. 2015's
    "1-Nearest Neighbor" row), scored as a net is (`official_accuracy`)."""
    from zoo.patterns.siamese import Siamese

    pixels = Siamese(nn.Flatten(1), runs.support.shape[2:], merge="euclidean")
    return official_accuracy(pixels, runs)


def ink_points(image: torch.Tensor, threshold: float = 0.5, centre: bool = True) -> torch.Tensor:
    """(K, 2) coordinates (row, column) of the inked pixels of one image (..., H, W) with ink
    above `threshold` on background 0, centred on their mean as Lake's `LoadImgAsPoints`
    centres them (`centre=False`: where they lie)."""
    points = torch.nonzero(image.reshape(image.shape[-2:]) > threshold).double()
    return points - points.mean(0) if centre and len(points) else points


def modified_hausdorff(a: torch.Tensor, b: torch.Tensor) -> float:
    """Dubuisson & Jain (1994)'s modified Hausdorff distance between point sets a (K, 2) and
    b (L, 2): the larger of the mean distance from a point of a to its nearest point of b and
    from a point of b to its nearest point of a. A set without points is infinitely far from
    any other."""
    from scipy.spatial import cKDTree  # scikit-learn's dependency

    if not len(a) or not len(b):
        return float("inf")
    a_to_b = cKDTree(b.numpy()).query(a.numpy())[0].mean()
    b_to_a = cKDTree(a.numpy()).query(b.numpy())[0].mean()
    return float(max(a_to_b, b_to_a))


def modified_hausdorff_scores(
    runs: OneShotRuns, threshold: float = 0.5, centre: bool = True
) -> torch.Tensor:
    """(R, Q, N) minus the modified Hausdorff distance between each query's ink and each
    support image's ink of its run (higher means more alike, for `runs_accuracy`): exact
    nearest points by k-d trees (scipy), about 7 s for Omniglot's 20 runs at 105x105."""
    from scipy.spatial import cKDTree  # scikit-learn's dependency

    runs = runs.to("cpu")
    scores = torch.full((*runs.query.shape[:2], runs.ways), float("-inf"), dtype=torch.float64)
    for r in range(len(runs.support)):
        support = [ink_points(image, threshold, centre).numpy() for image in runs.support[r]]
        support_trees = [cKDTree(points) if len(points) else None for points in support]
        for q, image in enumerate(runs.query[r]):
            query = ink_points(image, threshold, centre).numpy()
            if not len(query):
                continue
            query_tree = cKDTree(query)
            for n, (points, tree) in enumerate(zip(support, support_trees, strict=True)):
                if tree is not None:
                    a_to_b = tree.query(query)[0].mean()
                    b_to_a = query_tree.query(points)[0].mean()
                    scores[r, q, n] = -max(a_to_b, b_to_a)
    return scores


def modified_hausdorff_nearest_neighbour(
    runs: OneShotRuns, threshold: float = 0.5, centre: bool = True
) -> float:
    """Official one-shot accuracy of Lake et al. (2015)'s baseline (their
    `demo_classification.py`, written again): images as the coordinates of their inked
    pixels, centred on their mean; each query takes the class of the support image at the
    smallest modified Hausdorff distance. Meant for binary images at 105x105, as released:
    there it reaches 0.6125 on the official runs (Lake's demo: 38.8% errors); without the
    centring (`centre=False`), 0.36."""
    return runs_accuracy(modified_hausdorff_scores(runs, threshold, centre), runs.answer)
