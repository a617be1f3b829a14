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
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from zoo.utils.builder import register


@register()
class Head(nn.Module):
    """A linear map from features (N, in_features) to `num_outputs` logits, plus the loss,
    probabilities and predictions that go with them.

    `problem` names the kind (`binary`, `multilabel`, `multiclass`, `regression`): tasks pick
    their metrics from it. A plain PyTorch loop needs only `loss(logits, y)` to train and
    `predict_proba(logits)` / `predict(logits)` to use the model.
    """

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
        """Features (N, in_features) -> logits (N, num_outputs)."""
        if x.dim() != 2 or x.shape[1] != self.in_features:
            raise ValueError(
                f"{type(self).__name__} expected features of shape (N, {self.in_features}), "
                f"got {tuple(x.shape)}"
            )
        return self.linear(x)

    def loss(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """The mean loss (a scalar tensor) of `logits`, as `forward` returns them, against
        `target`: class indices (N,), 0/1 labels shaped like the logits, or real values."""
        raise NotImplementedError

    def predict_proba(self, logits: torch.Tensor) -> torch.Tensor:
        """Probabilities from logits, shaped like them: sigmoid per output or softmax over
        classes (regression heads have none)."""
        raise NotImplementedError

    def predict(self, logits: torch.Tensor) -> torch.Tensor:
        """Hard predictions from logits: 0/1 labels (long), class indices (N,) or the
        regressed values."""
        raise NotImplementedError

    def metric_input(self, logits: torch.Tensor) -> torch.Tensor:
        """What the task's metrics compare with the targets: the probabilities of
        `predict_proba` (regression heads: the values themselves)."""
        return self.predict_proba(logits)


@register()
class SigmoidHead(Head):
    """Independent Bernoulli outputs: p = sigmoid(logit) each, binary cross-entropy on the
    logits, predicted 1 where p > 0.5 (logit > 0). The base of `BinaryHead` and
    `MultiLabelHead`."""

    def loss(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Mean binary cross-entropy with logits; `target` holds 0/1 labels shaped like them."""
        return F.binary_cross_entropy_with_logits(logits, target.to(logits.dtype))

    def predict_proba(self, logits: torch.Tensor) -> torch.Tensor:
        """sigmoid(logits): p(label = 1) per output."""
        return torch.sigmoid(logits)

    def predict(self, logits: torch.Tensor) -> torch.Tensor:
        """0/1 labels (long): 1 where the logit is positive."""
        return (logits > 0).long()


@register()
class BinaryHead(SigmoidHead):
    """One logit per sample; p(y=1|x) = sigmoid(logit), a Bernoulli parameter."""

    problem = "binary"

    def __init__(self, in_features: int) -> None:
        super().__init__(in_features, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Features (N, in_features) -> one logit per sample (N,)."""
        return super().forward(x).squeeze(1)


@register()
class MultiLabelHead(SigmoidHead):
    """One independent Bernoulli per label: several labels can be on at once."""

    problem = "multilabel"

    def __init__(self, in_features: int, num_labels: int) -> None:
        super().__init__(in_features, num_labels)


@register()
class MultiClassHead(Head):
    """One categorical over classes: softmax of the logits, exactly one class is true."""

    problem = "multiclass"

    def __init__(self, in_features: int, num_classes: int) -> None:
        super().__init__(in_features, num_classes)

    def loss(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Mean cross-entropy of logits (N, K) against class indices `target` (N,)."""
        return F.cross_entropy(logits, target)

    def predict_proba(self, logits: torch.Tensor) -> torch.Tensor:
        """softmax(logits): (N, K) class probabilities that sum to one."""
        return torch.softmax(logits, dim=-1)

    def predict(self, logits: torch.Tensor) -> torch.Tensor:
        """The most likely class index per sample (N,)."""
        return logits.argmax(dim=-1)


@register()
class RegressionHead(Head):
    """Real-valued outputs trained with mean squared error; one target gives shape (N,)."""

    problem = "regression"

    def __init__(self, in_features: int, num_outputs: int = 1) -> None:
        super().__init__(in_features, num_outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Features (N, in_features) -> values (N,) for one target, else (N, num_outputs)."""
        out = super().forward(x)
        return out.squeeze(1) if self.num_outputs == 1 else out

    def loss(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Mean squared error between the predicted values and `target`, shaped alike."""
        return F.mse_loss(logits, target.to(logits.dtype))

    def predict(self, logits: torch.Tensor) -> torch.Tensor:
        """The predicted values themselves."""
        return logits

    def metric_input(self, logits: torch.Tensor) -> torch.Tensor:
        """The predicted values, for MSE / MAE."""
        return logits


@register()
class DenseHead(RegressionHead):
    """A dense prediction (an image, a map) of `output_shape` from a feature vector: one linear
    map to every output element, trained with mean squared error, e.g. a reconstruction head."""

    def __init__(self, in_features: int, output_shape: tuple[int, ...]) -> None:
        self.output_shape = tuple(int(s) for s in output_shape)
        super().__init__(in_features, math.prod(self.output_shape))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Features (N, in_features) -> predictions `(N, *output_shape)`."""
        return Head.forward(self, x).view(len(x), *self.output_shape)


HEADS: dict[str, type[Head]] = {
    h.problem: h for h in (BinaryHead, MultiLabelHead, MultiClassHead, RegressionHead)
}
"""The head class of each kind of problem, by the name a data module reports as its `problem`
(`binary`, `multilabel`, `multiclass`, `regression`)."""

HeadLike = Head | Callable[[int], Head]


def build_head(head: HeadLike, in_features: int | Callable[[], int]) -> nn.Module:
    """`head` itself if it is a module, else `head(in_features)`: a class or a Hydra partial
    that takes the width of the features it reads, so no config works a width out by hand.
    `in_features` may be a function giving the width, called only when it is needed."""
    if isinstance(head, nn.Module):
        return head
    return head(in_features() if callable(in_features) else in_features)


def head_like(head: nn.Module, in_features: int, num_outputs: int) -> nn.Module:
    """A fresh head of `head`'s kind over `in_features` with `num_outputs` outputs (timm's
    `reset_classifier`): 0 gives `nn.Identity` (the features themselves); a feature-only net
    gets a multi-class head; a binary head has one output only."""
    if num_outputs == 0:
        return nn.Identity()
    if num_outputs < 0:
        raise ValueError(f"num_classes={num_outputs}: expected 0 (features) or a positive count")
    kind = type(head) if isinstance(head, Head) else MultiClassHead
    if kind is BinaryHead:
        if num_outputs != 1:
            raise ValueError(
                f"num_classes={num_outputs}: a BinaryHead has one logit; expected 1, or 0 for "
                "features"
            )
        return BinaryHead(in_features)
    return kind(in_features, num_outputs)
