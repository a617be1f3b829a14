"""SupervisedTask: metric names per stage, the head's loss, predictions, optimizer partials."""

from functools import partial

import pytest
import torch
from torch import nn

from zoo.blocks import MLP, BinaryHead, MultiClassHead, MultiLabelHead, RegressionHead
from zoo.patterns import Classifier
from zoo.tasks import SupervisedTask
from zoo.training.checks import ConfigError
from zoo.training.run import optimized_metric


def make_task(head, **kwargs) -> SupervisedTask:
    net = Classifier(MLP(4, [8]), head, input_shape=(4,))
    return SupervisedTask(net, optimizer=partial(torch.optim.SGD, lr=0.1), **kwargs)


@pytest.mark.parametrize(
    ("head", "names"),
    [
        (lambda w: BinaryHead(w), {"acc", "f1", "auroc"}),
        (lambda w: MultiLabelHead(w, 3), {"subset_acc", "f1", "auroc"}),
        (lambda w: MultiClassHead(w, 3), {"acc", "f1"}),
    ],
)
def test_metrics_fit_the_head_and_carry_the_stage(head, names):
    assert set(make_task(head).metrics) == {"val_metrics", "test_metrics"}  # cheap steps
    task = make_task(head, train_metrics=True)
    for stage in ("train", "val", "test"):
        keys = set(task.metrics[f"{stage}_metrics"].keys(keep_base=False))
        assert keys == {f"{stage}/{n}" for n in names}


def test_logged_names_per_stage(compose_in):
    from zoo.training.run import train

    metrics = train(
        compose_in("experiment=binary_digits", "trainer.max_epochs=1", "task.train_metrics=true")
    )
    expected = {
        f"{s}/{n}" for s in ("train", "val", "test") for n in ("loss", "acc", "f1", "auroc")
    }
    assert set(metrics) == expected


def test_step_uses_the_heads_loss_and_predict_gives_probabilities():
    task = make_task(lambda w: MultiClassHead(w, 3))
    x, y = torch.randn(5, 4), torch.tensor([0, 1, 2, 0, 1])
    task.log = task.log_dict = lambda *a, **k: None  # no trainer attached
    loss = task.training_step((x, y), 0)
    assert torch.allclose(loss, nn.functional.cross_entropy(task(x), y))
    probs = task.predict_step((x, y), 0)  # predict batches are (*inputs, target) too
    assert torch.allclose(probs.sum(1), torch.ones(5))


def test_task_refuses_a_net_without_a_head():
    with pytest.raises(
        TypeError, match=r"needs a net whose \.head is a zoo\.blocks\.Head, got NoneType"
    ):
        SupervisedTask(nn.Linear(2, 2), optimizer=partial(torch.optim.SGD, lr=0.1))


def test_optimizer_and_scheduler_partials_are_used():
    net = Classifier(MLP(4, [8]), lambda w: BinaryHead(w), input_shape=(4,))
    task = SupervisedTask(
        net,
        optimizer=partial(torch.optim.Adam, lr=0.01),
        scheduler=partial(torch.optim.lr_scheduler.StepLR, step_size=3),
    )
    configured = task.configure_optimizers()
    assert isinstance(configured["optimizer"], torch.optim.Adam)
    assert configured["lr_scheduler"]["scheduler"].step_size == 3
    assert {id(p) for p in configured["optimizer"].param_groups[0]["params"]} == {
        id(p) for p in net.parameters()
    }


def test_tasks_share_the_base_constructor_and_add_only_their_own_arguments():
    from zoo.tasks import ReconstructionTask

    net = nn.Linear(4, 4)
    task = ReconstructionTask(
        net,
        eval_corruption="mask",
        optimizer=partial(torch.optim.SGD, lr=0.1),
        scheduler=partial(torch.optim.lr_scheduler.StepLR, step_size=3),
        scheduler_interval="step",
    )
    assert task.eval_corruption == "mask" and not task.metrics  # no metrics of its own
    assert task.configure_optimizers()["lr_scheduler"]["interval"] == "step"
    with pytest.raises(TypeError):  # own arguments are keyword-only: no silent shift
        SupervisedTask(
            Classifier(MLP(4, [8]), BinaryHead, input_shape=(4,)),
            partial(torch.optim.SGD, lr=0.1),
        )


def test_optimized_metric_must_have_been_logged():
    from omegaconf import OmegaConf

    cfg = OmegaConf.create({"optimized_metric": "val/acc"})
    assert optimized_metric(cfg, {"val/acc": 0.9}) == 0.9
    with pytest.raises(
        ConfigError, match=r"optimized_metric='val/acc': expected one of the logged \['val/f1'\]"
    ):
        optimized_metric(cfg, {"val/f1": 0.9})


def test_a_regression_head_predicts_its_values_and_scores_their_squared_error():
    head = RegressionHead(4, 2)
    values, target = head(torch.randn(5, 4)), torch.randn(5, 2)
    assert torch.equal(head.predict(values), values)
    assert torch.allclose(head.loss(values, target), ((values - target) ** 2).mean())


def test_trainer_predict_gives_probabilities_for_every_test_sample():
    import lightning.pytorch as L

    from zoo.data import DigitsDataModule

    data = DigitsDataModule()
    net = Classifier(MLP(64, [8]), lambda w: MultiClassHead(w, 10), input_shape=(1, 8, 8))
    trainer = L.Trainer(logger=False, enable_progress_bar=False, enable_model_summary=False)
    probs = torch.cat(trainer.predict(SupervisedTask(net), datamodule=data))
    assert probs.shape == (len(data.splits["test"][1]), 10)
    assert torch.allclose(probs.sum(1), torch.ones(len(probs)))


def problem_arrays(problem: str):
    """Learnable arrays for each problem kind: 4 features, targets a function of them."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(400, 4, generator=g)
    score = x @ torch.tensor([1.5, -2.0, 1.0, 0.5])
    y = {
        "binary": (score > 0).long(),
        "multiclass": torch.bucketize(score, torch.tensor([-1.0, 1.0])),
        "multilabel": torch.stack([(x[:, 0] > 0), (x[:, 1] > 0), (score > 0)], 1).long(),
        "regression": score,
    }[problem]
    return x, y


@pytest.mark.parametrize(
    ("problem", "head", "outputs"),
    [
        ("binary", BinaryHead, 1),
        ("multiclass", MultiClassHead, 3),
        ("multilabel", MultiLabelHead, 3),
        ("regression", RegressionHead, 1),
    ],
)
def test_every_problem_trains_through_create_model_and_its_data_spec(problem, head, outputs):
    """The Python path, as train.py's configs do: the data's spec picks the head (binary: one
    logit), and SupervisedTask trains it: the validation loss falls by a third."""
    import lightning.pytorch as L

    import zoo
    from zoo.data import ArrayDataModule

    data = ArrayDataModule(train=problem_arrays(problem), problem=problem, batch_size=32)
    net = zoo.create_model("mlp", data_spec=data.spec())
    assert isinstance(net.head, head) and net.head.num_outputs == outputs
    assert net.head.problem == problem == data.problem
    task = SupervisedTask(net, optimizer=partial(torch.optim.Adam, lr=1e-2))
    trainer = L.Trainer(
        max_epochs=5,
        logger=False,
        enable_checkpointing=False,  # nothing written into the working folder
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    data.setup()
    x_val, y_val = data.splits["val"]

    def val_loss() -> float:
        with torch.no_grad():
            return float(net.eval().head.loss(net(x_val), y_val))

    before = val_loss()
    trainer.fit(task, datamodule=data)
    after = val_loss()
    assert after < before * 2 / 3, (before, after)


def test_the_head_follows_the_problem_named_to_create_model():
    import zoo

    assert isinstance(zoo.create_model("cnn", problem="binary").head, BinaryHead)
    assert isinstance(
        zoo.create_model("mlp", problem="multilabel", num_classes=5).head, MultiLabelHead
    )
    assert isinstance(zoo.create_model("mlp").head, MultiClassHead)  # the preset's own
    assert zoo.create_model("siamese_cnn", problem="binary").head is None  # pairs: its own
