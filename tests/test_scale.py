"""Beyond one machine: DDP over several nodes, SLURM jobs through submitit (composed, never
submitted), and DDP that trains what one process trains, checked with two CPU processes."""

import math
from pathlib import Path

import pytest
import torch
from conftest import CONF, QUIET, compose_train, run_metrics, run_train_py
from omegaconf import DictConfig

from zoo.training.run import build, train


def compose_with_hydra(overrides: list[str]) -> DictConfig:
    """conf/train.yaml with Hydra's own node kept (`hydra.launcher`, ...), as train.py sees it."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    GlobalHydra.instance().clear()
    with initialize_config_dir(str(CONF), version_base="1.3"):
        return compose("train", overrides=overrides, return_hydra_config=True)


def test_ddp_takes_the_number_of_nodes(tmp_path):
    """`trainer=ddp` runs on one node unless told more, and `trainer.num_nodes` reaches the
    Trainer that train.py builds (on the CPU here: this machine may have no GPU)."""
    from lightning.pytorch.strategies import DDPStrategy

    assert compose_train(["trainer=ddp"], tmp_path).trainer.num_nodes == 1
    on_cpu = ["trainer.accelerator=cpu", "trainer.devices=2", "trainer.precision=32-true"]
    cfg = compose_train(["trainer=ddp", "trainer.num_nodes=4", *on_cpu, "logger=none"], tmp_path)
    assert cfg.trainer.num_nodes == 4
    _, _, trainer = build(cfg)
    assert trainer.num_nodes == 4 and isinstance(trainer.strategy, DDPStrategy)


def test_slurm_launcher_takes_the_job_shape_from_the_trainer():
    """hydra/launcher=slurm composes into submitit's SLURM launcher whose job has
    trainer.num_nodes nodes, one task and one GPU per device on each, and a time limit; the
    launcher is built (it submits only when a sweep is launched)."""
    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    overrides = ["hydra/launcher=slurm", "trainer=ddp", "trainer.devices=4", "trainer.num_nodes=2"]
    cfg = compose_with_hydra([*overrides, "experiment=mlp_digits"])
    launcher = OmegaConf.to_container(cfg.hydra.launcher, resolve=True)
    assert launcher["_target_"].endswith("submitit_launcher.SlurmLauncher")
    shape = {k: launcher[k] for k in ("nodes", "tasks_per_node", "gpus_per_node")}
    assert shape == {"nodes": 2, "tasks_per_node": 4, "gpus_per_node": 4}
    assert launcher["timeout_min"] > 0 and launcher["partition"] is None
    assert launcher["submitit_folder"].startswith("./logs/mlp_digits/multiruns/")
    built = instantiate(cfg.hydra.launcher)
    assert built.params["nodes"] == 2 and built.params["tasks_per_node"] == 4


def test_slurm_sweep_refuses_a_job_shape_slurm_cannot_reserve(tmp_path):
    """`python train.py -m hydra/launcher=slurm trainer=ddp` composes, and is refused before
    any submission in one line: devices=-1 (every GPU there) is no count of tasks per node."""
    result = run_train_py(
        "-m", "hydra/launcher=slurm", "trainer=ddp", f"paths.log_dir={tmp_path}", cwd=tmp_path
    )
    assert result.returncode == 2, result.stderr[-2000:]
    assert result.stderr.strip().splitlines() == [
        "error: hydra.launcher.tasks_per_node=-1 (from trainer.devices): a SLURM job needs a "
        "positive count; set trainer.devices to one, e.g. trainer.devices=4"
    ]
    assert not any(tmp_path.iterdir())  # nothing made, nothing submitted


# digits: 718 training images; 12 steps an epoch either way (11 of 64 and one of 14, or per
# rank 11 of 32 and one of 7); momentum SGD, no dropout, 3 epochs, no test
PARITY = [
    "experiment=mlp_digits",
    "optimizer=momentum",
    "trainer.max_epochs=3",
    "callbacks.model_checkpoint=null",
    "callbacks.early_stopping=null",
    "logger=none",
    "test=false",
]


def last_checkpoint(run_dir: Path) -> dict:
    return torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)


@pytest.mark.slow
def test_two_ddp_processes_reach_the_weights_of_one_with_the_same_global_batch(tmp_path):
    """Proves: 2 DDP processes of 32 samples a step end with the weights of 1 process of 64
    (same seed, 36 steps), within atol 1e-5: rank r's batch i is order[64 i + r :: 2] of the
    shared shuffle, so the two ranks' batch i is the single process's batch i, and DDP's mean
    of the ranks' mean gradients is its mean gradient. Measured: max difference 6e-8.
    Negative controls (one-off): ranks taking contiguous halves of the shuffle instead (same
    samples an epoch, other batches) end 0.020 away; 1 process of batch 32 ends 0.15 away."""
    single = tmp_path / "single"
    train(compose_train([*PARITY, "data.batch_size=64"], single))
    ddp = tmp_path / "ddp"
    result = run_train_py(
        *PARITY,
        "trainer=ddp_sim",
        "data.batch_size=32",
        f"hydra.run.dir={ddp}",
        *QUIET,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    ours, theirs = last_checkpoint(ddp), last_checkpoint(single)
    assert ours["global_step"] == theirs["global_step"] == 36  # 32 samples a rank a step
    weights, reference = ours["state_dict"], theirs["state_dict"]
    assert weights.keys() == reference.keys()
    gap = max((weights[k] - reference[k]).abs().max().item() for k in weights)
    assert gap < 1e-5, f"the DDP run's weights differ by up to {gap:.2e}"


@pytest.mark.slow
def test_metric_learning_gathers_every_rank_and_gan_trains_under_ddp(tmp_path):
    """Proves: under 2 DDP processes (1) MetricLearningTask's one-shot report sees every rank's
    embeddings: with 2 samples per glyph class, each rank holds one sample of each class and
    one-shot episodes (which need two) exist only in the gathered set; (2) GANTask's two
    backward passes per step run (DDP must look for unused parameters) and its metrics are
    finite. Negative control (one-off, gather removed): the run fails with 'one-shot episodes
    need at least two samples of every class'."""
    glyphs = run_train_py(
        "trainer=ddp_sim",
        "experiment=siamese_glyphs",
        "data.classes={train:64,val:20,test:20}",
        "data.samples_per_class=2",
        "data.batch_size=32",
        "data.classes_per_batch=16",
        "task.episodes=100",
        "trainer.max_epochs=1",
        "test=false",  # validation already reports from the gathered embeddings
        "logger=none",
        f"paths.log_dir={tmp_path}",
        *QUIET,
        cwd=tmp_path,
    )
    assert glyphs.returncode == 0, glyphs.stderr[-3000:]
    report = run_metrics(tmp_path)
    for name in ("val/acc_20way", "val/auroc"):
        assert 0 <= report[name] <= 1, (name, report)
    gan = run_train_py(
        "trainer=ddp_sim",
        "experiment=gan_digits",
        "trainer.max_epochs=1",
        "+trainer.limit_train_batches=3",
        "test=false",
        "optimized_metric=val/d_loss",
        "logger=none",
        f"paths.log_dir={tmp_path}",
        *QUIET,
        cwd=tmp_path,
    )
    assert gan.returncode == 0, gan.stderr[-3000:]
    metrics = run_metrics(tmp_path)
    expected = {"train/d_loss", "train/g_loss", "val/d_loss"}
    assert expected <= metrics.keys(), metrics
    assert all(math.isfinite(v) for v in metrics.values()), metrics
