"""timm's classifier interface for every pattern that ends in a head: `forward` is
`head(forward_features(...))`, so `get_classifier()` and `reset_classifier(n)` (0: the
features themselves) mean what timm's users expect of them."""

from __future__ import annotations

from typing import Any

from torch import nn

from zoo.blocks.heads import Head, head_like


class HasHead(nn.Module):
    """A pattern whose output is `self.head` applied to `forward_features(*inputs)`."""

    head: nn.Module  # each pattern also defines `forward_features`, with its own inputs

    @property
    def num_features(self) -> int:
        """Width of the features the head reads (timm's `num_features`)."""
        if isinstance(self.head, Head):
            return self.head.in_features
        return int(self.__dict__.get("_num_features") or self.features_width())

    def features_width(self) -> int:
        """The width of `forward_features` when no head says it (after `reset_classifier(0)`
        of a model rebuilt from its config)."""
        raise TypeError(f"{type(self).__name__}: its feature width is unknown without a head")

    def get_classifier(self) -> nn.Module:
        """The head (`nn.Identity` once reset to 0 classes), as timm's models answer."""
        return self.head

    def reset_classifier(self, num_classes: int) -> None:
        """A fresh head of the same kind with `num_classes` outputs; 0 leaves the features
        (timm's convention). The config the model carries says so, so it saves and reloads."""
        width = self.num_features
        self.head = head_like(self.head, width, num_classes)
        self.__dict__["_num_features"] = width
        config: Any = getattr(self, "zoo_config", None)
        if config is not None:
            config["head"] = head_config(self.head)


def head_config(head: nn.Module) -> dict[str, object]:
    """The config of a head built by `head_like`: a partial of its class, or `nn.Identity`."""
    if not isinstance(head, Head):
        return {"_target_": "torch.nn.Identity"}
    sizes = {
        "MultiClassHead": {"num_classes": head.num_outputs},
        "MultiLabelHead": {"num_labels": head.num_outputs},
        "RegressionHead": {"num_outputs": head.num_outputs},
    }.get(type(head).__name__, {})
    return {"_target_": f"zoo.blocks.{type(head).__name__}", "_partial_": True, **sizes}
