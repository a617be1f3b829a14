"""Modules a task holds but never trains (a distillation teacher, a GAN's judge): frozen, out of
the checkpoint, built by the config, and loaded without moving the run's random stream."""

import pytest
import torch

import zoo
from zoo.registry.sources import build_task


def test_a_gans_judge_is_frozen_and_left_out_of_its_checkpoint():
    from zoo.tasks import GANTask

    judge = zoo.load_model("cnn.digits")
    task = GANTask(zoo.create_model("gan"), judge=judge)
    task.train()
    assert not task.judge.training and not any(p.requires_grad for p in task.judge.parameters())
    keys = task.state_dict().keys()
    assert keys and not [k for k in keys if k.startswith("judge.")]
    fresh = GANTask(zoo.create_model("gan"), judge=zoo.load_model("cnn.digits"))
    fresh.load_state_dict(task.state_dict())  # strict: the judge's entries are its own
    assert torch.equal(fresh.judge.head.linear.weight, judge.head.linear.weight)


def test_loading_weights_leaves_the_global_random_stream_as_it_was():
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    zoo.load_model("cnn.digits")  # builds, then overwrites, a randomly initialised model
    assert torch.equal(torch.rand(3), expected)


def test_a_teacher_named_by_a_string_is_refused_with_the_config_that_builds_it():
    from zoo.tasks import DistillationTask

    with pytest.raises(TypeError, match=r"teacher: \{_target_: zoo.load_model, source: NAME\}"):
        DistillationTask(zoo.create_model("mlp"), teacher="cnn.digits_teacher")


def test_records_that_name_their_teacher_by_a_string_still_evaluate():
    config = {"_target_": "zoo.tasks.DistillationTask", "teacher": "teacher_digits"}
    with pytest.warns(DeprecationWarning, match="names the experiment"):
        task = build_task(config, zoo.create_model("mlp.digits_distilled", pretrained=True))
    assert not task.teacher.training
    assert "teacher.head.linear.weight" not in task.state_dict()
