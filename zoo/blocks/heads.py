"""Output heads for the three problem types, each paired with its loss.

| head            | outputs             | probabilities      | loss                  |
| BinaryHead      | one logit (N,)      | sigmoid: Bernoulli | BCE with logits       |
| MultiLabelHead  | one logit per label | a sigmoid each     | BCE with logits       |
| MultiClassHead  | one logit per class | softmax            | cross-entropy         |
| RegressionHead  | one value per target| (the value itself) | mean squared error    |
| DenseHead       | a value per element | (the value itself) | mean squared error    |
|                 | of an output shape  |                    | (e.g. an image)       |

Losses take logits, never probabilities: log-sigmoid and log-softmax are computed stably.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class Head(nn.Module):
    """A linear map to logits plus the loss and probabilities that go with them."""

    problem: str = ""

    def __init__(self, in_features: int, num_outputs: int) -> None:
        super().__init__()
        if in_features <= 0 or num_outputs <= 0:
            raise ValueError(
                f"{type(self).__name__} sizes must be positive, got in_features={in_features}, "
                f"num_outputs={num_outputs}"
            )
        self.in_features, self.num_outputs = in_features, num_outputs
        self.linear = nn.Linear(in_features, num_outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 2 or x.shape[1] != self.in_features:
            raise ValueError(
                f"{type(self).__name__} expected features of shape (N, {self.in_features}), "
                f"got {tuple(x.shape)}"
            )
        return self.linear(x)

    def loss(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def predict_proba(self, logits: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def predict(self, logits: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def metric_input(self, logits: torch.Tensor) -> torch.Tensor:
        """What the task's metrics compare with the targets: probabilities here."""
        return self.predict_proba(logits)


class BinaryHead(Head):
    """One logit per sample; p(y=1|x) = sigmoid(logit), a Bernoulli parameter."""

    problem = "binary"

    def __init__(self, in_features: int) -> None:
        super().__init__(in_features, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x).squeeze(1)

    def loss(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return F.binary_cross_entropy_with_logits(logits, target.to(logits.dtype))

    def predict_proba(self, logits: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(logits)

    def predict(self, logits: torch.Tensor) -> torch.Tensor:
        return (logits > 0).long()


class MultiLabelHead(Head):
    """One independent Bernoulli per label: several labels can be on at once."""

    problem = "multilabel"

    def __init__(self, in_features: int, num_labels: int) -> None:
        super().__init__(in_features, num_labels)

    def loss(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return F.binary_cross_entropy_with_logits(logits, target.to(logits.dtype))

    def predict_proba(self, logits: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(logits)

    def predict(self, logits: torch.Tensor) -> torch.Tensor:
        return (logits > 0).long()


class MultiClassHead(Head):
    """One categorical over classes: softmax of the logits, exactly one class is true."""

    problem = "multiclass"

    def __init__(self, in_features: int, num_classes: int) -> None:
        super().__init__(in_features, num_classes)

    def loss(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(logits, target)

    def predict_proba(self, logits: torch.Tensor) -> torch.Tensor:
        return torch.softmax(logits, dim=-1)

    def predict(self, logits: torch.Tensor) -> torch.Tensor:
        return logits.argmax(dim=-1)


class RegressionHead(Head):
    """Real-valued outputs trained with mean squared error; one target gives shape (N,)."""

    problem = "regression"

    def __init__(self, in_features: int, num_outputs: int = 1) -> None:
        super().__init__(in_features, num_outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = super().forward(x)
        return out.squeeze(1) if self.num_outputs == 1 else out

    def loss(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return F.mse_loss(logits, target.to(logits.dtype))

    def predict(self, logits: torch.Tensor) -> torch.Tensor:
        return logits

    def metric_input(self, logits: torch.Tensor) -> torch.Tensor:
        return logits


class DenseHead(RegressionHead):
    """A dense prediction (an image, a map) of `output_shape` from a feature vector: one linear
    map to every output element, trained with mean squared error, e.g. a reconstruction head."""

    def __init__(self, in_features: int, output_shape: tuple[int, ...]) -> None:
        self.output_shape = tuple(int(s) for s in output_shape)
        super().__init__(in_features, math.prod(self.output_shape))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return Head.forward(self, x).view(len(x), *self.output_shape)


HEADS: dict[str, type[Head]] = {
    h.problem: h for h in (BinaryHead, MultiLabelHead, MultiClassHead, RegressionHead)
}
