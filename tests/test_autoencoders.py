"""Encoder-decoder family: shapes and corruption, and autoencoders measured against PCA."""

import pytest
import torch
from conftest import compose_train

import zoo
from zoo.baselines import PCA, squared_error_per_sample
from zoo.blocks import MLP
from zoo.blocks.noise import corrupt
from zoo.cli.run import train
from zoo.data import DigitsDataModule
from zoo.patterns import VAE, Autoencoder, EncoderDecoder


def mlp_autoencoder(k: int = 4, **kwargs) -> Autoencoder:
    return Autoencoder(
        MLP(64, [16], out_features=k), MLP(k, [16], out_features=64), (1, 8, 8), **kwargs
    )


def test_encode_decode_shapes_gradients_and_a_clear_error():
    ae = mlp_autoencoder()
    x = torch.rand(5, 1, 8, 8)
    z = ae.encode(x)
    assert z.shape == (5, 4) and ae.decode(z).shape == (5, 1, 8, 8)
    out = ae(x)
    assert out.min() >= 0 and out.max() <= 1  # sigmoid output for [0, 1] pixels
    out.sum().backward()
    assert all(p.grad is not None for p in ae.parameters())
    with pytest.raises(
        ValueError, match=r"Autoencoder expected input of shape \(N, 1, 8, 8\), got \(5, 64\)"
    ):
        ae(torch.rand(5, 64))
    plain = EncoderDecoder(torch.nn.Flatten(), torch.nn.Identity(), (1, 8, 8))
    assert torch.equal(plain(x), x)


def test_corruption_masks_or_adds_noise_and_only_while_training():
    x = torch.ones(1000, 10)
    masked = corrupt(x, "mask", 0.3, torch.Generator().manual_seed(0))
    assert 0.25 < (masked == 0).float().mean() < 0.35
    noisy = corrupt(x, "gaussian", 0.5, torch.Generator().manual_seed(0))
    assert 0.45 < (noisy - x).std() < 0.55
    with pytest.raises(ValueError, match="corruption 'salt'"):
        corrupt(x, "salt", 0.1)
    with pytest.raises(ValueError, match=r"corruption level 1\.5 out of range for 'mask'"):
        mlp_autoencoder(corruption="mask", noise_level=1.5)
    dae = mlp_autoencoder(corruption="mask", noise_level=0.5)
    x = torch.rand(4, 1, 8, 8)
    assert torch.equal(dae.eval()(x), dae(x))  # deterministic in eval mode
    assert not torch.equal(dae.train()(x), dae(x))


@pytest.fixture(scope="module")
def digits():
    return DigitsDataModule(scale="unit").load()


def pca_error(digits, k: int, corruption: float = 0.0) -> float:
    x = digits["test"][0]
    inputs = corrupt(x, "mask", corruption, torch.Generator().manual_seed(0)) if corruption else x
    return squared_error_per_sample(PCA(k).fit(digits["train"][0]).reconstruct(inputs), x).item()


@pytest.mark.slow
@pytest.mark.parametrize("k", [2, 8])
def test_nonlinear_autoencoder_beats_pca_at_the_same_bottleneck(k, digits, tmp_path):
    metrics = train(
        compose_train(
            ["experiment=ae_digits", f"model.encoder.out_features={k}", "trainer.max_epochs=60"],
            tmp_path,
        )
    )
    assert metrics["test/loss"] < 0.85 * pca_error(digits, k)


@pytest.mark.slow
def test_linear_autoencoder_matches_pca_on_its_training_data(digits, tmp_path):
    linear_ae = ["model.encoder.activation=identity", "model.output=identity"]
    cfg = compose_train(["experiment=ae_digits", *linear_ae, "trainer.max_epochs=60"], tmp_path)
    train(cfg)
    net = zoo.load_checkpoint(tmp_path / "checkpoints" / "last.ckpt")
    x = digits["train"][0]
    with torch.no_grad():
        linear = squared_error_per_sample(net(x), x).item()
    optimum = squared_error_per_sample(PCA(8).fit(x).reconstruct(x), x).item()
    assert optimum <= linear * 1.001 and linear < 1.05 * optimum  # PCA is the linear optimum


@pytest.mark.slow
def test_denoising_autoencoder_beats_pca_and_a_plain_autoencoder_on_masked_digits(digits, tmp_path):
    budget = ("trainer.max_epochs=60", "task.eval_corruption=mask", "task.eval_noise_level=0.3")
    dae = train(compose_train(["experiment=dae_digits", *budget], tmp_path / "dae"))
    plain = train(compose_train(["experiment=ae_digits", *budget], tmp_path / "ae"))
    assert dae["test/loss"] < 0.85 * min(plain["test/loss"], pca_error(digits, 8, corruption=0.3))


def small_vae(likelihood: str = "bernoulli") -> VAE:
    return VAE(
        MLP(64, [32], out_features=8), MLP(4, [32], out_features=64), (1, 8, 8), 4, likelihood
    )


def test_vae_terms_against_their_formulas():
    torch.manual_seed(0)
    mu, logvar = torch.randn(3, 4), torch.randn(3, 4)
    q = torch.distributions.Normal(mu, (0.5 * logvar).exp())
    p = torch.distributions.Normal(torch.zeros(4), torch.ones(4))
    assert torch.allclose(
        VAE.kl(mu, logvar), torch.distributions.kl_divergence(q, p).sum(-1), atol=1e-5
    )
    for likelihood in ("bernoulli", "gaussian"):
        vae = small_vae(likelihood)
        x = (torch.rand(3, 1, 8, 8) > 0.5).float()
        out = torch.randn(3, 1, 8, 8)
        if likelihood == "bernoulli":
            expected = torch.distributions.Bernoulli(logits=out).log_prob(x).flatten(1).sum(1)
        else:
            expected = (
                torch.distributions.Normal(out, vae.log_sigma.exp()).log_prob(x).flatten(1).sum(1)
            )
        assert torch.allclose(vae.log_likelihood(x, out), expected, atol=1e-4)
    vae = small_vae()
    assert vae.sample(5).shape == (5, 1, 8, 8) and vae.sample(5).min() >= 0
    with pytest.raises(ValueError, match=r"VAE encoder must output \(N, 8\)"):
        VAE(MLP(64, [32], out_features=6), MLP(4, [32], out_features=64), (1, 8, 8), 4)(
            torch.rand(2, 1, 8, 8)
        )


@pytest.mark.slow
def test_vae_bound_on_binarised_digits_and_the_tighter_importance_weighted_estimate(tmp_path):
    metrics = train(compose_train(["experiment=vae_digits", "trainer.max_epochs=100"], tmp_path))
    assert metrics["test/loss"] < 20.0  # -ELBO, nats per image
    vae = zoo.load_checkpoint(tmp_path / "checkpoints" / "last.ckpt")
    x = DigitsDataModule(scale="binary").load()["test"][0]
    torch.manual_seed(0)
    with torch.no_grad():
        neg_elbo = -vae.elbo(x)[0].mean().item()
        neg_iwae = -vae.iwae(x, samples=200).mean().item()
    assert neg_iwae < neg_elbo  # log p(x) >= IWAE >= ELBO
    for figure in ("reconstructions.png", "latent_map.png", "samples.png"):
        assert (tmp_path / figure).read_bytes()[:4] == b"\x89PNG", figure


def test_conv_autoencoder_from_its_config_reconstructs_images(tmp_path):
    from zoo.blocks import ConvDecoder
    from zoo.cli.run import build

    cfg = compose_train(
        ["experiment=ae_digits", "model=conv_autoencoder", "debug=fast_dev_run"], tmp_path
    )
    _, task, _ = build(cfg)
    x = torch.rand(3, 1, 8, 8)
    assert task.net.encode(x).shape == (3, 8) and task.net(x).shape == (3, 1, 8, 8)
    assert "test/loss" in train(cfg)
    with pytest.raises(ValueError, match=r"ConvDecoder expected \(N, 8\), got \(3, 4\)"):
        ConvDecoder(8, [4], 1, 2)(torch.randn(3, 4))
