"""Teacher-student distillation task: the teacher stays frozen and out of the checkpoint, the
student's checkpoint loads alone, hints get adapters that train."""

import pytest
import torch
from conftest import compose_train

import zoo
from zoo.training.run import build


@pytest.mark.slow
def test_the_teacher_stays_frozen_and_the_checkpoint_holds_the_student_alone(
    tmp_path, seed, figures
):
    """Proves (besides the frozen teacher and the student-only checkpoint) that the student
    learns: test accuracy > 0.9; measured 0.966, 0.966, 0.964 on seeds 0, 1, 2 (std 0.001),
    worst - 2 std = 0.963. Negative control (one-off, train=false): the untrained student
    scores 0.102."""
    overrides = ["experiment=distill_digits", "trainer.max_epochs=8", "logger=none"]
    torch.manual_seed(seed)  # the student's initial weights (train() would seed them itself)
    datamodule, task, trainer = build(compose_train(overrides, tmp_path))
    task.train()
    assert not task.teacher.training  # dropout off in the teacher even in training mode
    assert not any(p.requires_grad for p in task.teacher.parameters())
    optimized = {id(p) for p in task.optimizer_parameters()}
    assert not optimized & {id(p) for p in task.teacher.parameters()}

    trainer.fit(task, datamodule=datamodule)
    (metrics,) = trainer.test(task, datamodule=datamodule, verbose=False)
    figures(acc=metrics["test/acc"])
    assert metrics["test/acc"] > 0.9
    shipped = zoo.create_model("cnn.digits_teacher", pretrained=True).state_dict()
    for key, value in task.teacher.state_dict().items():
        assert torch.equal(value, shipped[key]), key  # bit-identical after training
    checkpoint = torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=True)
    assert checkpoint["state_dict"] and not any(
        k.startswith("teacher.") for k in checkpoint["state_dict"]
    )
    student = zoo.load_checkpoint(tmp_path / "checkpoints" / "last.ckpt").eval()
    assert type(student).__name__ == "Classifier" and student.backbone.in_features == 64
    x = torch.randn(4, 1, 8, 8)
    torch.testing.assert_close(student(x), task.net.eval()(x))


def test_hints_get_adapters_that_the_optimizer_trains(tmp_path):
    cfg = compose_train(
        [
            "experiment=distill_digits",
            "task.hints={backbone.layers.1: backbone.1.layers.1}",
            "task.cache_teacher=false",
            "trainer.max_epochs=1",
            "logger=none",
        ],
        tmp_path,
    )
    datamodule, task, trainer = build(cfg)
    (adapter,) = task.hint_losses.values()
    assert adapter.adapter.in_features == 800 and adapter.adapter.out_features == 128
    optimized = {id(p) for p in task.optimizer_parameters()}
    assert {id(p) for p in adapter.parameters()} <= optimized
    before = adapter.adapter.weight.clone()
    trainer.fit(task, datamodule=datamodule)
    assert not torch.equal(before, adapter.adapter.weight)


@pytest.mark.slow
def test_the_distilled_student_beats_the_same_student_from_labels_alone(tmp_path, seed, figures):
    """Proves: the 2 x 800 student of distill_digits learns more from the teacher's soft
    targets (alpha=0.5) than from the labels alone (alpha=1), on a transfer set of 90 digits.
    Margin: distilled - labels alone > 0.012 (11 of the 899 test digits); measured (each a
    mean of two runs) on seeds 0, 1, 2: 0.026, 0.038, 0.031 (std 0.006), worst - 2 std =
    0.013. The former test (the full 718-digit transfer set, also a mean of two runs) asked
    for 0.004, 4 digits, of gaps measured at 0.0050, 0.0078, 0.0061 (std 0.0014, worst - 2
    std = 0.0022: inside the noise). Single runs here spread 0.020-0.039 (std 0.010), hence
    the mean of two.
    Negative control (in the test): alpha=1, the same student from labels alone."""
    from zoo.training.run import train

    # a transfer set of 90 labelled digits (val_fraction 0.45 leaves 9 a class; the test split
    # is the usual 899): soft targets carry what so few labels cannot
    budget = ["experiment=distill_digits", "data.val_fraction=0.45", "trainer.max_epochs=100"]

    def accuracy(alpha: float) -> float:
        """Mean over two runs (seeds 1, 2 by default): one run's spread is half the gap."""
        runs = []
        for s in (2 * seed + 1, 2 * seed + 2):
            overrides = [*budget, f"task.alpha={alpha}", f"seed={s}", "logger=none"]
            runs.append(train(compose_train(overrides, tmp_path / f"{alpha}_{s}"))["test/acc"])
        return sum(runs) / len(runs)

    scratch = accuracy(1.0)  # alpha=1: hard labels only
    distilled = accuracy(0.5)
    figures(distilled=distilled, scratch=scratch, gap=distilled - scratch)
    assert distilled > scratch + 0.012, (scratch, distilled)


def test_cached_teacher_outputs_train_the_same_student_with_one_teacher_pass(tmp_path):
    def fit(cache: bool) -> tuple[torch.nn.Module, int]:
        overrides = ["experiment=distill_small_digits", "trainer.max_epochs=2", "logger=none"]
        cfg = compose_train([*overrides, f"task.cache_teacher={cache}"], tmp_path / str(cache))
        torch.manual_seed(0)  # the same student and the same batches in both runs
        datamodule, task, trainer = build(cfg)
        calls = []
        task.teacher.register_forward_hook(lambda *_: calls.append(1))
        trainer.fit(task, datamodule=datamodule)
        assert datamodule.attached is None  # detached after training
        return task.net, len(calls)

    cached, cached_calls = fit(True)
    live, live_calls = fit(False)
    assert cached_calls == 1 and live_calls == 2 * 12  # one pass vs one per step (12 a epoch)
    for key, value in live.state_dict().items():
        torch.testing.assert_close(cached.state_dict()[key], value, rtol=1e-4, atol=1e-5)


def test_cached_teacher_outputs_refuse_augmented_inputs(tmp_path):
    overrides = ["experiment=distill_digits", "task.cache_teacher=true", "data.jitter=1"]
    datamodule, task, trainer = build(compose_train([*overrides, "logger=none"], tmp_path))
    with pytest.raises(ValueError, match=r"cache_teacher needs .* training inputs stay fixed"):
        trainer.fit(task, datamodule=datamodule)


@pytest.mark.slow
def test_small_students_prefer_low_temperatures(tmp_path, seed, figures):
    """Hinton et al. 2015, section 3: with few units per layer, T of 2.5-4 beats T above 8.

    Proves: a 2 x 5 student taught by soft targets alone learns more at T=2.5 than at T=20.
    Margin: the median of 4 runs at each temperature, low - high > 0.07; measured on seeds
    0, 1, 2: 0.112, 0.284, 0.112 (std 0.099; low 0.836-0.909, high 0.592-0.796). NOT a 2-std
    margin: the spread is one-sided, seed 1's high-temperature runs losing their few units
    (0.46, 0.43), which widens the gap; the worst gap is 0.112. Such small nets are a lottery
    run by run (single runs from 0.43 to 0.93). The former mean of 2 runs (measured 0.233,
    0.154, 0.205 before the data order became a function of the epoch) fell to -0.040 on
    seed 1 after it. The former test (2 x 30, alpha=0.5) asked for 0.004 of gaps measured at
    0.0072, 0.0022, 0.0095; 2 x 10 units, single runs: 0.016, 0.023, 0.003.
    Negative control (in the test): T=20, the high temperature."""
    from statistics import median

    from zoo.training.run import train

    # sharper than the experiment's 2 x 30 student: 2 x 5 units, from soft targets alone
    budget = ["experiment=distill_small_digits", "model.backbone.hidden=[5,5]", "task.alpha=0"]

    def accuracy(temperature: float) -> float:
        """The median of four runs (seeds 1-4 by default): a 2 x 5 net varies with its start."""
        runs = []
        for s in range(4 * seed + 1, 4 * seed + 5):
            overrides = [*budget, f"task.temperature={temperature}", f"seed={s}", "logger=none"]
            out = tmp_path / f"{temperature}_{s}"
            runs.append(train(compose_train(overrides, out))["test/acc"])
        return median(runs)

    low, high = accuracy(2.5), accuracy(20.0)
    figures(low=low, high=high, gap=low - high)
    assert low > high + 0.07, (low, high)


@pytest.mark.slow
def test_a_student_learns_a_class_its_transfer_set_lacks(tmp_path, seed, figures):
    """No 3 and no label in the transfer set: the teacher's soft targets still teach 3s, and
    more once the never-tuned bias of class 3 is raised (Hinton et al. 2015, section 3).

    Margins, measured on seeds 0, 1, 2 on one thread (a pytest-xdist worker): accuracy on the
    92 test 3s as trained >= 0.7: 0.848, 0.804, 0.891 (std 0.044), worst - 2 std = 0.716,
    with the bias raised by 1.0 >= 0.95: 0.967, 0.978, 0.989 (std 0.011) -> 0.945; 0.95 is
    the issue's target, met by every seed on two CPUs and thread counts. At a constant rate
    (the experiment before) one thread on another CPU gave 0.946 raised for seed 0. Negative
    controls: alpha=1, the labels of the same transfer set alone, scores 0.000 on 3s either
    way (in the test); the batch-normed cnn.digits_teacher gives 0.467, 0.435, 0.413 (0.946,
    0.957, 0.935 raised by 3.5); stopping early on val/loss costs 0.02-0.07."""
    from zoo.cli.distill_report import measure, raise_bias
    from zoo.data import DigitsDataModule
    from zoo.training.run import train

    x, y = DigitsDataModule(held_out_classes=[3]).load()["test"]  # standardised as in training

    def accuracy_on_threes(*overrides: str) -> tuple[float, float]:
        out = tmp_path / "_".join(overrides)
        run = ["experiment=distill_without_threes", *overrides, "logger=none", f"seed={seed}"]
        train(compose_train(run, out))
        student = zoo.load_checkpoint(out / "checkpoints" / "last.ckpt")
        raised = raise_bias(student, [3], 1.0)
        return tuple(measure("student", s, x, y, classes=[3]).accuracy for s in (student, raised))

    labels_alone = accuracy_on_threes("task.alpha=1.0", "trainer.max_epochs=20")
    as_trained, raised = accuracy_on_threes()
    figures(
        labels_alone=labels_alone[0],
        labels_alone_raised=labels_alone[1],
        as_trained=as_trained,
        raised=raised,
    )
    assert labels_alone == (0.0, 0.0)  # from the labels alone, never a 3
    assert as_trained >= 0.7 and raised >= 0.95


def test_the_soft_teacher_makes_the_missing_class_the_runner_up_more_often():
    """Why distill_without_threes learns from cnn.digits_soft_teacher: on the test digits that
    are not 3s, it ranks 3 second 0.183 of the time, above the 1/9 of a runner-up drawn at
    random; cnn.digits_teacher (batch norm, 80 epochs) 0.121 (the weights shipped before the
    reproduce tier retrained them: 0.182 and 0.089)."""
    from zoo.cli.distill_report import measure
    from zoo.registry.sources import build_data, resolve

    mass = {}
    for name in ("cnn.digits_teacher", "cnn.digits_soft_teacher"):
        resolved = resolve(name)
        x, y = build_data(resolved.data).load()["test"]
        mass[name] = measure(name, resolved.net, x, y, classes=[3]).runner_up
    assert mass["cnn.digits_soft_teacher"] > 1.5 * mass["cnn.digits_teacher"], mass
    assert mass["cnn.digits_soft_teacher"] > 1 / 9, mass


@pytest.mark.slow
def test_the_temperature_sweep_runs_as_a_multirun_and_plots_means_over_seeds(tmp_path):
    from conftest import QUIET, run_train_py

    from zoo.cli.compare_runs import compare

    result = run_train_py(
        "-m",
        "experiment=distill_temperature_digits",
        "task.temperature=2.5,20",
        "task.alpha=0.5",
        "seed=1,2",
        "trainer.max_epochs=2",
        f"paths.log_dir={tmp_path}",
        *QUIET,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    (sweep,) = (tmp_path / "distill_temperature_digits" / "multiruns").iterdir()
    plot, table = compare(sweep, "test/acc", x="task.temperature", group="task.alpha")
    assert plot.name == "test_acc_vs_temperature.png" and plot.stat().st_size > 10_000
    assert len(table.splitlines()) == 2 + 4


def test_a_run_checkpoint_teaches_by_its_path(tmp_path):
    from zoo.training.run import train

    teacher_run = compose_train(["experiment=mlp_digits", "trainer.max_epochs=2"], tmp_path / "t")
    train(teacher_run)
    checkpoint = tmp_path / "t" / "checkpoints" / "last.ckpt"
    overrides = [
        "experiment=distill_small_digits",
        f"task.teacher.source={checkpoint}",
        "logger=none",
    ]
    cfg = compose_train([*overrides, "trainer.max_epochs=1"], tmp_path / "s")
    datamodule, task, trainer = build(cfg)
    trainer.fit(task, datamodule=datamodule)
    expected = zoo.load_checkpoint(checkpoint).state_dict()
    assert task.teacher.state_dict().keys() == expected.keys()
    assert all(torch.equal(v, expected[k]) for k, v in task.teacher.state_dict().items())
    assert not any(p.requires_grad for p in task.teacher.parameters())
