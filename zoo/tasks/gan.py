"""Adversarial training of a GAN: discriminator and generator steps in turn, two optimizers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import torch
from torch import nn

from zoo.analysis.judge import judge_samples
from zoo.blocks.frozen import HoldsFrozen
from zoo.tasks.base import ZooTask
from zoo.tasks.gan_losses import discriminator_loss, generator_loss
from zoo.utils.builder import register

if TYPE_CHECKING:
    from typing import Protocol

    from lightning.pytorch.core.optimizer import LightningOptimizer

    class GANNet(Protocol):
        """What GANTask needs of its net (zoo.patterns.GAN)."""

        generator: nn.Module
        discriminator: nn.Module

        def __call__(self, z: torch.Tensor) -> torch.Tensor: ...

        def discriminate(self, x: torch.Tensor) -> torch.Tensor: ...

        def noise(self, count: int, generator: torch.Generator | None = None) -> torch.Tensor: ...

        def sample(self, count: int, generator: torch.Generator | None = None) -> torch.Tensor: ...


@register("task")
class GANTask(HoldsFrozen, ZooTask):
    """Each batch: one discriminator step on real images and fresh samples, then one generator
    step with the non-saturating loss; each network has its own optimizer, built from the same
    partial. Logged per epoch: `train/d_loss`, `train/g_loss`, `val/d_loss`. On test,
    `judge_samples` generated images (fixed seed) are shown to `judge`, a pretrained classifier
    module (the config builds it: `_target_: zoo.load_model`): `test/judge_confidence` and
    `test/judge_spread` (see `zoo.analysis.judge`)."""

    logged = ("train/g_loss", "{stage}/d_loss", "test/judge_confidence", "test/judge_spread")

    produces = "generation"

    judge: nn.Module | None  # held frozen (`hold_frozen`), if given

    def __init__(
        self,
        net: nn.Module,
        *,
        judge: nn.Module | None = None,
        judge_samples: int = 1000,
        **kwargs: Any,
    ) -> None:
        super().__init__(net, **kwargs)
        if self.scheduler_factory is not None:
            raise ValueError(
                "GANTask takes no scheduler (scheduler=none): two optimizers, fixed rates"
            )
        self.automatic_optimization = False
        if judge is None:
            self.judge = None
        else:  # frozen, out of the checkpoint: it evaluates, never trains
            self.hold_frozen("judge", judge)
        self.judge_samples = judge_samples

    @classmethod
    def check_net(cls, net: nn.Module) -> None:
        if not all(
            hasattr(net, a) for a in ("generator", "discriminator", "discriminate", "noise")
        ):
            raise TypeError(
                "GANTask needs a net with a generator and a discriminator (zoo.patterns.GAN), "
                f"got {type(net).__name__}"
            )

    def setup(self, stage: str) -> None:
        """Under DDP, let DDP look for unused parameters: the discriminator's backward pass
        leaves the generator out, so with DDP's default every GAN step fails. (Lightning has
        no public setter; `_ddp_kwargs` is read when the strategy wraps the model, after this
        hook.)"""
        from lightning.pytorch.strategies import DDPStrategy

        strategy = self.trainer.strategy
        if isinstance(strategy, DDPStrategy):
            strategy._ddp_kwargs["find_unused_parameters"] = True

    def configure_optimizers(self) -> Any:
        if self.optimizer_factory is None:
            raise ValueError("GANTask was built without an optimizer: it can evaluate, not train")
        net = cast("GANNet", self.net)
        return [
            self.optimizer_factory(params=net.generator.parameters()),
            self.optimizer_factory(params=net.discriminator.parameters()),
        ]

    def training_step(self, batch: tuple[torch.Tensor, ...], batch_idx: int) -> None:
        x, net = batch[0], cast("GANNet", self.net)
        # two optimizers (configure_optimizers): Lightning hands them as a list
        g_optimizer, d_optimizer = cast("list[LightningOptimizer]", self.optimizers())
        fake = net(net.noise(len(x)))
        d_loss = discriminator_loss(net.discriminate(x), net.discriminate(fake.detach()))
        d_optimizer.zero_grad()
        self.manual_backward(d_loss)
        d_optimizer.step()
        g_loss = generator_loss(net.discriminate(fake))
        g_optimizer.zero_grad()
        self.manual_backward(g_loss)
        g_optimizer.step()
        self.log_epoch({"train/d_loss": d_loss.detach(), "train/g_loss": g_loss.detach()}, len(x))

    def _step(self, batch: tuple[torch.Tensor, ...], stage: str) -> torch.Tensor:
        x, net = batch[0], cast("GANNet", self.net)
        fake = net(net.noise(len(x)))
        loss = discriminator_loss(net.discriminate(x), net.discriminate(fake))
        self.log_epoch({f"{stage}/d_loss": loss}, len(x))
        return loss

    def on_test_epoch_end(self) -> None:
        super().on_test_epoch_end()
        if self.judge is None:
            return
        samples = cast("GANNet", self.net).sample(
            self.judge_samples, torch.Generator(device=self.device).manual_seed(0)
        )
        verdict = judge_samples(samples, self.judge)
        self.log("test/judge_confidence", verdict["confidence"], sync_dist=True)
        self.log("test/judge_spread", verdict["spread"], sync_dist=True)
