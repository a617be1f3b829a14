"""Knowledge-distillation losses: a student learns from a teacher's softened outputs (Hinton,
Vinyals & Dean 2015) and from its intermediate features (FitNets, Romero et al. 2015)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def soft_target_loss(
    student_logits: torch.Tensor, teacher_logits: torch.Tensor, temperature: float
) -> torch.Tensor:
    """T^2 * KL(softmax(teacher / T) || softmax(student / T)), averaged over the batch. The T^2
    keeps the gradients' size independent of T (they scale as 1/T^2 otherwise), so the soft and
    hard terms can be mixed with one weight whatever the temperature."""
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    if student_logits.shape != teacher_logits.shape:
        raise ValueError(
            f"student logits {tuple(student_logits.shape)} and teacher logits "
            f"{tuple(teacher_logits.shape)} must have the same shape"
        )
    log_student = F.log_softmax(student_logits / temperature, dim=-1)
    log_teacher = F.log_softmax(teacher_logits / temperature, dim=-1)
    kl = F.kl_div(log_student, log_teacher, reduction="batchmean", log_target=True)
    return temperature**2 * kl


def distillation_loss(
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor,
    target: torch.Tensor | None,
    temperature: float,
    alpha: float,
) -> torch.Tensor:
    """alpha * cross-entropy with the hard labels + (1 - alpha) * the soft-target loss;
    alpha=1 is plain supervised training, alpha=0 (or no labels) pure distillation."""
    if not 0 <= alpha <= 1:
        raise ValueError(f"alpha must lie in [0, 1], got {alpha}")
    soft = soft_target_loss(student_logits, teacher_logits, temperature)
    if target is None or alpha == 0:
        return soft
    return alpha * F.cross_entropy(student_logits, target) + (1 - alpha) * soft


class HintLoss(nn.Module):
    """FitNets: a learned adapter maps the student's hint layer to the teacher's guided layer
    width (a 1x1 convolution for feature maps, a linear layer for vectors), and the loss is the
    mean squared error between the two."""

    def __init__(self, student_channels: int, teacher_channels: int, spatial: bool) -> None:
        super().__init__()
        layer = nn.Conv2d if spatial else nn.Linear
        self.adapter = layer(student_channels, teacher_channels, *((1,) if spatial else ()))
        self.spatial = spatial

    def forward(self, student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
        mapped = self.adapter(student)
        if mapped.shape != teacher.shape:
            raise ValueError(
                f"HintLoss: adapted student features {tuple(mapped.shape)} do not match the "
                f"teacher's {tuple(teacher.shape)}"
            )
        return F.mse_loss(mapped, teacher.detach())
