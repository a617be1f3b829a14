"""Transformer encoder-decoder: key/value cache, causal and padding masks, positions, and the
proofs that it reverses and sorts strings, with a cross-attention head on the anti-diagonal."""

import pytest
import torch
from conftest import compose_train

import zoo
from zoo.blocks import KVCache, MultiHeadAttention, PositionEmbedding, TransformerDecoderBlock
from zoo.cli.seq2seq_report import anti_diagonal_mass
from zoo.data import SequenceTaskDataModule
from zoo.data.sequences import PAD, make_pairs
from zoo.patterns import TransformerSeq2Seq
from zoo.training.run import build


def pairs(count=6, lengths=(3, 9), width=9, seed=0):
    return make_pairs("reverse", count, lengths, 10, width, torch.Generator().manual_seed(seed))


def test_attention_fed_one_token_at_a_time_through_a_cache_equals_causal_attention():
    torch.manual_seed(0)
    attention = MultiHeadAttention(16, 4).eval()
    x = torch.randn(2, 7, 16)
    whole, _ = attention(x, causal=True)
    cache = KVCache()
    steps = [attention(x[:, t : t + 1], causal=True, cache=cache)[0] for t in range(7)]
    assert len(cache) == 7 and torch.allclose(torch.cat(steps, 1), whole, atol=1e-6)

    memory = torch.randn(2, 5, 16)
    cross = KVCache(static=True)
    first, _ = attention(x[:, :1], memory, cache=cross)
    again, _ = attention(x[:, :1], torch.zeros_like(memory), cache=cross)  # memory was cached
    assert torch.equal(first, again) and len(cross) == 5


def test_decoder_block_sees_the_past_and_the_unpadded_memory_only():
    torch.manual_seed(0)
    block = TransformerDecoderBlock(8, 2).eval()
    x, memory = torch.randn(1, 6, 8), torch.randn(1, 5, 8)
    padding = torch.tensor([[False, False, False, True, True]])
    out, weights = block(x, memory, padding, need_weights=True)
    assert out.shape == (1, 6, 8) and weights.shape == (1, 2, 6, 5)
    assert (weights[..., 3:] == 0).all() and torch.allclose(weights.sum(-1), torch.ones(1, 2, 6))
    future, garbage = x.clone(), memory.clone()
    future[:, 4:] = torch.randn(1, 2, 8)
    garbage[:, 3:] = 100.0
    assert torch.allclose(block(future, memory, padding)[0][:, :4], out[:, :4], atol=1e-6)
    assert torch.allclose(block(x, garbage, padding)[0], out, atol=1e-6)


@pytest.mark.parametrize("positions", ["sinusoidal", "learned", "none"])
def test_transformer_seq2seq_shapes_padding_and_gradients(positions):
    torch.manual_seed(0)
    net = TransformerSeq2Seq(13, (9,), embed_dim=16, num_heads=2, positions=positions).eval()
    source, lengths, target_in, target_out = pairs()
    logits = net(source, lengths, target_in)
    assert logits.shape == (6, 10, 13)
    garbage = source.clone()
    garbage[source == PAD] = 5  # what lies beyond each length must not matter
    assert torch.allclose(net(garbage, lengths, target_in), logits, atol=1e-5)
    net.train()
    torch.nn.functional.cross_entropy(logits.flatten(0, 1), target_out.flatten()).backward()
    assert all(p.grad is not None for name, p in net.named_parameters())
    assert net.cross_attention(source, lengths, target_in).shape == (6, 2, 2, 10, 9)
    with pytest.raises(ValueError, match=r"TransformerSeq2Seq source expected input of shape"):
        net(source[:, :5], lengths, target_in)


def test_greedy_decoding_with_the_cache_equals_decoding_without_it():
    torch.manual_seed(0)
    net = TransformerSeq2Seq(13, (9,), embed_dim=32, num_heads=4, positions="learned").eval()
    source, lengths, *_ = pairs(count=64)
    cached, cached_weights = net.greedy(source, lengths, 10)
    uncached, uncached_weights = net.greedy(source, lengths, 10, cache=False)
    assert torch.equal(cached, uncached)
    assert torch.allclose(cached_weights, uncached_weights, atol=1e-6)
    assert cached_weights.shape == (64, 10, 9)
    assert (
        cached_weights[torch.arange(9)[None, None].expand(64, 10, 9) >= lengths[:, None, None]] == 0
    ).all()


def test_position_embeddings_refuse_positions_they_were_not_built_for():
    positions = PositionEmbedding("learned", 4, 8)
    assert positions(torch.zeros(1, 2, 8), start=2).shape == (1, 2, 8)
    with pytest.raises(ValueError, match=r"position 4 is beyond the 4 positions"):
        positions(torch.zeros(1, 3, 8), start=2)
    with pytest.raises(ValueError, match=r"positions='rotary': expected one of"):
        PositionEmbedding("rotary", 4, 8)
    bag = PositionEmbedding("none", 4, 8)
    assert not list(bag.parameters()) and not list(bag.buffers())


def test_transformer_seq2seq_config_builds_on_the_sequence_data(tmp_path):
    cfg = compose_train(["experiment=transformer_reverse"], tmp_path)
    datamodule, task, _ = build(cfg)
    source, lengths, target_in, _ = (t[:3] for t in datamodule.load()["train"])
    assert isinstance(task.net, TransformerSeq2Seq)
    assert task.net(source, lengths, target_in).shape == (3, 21, 13)


def trained(experiment: str, overrides: list[str], seed: int, tmp_path) -> torch.nn.Module:
    from zoo.training.run import train

    cfg = compose_train(
        [f"experiment={experiment}", *overrides, "logger=none", f"seed={seed}"],
        tmp_path / experiment,
    )
    train(cfg)
    return zoo.load_checkpoint(tmp_path / experiment / "checkpoints" / "last.ckpt")


@pytest.mark.reproduce
def test_transformer_reverses_strings_with_a_cross_attention_head_on_the_anti_diagonal(
    retrained, seed, figures
):
    """Proves, in the reproduce tier: `experiment=transformer_reverse` (10 epochs), trained
    again from its card's command, reverses every trained length (4-16) and a cross-attention
    head follows the anti-diagonal (output step t reads source symbol n - 1 - t). Margins:
    exact match on 4-16 >= 0.99 (the shipped weights 1.000) and the best head's share of
    weight on the anti-diagonal >= 0.8 (shipped 0.91; its heads 0.88-0.91). Trained for 4
    epochs on seeds 0, 1, 2 the same held: exact 1.000 each, anti-diagonal 0.828, 0.845, 0.847.
    The experiment's word dropout is what makes the head sharp: trained on every teacher-forced
    symbol (10 epochs), the heads stop at 0.54-0.71, 0.20-0.31 on the next source position,
    the symbol just emitted, which the decoder can cancel since it sees it. Lengths 17-20,
    beyond the trained positions: 0.09 exact (absolute positions do not extrapolate)."""
    from zoo.cli.seq2seq_report import exact_by_length

    net = zoo.load_model(retrained("transformer_seq2seq.reverse", seed).model_dir)
    test = SequenceTaskDataModule().load()["test"]
    exact = exact_by_length(net, test, buckets=((4, 16), (17, 20)))
    mass = anti_diagonal_mass(net, tuple(t[test[1] <= 16] for t in test))
    figures(exact=exact["4-16"], anti_diagonal=mass.max())
    assert exact["4-16"] >= 0.99, exact
    assert mass.max() >= 0.8, mass


@pytest.mark.slow
def test_a_transformer_trained_from_scratch_learns_to_reverse(tmp_path, seed, figures):
    """Proves: `experiment=transformer_reverse` learns from scratch in the suite: after 1 of
    its 10 epochs, exact match on the trained lengths (4-16) >= 0.5 (measured on seeds 0, 1,
    2: 0.760, 0.770, 0.658, std 0.062 -> 0.535; after 2 epochs 0.900, 0.949, 0.942; a fresh
    net scores 0) and the attention figure is written. The full run's margins are proven in
    the reproduce tier, above."""
    from zoo.cli.seq2seq_report import exact_by_length

    net = trained("transformer_reverse", ["trainer.max_epochs=1"], seed, tmp_path)
    test = SequenceTaskDataModule().load()["test"]
    exact = exact_by_length(net, test, buckets=((4, 16),))
    figures(exact=exact["4-16"])
    assert exact["4-16"] >= 0.5, exact
    heat_map = tmp_path / "transformer_reverse" / "attention.png"
    assert heat_map.read_bytes()[:4] == b"\x89PNG"
