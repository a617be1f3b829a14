"""The trainer's speed-ups keep the math: channels_last conv nets and torch.compile, on the CPU
(the GPU path turns channels_last on; `python -m zoo.bench --device cuda` measures it)."""

import pytest
import torch

import zoo
from zoo.training.checks import ConfigError, check_config
from zoo.training.run import build


def fit(cfg):
    datamodule, task, trainer = build(cfg)
    trainer.fit(task, datamodule=datamodule)
    return datamodule, task, trainer


def test_gpu_trainer_keeps_data_on_device_with_bf16_channels_last_and_cudnn_autotuner(compose_in):
    cfg = compose_in("trainer=gpu")
    assert cfg.trainer.precision == "bf16-mixed"
    assert cfg.trainer.benchmark is True and cfg.trainer.channels_last is True
    assert cfg.trainer.compile is False  # opt-in


def test_channels_last_conv_net_trains_to_the_same_weights(compose_in):
    """NHWC weights are a layout, not other math: two epochs with and without it end on the
    same weights (float tolerance: the convolution kernels differ)."""
    nets = {}
    for last in ("false", "true"):
        torch.manual_seed(0)
        cfg = compose_in(
            "experiment=cnn_digits",
            "trainer.max_epochs=2",
            f"trainer.channels_last={last}",
            "logger=none",
            "callbacks=none",
            "trainer.enable_checkpointing=false",
        )
        _, task, _ = fit(cfg)
        nets[last] = task.net
    conv = next(m for m in nets["true"].modules() if isinstance(m, torch.nn.Conv2d))
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)
    for (name, a), b in zip(
        nets["false"].state_dict().items(), nets["true"].state_dict().values(), strict=True
    ):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5, msg=name)


def test_compiled_net_trains_and_its_checkpoint_reloads_without_compile(compose_in):
    """`trainer.compile` compiles the net in place: training matches the eager net's loss and
    the checkpoint keeps plain keys, so `zoo.load_checkpoint` rebuilds it uncompiled with the
    same outputs. (The `eager` backend traces with dynamo but skips code generation, which
    the default inductor backend would spend 20 s on.)"""
    losses = {}
    for compile_ in ("false", "{backend: eager}"):
        torch.manual_seed(0)
        cfg = compose_in(
            "experiment=mlp_digits", "trainer.max_epochs=2", f"trainer.compile={compile_}"
        )
        datamodule, task, trainer = fit(cfg)
        losses[compile_] = float(trainer.callback_metrics["train/loss"])
    assert task.net._compiled_call_impl is not None
    assert losses["false"] == pytest.approx(losses["{backend: eager}"], rel=1e-5)
    last = trainer.checkpoint_callback.dirpath + "/last.ckpt"
    state = torch.load(last, weights_only=True)["state_dict"]
    assert not [k for k in state if "_orig_mod" in k]
    reloaded = zoo.load_checkpoint(last)
    x = datamodule.splits["test"][0][:32]
    task.net.eval()
    torch.testing.assert_close(reloaded(x), task.net(x))


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("trainer.compile=fast", "trainer.compile='fast': expected true, false or torch.compile's"),
        ("trainer.channels_last=1", "trainer.channels_last=1: expected true or false"),
    ],
)
def test_bad_speedup_options_are_refused_before_training(compose_in, override, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace("{", r"\{")):
        check_config(compose_in(override))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_gpu_run_slices_batches_on_the_device_in_bf16_channels_last(compose_in):
    """On a GPU, `trainer=gpu` keeps the splits in device memory (no host copy per step),
    autocasts to bf16, stores conv weights channels_last and turns cuDNN's autotuner on."""
    cfg = compose_in("trainer=gpu", "trainer.max_epochs=1", "logger=none")
    datamodule, task, trainer = fit(cfg)
    devices = {k: [t.device.type for t in split] for k, split in datamodule.splits.items()}
    assert all(d == "cuda" for split in devices.values() for d in split), devices
    assert next(iter(datamodule.train_dataloader()))[0].is_cuda
    # Lightning hands the net back on the CPU when the fit ends; the layout stays
    convs = [m.weight for m in task.net.modules() if isinstance(m, torch.nn.Conv2d)]
    layouts = [(w.shape, w.stride()) for w in convs]
    assert all(w.is_contiguous(memory_format=torch.channels_last) for w in convs), layouts
    assert torch.backends.cudnn.benchmark, "cudnn.benchmark is off"
    assert trainer.precision == "bf16-mixed", trainer.precision
    assert float(trainer.callback_metrics["val/acc"]) > 0.3, trainer.callback_metrics
