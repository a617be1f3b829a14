"""Runs that survive being killed: a training process gets a real signal mid-epoch, is resumed
from the checkpoint it left, and ends with the weights and test metrics of the run that was
never interrupted (same seed), bit for bit."""

import shlex
import signal
import subprocess
from pathlib import Path

import pytest
import torch
from conftest import QUIET, ROOT, compose_train, run_metrics, run_train_py, train_main

from zoo.training.run import compose, train
from zoo.utils.errors import TrainingStopped

# Each case: a task with its own use of randomness, and its budget (2 epochs, signal in the 2nd)
CASES = {
    "dropout": ["experiment=mlp_digits", "model.backbone.dropout=0.3"],
    "denoising": ["experiment=dae_digits"],
    "vae_sampling": ["experiment=vae_digits"],
    "gan_two_optimizers": ["experiment=gan_digits"],
    "cached_teacher": ["experiment=distill_digits", "model.backbone.hidden=[64]"],
}
BUDGET = ["trainer.max_epochs=2", "logger=none", *QUIET]


def run_killed(out: Path, overrides: list[str], signal_name: str) -> subprocess.CompletedProcess:
    """train.py in a subprocess that sends itself `signal_name` after batch 2 of epoch 1."""
    return run_train_py(
        *overrides,
        f"hydra.run.dir={out}",
        "+callbacks.signal._target_=interrupt.SignalAt",
        "+callbacks.signal.epoch=1",
        "+callbacks.signal.batch=2",
        f"+callbacks.signal.signal_name={signal_name}",
    )


def final_state(run_dir: Path) -> dict[str, torch.Tensor]:
    return torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)["state_dict"]


def assert_identical(resumed: Path, metrics: dict, reference: Path, expected: dict) -> None:
    ours, theirs = final_state(resumed), final_state(reference)
    assert ours.keys() == theirs.keys()
    differing = [k for k in ours if not torch.equal(ours[k], theirs[k])]
    assert not differing, f"{len(differing)} tensors differ after resuming, e.g. {differing[:3]}"
    tested = {k: v for k, v in expected.items() if k.startswith("test/")}
    assert tested and {k: metrics[k] for k in tested} == tested


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES)
def test_a_run_killed_mid_epoch_resumes_bit_identical(case, tmp_path):
    """SIGKILL after batch 2 of epoch 1 (no handler runs); resuming from last.ckpt (end of
    epoch 0: the killed run writes it every epoch) ends with every weight and test metric
    equal to the uninterrupted run's."""
    overrides = [*CASES[case], *BUDGET]
    expected = train(compose_train(overrides, tmp_path / "reference"))

    every_epoch = [
        "callbacks.last_checkpoint.train_time_interval=null",
        "+callbacks.last_checkpoint.every_n_epochs=1",
    ]
    killed = run_killed(tmp_path / "killed", [*overrides, *every_epoch], "KILL")
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    last = tmp_path / "killed" / "checkpoints" / "last.ckpt"
    assert torch.load(last, weights_only=True)["epoch"] == 0  # the last epoch boundary

    resumed = compose_train([*overrides, f"ckpt_path={last}"], tmp_path / "resumed")
    assert_identical(tmp_path / "resumed", train(resumed), tmp_path / "reference", expected)


@pytest.fixture(scope="module")
def dropout_reference(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("reference")
    return out, train(compose_train([*CASES["dropout"], *BUDGET], out))


@pytest.mark.slow
@pytest.mark.parametrize("signal_name", ["TERM", "INT"])
def test_sigterm_or_ctrl_c_writes_a_checkpoint_and_the_command_that_resumes_it(
    signal_name, tmp_path, dropout_reference
):
    """SIGTERM (a scheduler's notice) or SIGINT (Ctrl-C) mid-epoch: the run finishes its batch,
    writes last.ckpt there, prints one line with the command to resume and exits with 128 +
    the signal. That command ends bit-identical to the uninterrupted run."""
    overrides = [*CASES["dropout"], *BUDGET]
    stopped = run_killed(tmp_path / "stopped", overrides, signal_name)
    signum = signal.Signals[f"SIG{signal_name}"]
    assert stopped.returncode == 128 + signum, stopped.stderr[-2000:]
    line = stopped.stderr.strip().splitlines()[-1]
    assert line.startswith(f"error: stopped by SIG{signal_name} at epoch 1"), line
    assert "Traceback" not in stopped.stderr
    command = shlex.split(line.split("resume with: ")[1])  # as a shell would read it
    assert command[:2] == ["python", "train.py"]
    last = tmp_path / "stopped" / "checkpoints" / "last.ckpt"
    assert command[-1] == f"ckpt_path={last.resolve()}"

    resumed_dir = tmp_path / "resumed"
    if signal_name == "TERM":  # the printed command itself, as a user would paste it
        args = [a for a in command[2:] if not a.startswith("hydra.run.dir=")]
        result = run_train_py(*args, f"hydra.run.dir={resumed_dir}")
        assert result.returncode == 0, result.stderr[-2000:]
        metrics = run_metrics(resumed_dir)
    else:
        metrics = train(compose_train([*overrides, f"ckpt_path={last}"], resumed_dir))
    reference, expected = dropout_reference  # metrics.json holds them in full
    assert_identical(resumed_dir, metrics, reference, expected)


def test_resuming_a_finished_run_says_so_and_names_the_override_to_go_on(
    tmp_path, monkeypatch, capsys
):
    done = tmp_path / "done"
    train(compose_train(["experiment=mlp_digits", "trainer.max_epochs=1", "logger=none"], done))
    last = done / "checkpoints" / "last.ckpt"
    monkeypatch.chdir(tmp_path)
    status = train_main(
        monkeypatch,
        "experiment=mlp_digits",
        "trainer.max_epochs=1",
        f"ckpt_path={last}",
        f"paths.log_dir={tmp_path / 'logs'}",
    )
    err = capsys.readouterr().err
    assert status == 2, err[-2000:]
    line = err.strip().splitlines()[-1]
    assert "this run already finished" in line and "add trainer.max_epochs=2" in line, line
    assert not (tmp_path / "logs").exists()


def test_a_non_finite_loss_stops_at_once_and_saves_no_checkpoint(tmp_path):
    overrides = ["experiment=mlp_digits", "optimizer=sgd", "optimizer.lr=1e30", "logger=none"]
    with pytest.raises(TrainingStopped, match=r"non-finite training loss \S+ at epoch 0, step \d+"):
        train(compose_train(overrides, tmp_path))
    assert not list(tmp_path.rglob("*.ckpt"))


def test_without_a_batch_loss_on_the_cpu_the_running_sum_is_read_every_few_steps():
    """Manual optimization (no loss returned) or an accelerator (reading a loss syncs): the
    epoch's running loss sum is checked every `log_every_n_steps` steps."""
    from types import SimpleNamespace

    from zoo.callbacks.safeguards import StopOnNonFiniteLoss

    module = SimpleNamespace(train_loss_sum=torch.tensor(float("nan")))
    check = StopOnNonFiniteLoss()
    for step, raises in ((49, False), (50, True)):
        trainer = SimpleNamespace(global_step=step, log_every_n_steps=50, current_epoch=2)
        if raises:
            with pytest.raises(TrainingStopped, match=r"loss nan at epoch 2, step 50"):
                check.on_train_batch_end(trainer, module, None, None, 7)
        else:
            check.on_train_batch_end(trainer, module, None, None, 7)


def test_the_progress_bar_goes_with_one_override(tmp_path):
    cfg = compose(
        ["experiment=mlp_digits", "trainer.max_epochs=1", "trainer.enable_progress_bar=false"],
        tmp_path,
    )
    cfg.paths.data_dir = str(ROOT / "data")
    assert train(cfg)["test/acc"] > 0.5  # Lightning refused this before: a bar callback was set
