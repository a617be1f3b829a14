"""Each modulation experiment shows the effect its block is known for, on a reduced budget.

Full-budget numbers (README table) come from the experiments' documented commands.
"""

import pytest
import torch
from conftest import compose_train

import zoo
from zoo.cli.run import train
from zoo.data.sort_of_clevr import is_relational
from zoo.preprocessing import preprocess

LEAN = ["logger=none", "callbacks.model_checkpoint=null", "callbacks.last_checkpoint=null"]


def run(tmp_path, *overrides: str) -> dict[str, float]:
    name = "_".join(o.split("=")[-1] for o in overrides)[:80]
    return train(compose_train([*overrides, *LEAN], tmp_path / name))


@pytest.mark.slow
def test_skip_connections_train_a_50_layer_mlp_that_plain_layers_cannot(tmp_path):
    budget = ("experiment=depth_digits", "model.backbone.depth=50", "trainer.max_epochs=10")
    residual = run(tmp_path, *budget, "model.backbone.kind=residual")
    plain = run(tmp_path, *budget, "model.backbone.kind=plain")
    assert residual["test/acc"] > 0.85 and plain["test/acc"] < 0.5


@pytest.mark.slow
def test_gated_recurrence_solves_the_adding_problem_where_a_tanh_rnn_stays_at_the_mean(tmp_path):
    budget = (
        "experiment=adding_problem",
        "data.length=30",
        "model.input_shape=[30,2]",
        "data.sizes.train=6000",
        "trainer.max_epochs=4",
        "optimizer.lr=0.005",
    )
    gru = run(tmp_path, *budget, "model.encoder.cell=gru")
    rnn = run(tmp_path, *budget, "model.encoder.cell=rnn")
    assert gru["test/mse"] < 0.03  # predicting the mean scores ~0.167
    assert rnn["test/mse"] > 0.12


def test_depth_sweep_plot_reads_final_metrics_against_an_override(tmp_path):
    from conftest import run_train_py

    from zoo.cli.compare_runs import compare

    result = run_train_py(
        "-m",
        "experiment=depth_digits",
        "model.backbone.kind=plain,residual",
        "model.backbone.depth=4,8",
        "trainer.max_epochs=1",
        f"paths.log_dir={tmp_path}",
        "trainer.enable_progress_bar=false",
        "callbacks.progress_bar=null",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    (sweep,) = (tmp_path / "depth_digits" / "multiruns").iterdir()
    plot, table = compare(sweep, "test/acc", x="model.backbone.depth", group="model.backbone.kind")
    assert plot.name == "test_acc_vs_depth.png" and plot.stat().st_size > 10_000
    assert len(table.splitlines()) == 2 + 4 and "test/acc" in table.splitlines()[0]


@pytest.mark.slow
def test_attention_retrieves_what_uniform_pooling_cannot(tmp_path):
    budget = ("experiment=attention_retrieval", "data.sizes.train=10000", "trainer.max_epochs=5")
    attention = run(tmp_path, *budget, "model.read=attention")
    pooled = run(tmp_path, *budget, "model.read=mean")
    assert attention["test/acc"] > 0.45 and pooled["test/acc"] < 0.3  # chance: 0.10


def accuracy_by_question_kind(net: torch.nn.Module, datamodule) -> tuple[float, float]:
    """(non-relational, relational) test accuracy of a Sort-of-CLEVR model."""
    images, questions, answers = datamodule.load()["test"]
    with torch.no_grad():
        inputs = preprocess(images, net.pretrained_cfg)  # the record the checkpoint carries
        correct = net.eval()(inputs, questions).argmax(1) == answers
    relational = is_relational(questions)
    return correct[~relational].float().mean().item(), correct[relational].float().mean().item()


@pytest.mark.slow
def test_film_answers_non_relational_questions_a_concatenating_cnn_cannot(tmp_path):
    from zoo.data import SortOfClevrDataModule

    budget = ("data.scenes.train=3000", "trainer.max_epochs=4")
    data = SortOfClevrDataModule(scenes={"train": 3000, "val": 500, "test": 1000})
    results = {}
    for model in ("film", "concat"):
        out = tmp_path / model
        train(compose_train([f"experiment={model}_sort_of_clevr", *budget, "logger=none"], out))
        net = zoo.load_checkpoint(out / "checkpoints" / "last.ckpt")
        results[model] = accuracy_by_question_kind(net, data)
    film_nonrel, concat_nonrel = results["film"][0], results["concat"][0]
    assert film_nonrel > 0.7 and film_nonrel > concat_nonrel + 0.08, results
