"""The variational autoencoder (Kingma & Welling 2014): an encoder-decoder whose code is a
distribution q(z|x) = N(mu, sigma^2), trained by maximising the evidence lower bound
ELBO = E_q[log p(x|z)] - KL(q(z|x) || N(0, I)), with z = mu + sigma * eps (reparameterisation).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from zoo.blocks.shapes import check_shape
from zoo.utils.builder import register

LIKELIHOODS = ("bernoulli", "gaussian")


@register()
class VAE(nn.Module):
    """`encoder`: x -> (N, 2 * latent_dim) = (mu, log-variance); `decoder`: z -> one value per
    input element: Bernoulli logits (binary data) or Gaussian means (with a learned global
    log-sigma). All log-likelihoods are in nats per sample."""

    def __init__(
        self,
        encoder: nn.Module,
        decoder: nn.Module,
        input_shape: Sequence[int],
        latent_dim: int,
        likelihood: str = "bernoulli",
    ) -> None:
        super().__init__()
        if likelihood not in LIKELIHOODS:
            raise ValueError(f"likelihood={likelihood!r}: expected one of {LIKELIHOODS}")
        self.input_shape, self.latent_dim = tuple(int(s) for s in input_shape), latent_dim
        self.encoder, self.decoder, self.likelihood = encoder, decoder, likelihood
        self.log_sigma = nn.Parameter(torch.zeros(())) if likelihood == "gaussian" else None

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(mu, log-variance) of q(z|x), each (N, latent_dim)."""
        check_shape(x, self.input_shape, "VAE")
        stats = self.encoder(x)
        if stats.shape[-1] != 2 * self.latent_dim:
            raise ValueError(
                f"VAE encoder must output (N, {2 * self.latent_dim}) = mu and log-variance, got {tuple(stats.shape)}"
            )
        mu, logvar = stats.chunk(2, dim=-1)
        return mu, logvar

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Logits (Bernoulli) or means (Gaussian), shaped like the input; z may be (..., D)."""
        out = self.decoder(z.reshape(-1, z.shape[-1]))
        return out.view(*z.shape[:-1], *self.input_shape)

    @staticmethod
    def reparameterize(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        """z = mu + sigma * eps, eps ~ N(0, I): a sample of q(z|x) that gradients flow through."""
        return mu + torch.randn_like(mu) * (0.5 * logvar).exp()

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """x `(N, *input_shape)` -> (decoder output for one z ~ q(z|x), mu, log-variance)."""
        mu, logvar = self.encode(x)
        return self.decode(self.reparameterize(mu, logvar)), mu, logvar

    def log_likelihood(self, x: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        """log p(x|z) summed over each sample's elements; `out` may carry extra leading dims."""
        dims = tuple(range(-len(self.input_shape), 0))
        if self.likelihood == "bernoulli":
            return -F.binary_cross_entropy_with_logits(out, x.expand_as(out), reduction="none").sum(
                dims
            )
        assert self.log_sigma is not None  # the gaussian likelihood, which learns log-sigma
        sigma = self.log_sigma.exp()
        z = (x - out) / sigma
        return (-0.5 * z**2 - self.log_sigma - 0.5 * math.log(2 * math.pi)).sum(dims)

    @staticmethod
    def kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        """KL(N(mu, exp(logvar)) || N(0, I)) per sample, in closed form."""
        return 0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(-1)

    def elbo(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(ELBO, reconstruction log-likelihood, KL), each (N,), one z sample per x."""
        out, mu, logvar = self(x)
        reconstruction, kl = self.log_likelihood(x, out), self.kl(mu, logvar)
        return reconstruction - kl, reconstruction, kl

    @torch.no_grad()
    def iwae(self, x: torch.Tensor, samples: int = 200) -> torch.Tensor:
        """Importance-weighted estimate of log p(x) (Burda et al. 2016), (N,): a tighter bound
        than the ELBO, approaching log p(x) as `samples` grows."""
        mu, logvar = self.encode(x)
        std = (0.5 * logvar).exp()
        z = mu + std * torch.randn(samples, *mu.shape, device=mu.device)  # (K, N, D)
        log_q = (-0.5 * ((z - mu) / std) ** 2 - std.log() - 0.5 * math.log(2 * math.pi)).sum(-1)
        log_prior = (-0.5 * z**2 - 0.5 * math.log(2 * math.pi)).sum(-1)
        log_w = self.log_likelihood(x, self.decode(z)) + log_prior - log_q
        return torch.logsumexp(log_w, dim=0) - math.log(samples)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n new samples' expected values (pixel probabilities or means) from z ~ N(0, I)."""
        device = next(self.parameters()).device
        z = torch.randn(n, self.latent_dim, generator=generator, device=device)
        out = self.decode(z)
        return torch.sigmoid(out) if self.likelihood == "bernoulli" else out
