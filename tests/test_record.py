"""The preprocessing record a model carries (`model.pretrained_cfg`) is a typed, immutable
`PretrainedRecord` that reads, compares and serialises as the JSON dict config.json stores."""

import dataclasses
import hashlib
import json

import pytest
import torch

import zoo
from zoo import registry as hub
from zoo.utils.preprocessing import PretrainedRecord, make_record, preprocess


def test_a_pretrained_models_record_is_typed_and_equal_to_its_json():
    net = zoo.create_model("cnn.digits", pretrained=True)
    record = net.pretrained_cfg
    assert isinstance(record, PretrainedRecord) and isinstance(zoo.PretrainedRecord, type)
    stored = json.loads((hub.REGISTRY / "cnn.digits" / hub.CONFIG).read_text())["pretrained_cfg"]
    assert record.input_shape == stored["input_shape"] == [1, 8, 8]
    assert record.raw_max == stored["raw_max"] == 16.0 and record.threshold is None
    assert record.mean == stored["mean"] and record.std == stored["std"]
    assert record.problem == "multiclass" and record.class_names == list("0123456789")
    assert record.card == zoo.model_card("cnn.digits")
    # read as the dict it was: item access, `in`, iteration, dict(), equality by content
    assert record["mean"] == stored["mean"] and record.get("missing") is None
    assert "card" in record and list(record) == [*stored, "card"]
    assert record == {**stored, "card": record.card} and dict(record) == record
    assert (
        record.with_changes(card=None) == stored
        and "card" not in zoo.create_model("cnn").pretrained_cfg
    )
    assert isinstance(zoo.get_pretrained_cfg("cnn.digits"), PretrainedRecord)
    assert zoo.get_pretrained_cfg("cnn.digits") == record


def test_to_dict_writes_the_shipped_json_byte_for_byte_and_round_trips():
    for name in zoo.list_pretrained():
        config = json.loads((hub.REGISTRY / name / hub.CONFIG).read_text())
        record = PretrainedRecord.from_dict(config["pretrained_cfg"])
        text = json.dumps({"model": config["model"], "pretrained_cfg": record.to_dict()}, indent=2)
        digest = hashlib.sha256((text + "\n").encode()).hexdigest()
        assert digest == zoo.model_card(name)["config_sha256"], name
    record = zoo.get_pretrained_cfg("cnn.digits")
    plain = record.to_dict()
    assert type(plain) is dict and json.loads(json.dumps(plain)) == plain
    assert PretrainedRecord.from_dict(plain) == record
    assert PretrainedRecord.from_dict(plain).to_dict() == plain
    plain["mean"].append(1.0)  # a copy: the record is untouched
    assert len(record.mean) == 1


def test_an_unknown_key_is_refused_naming_it():
    with pytest.raises(ValueError, match=r"unknown key 'means'; expected some of input_shape"):
        PretrainedRecord.from_dict({"input_shape": [1, 8, 8], "means": [0.5]})
    with pytest.raises(ValueError, match=r"unknown key 'scale'"):
        make_record([1, 8, 8]).with_changes(scale=2)
    with pytest.raises(ValueError, match=r"pretrained_cfg.mean='abc': expected a list of numbers"):
        PretrainedRecord.from_dict({"mean": "abc"})


def test_a_record_is_immutable_and_changes_make_a_copy():
    record = zoo.create_model("cnn.digits").pretrained_cfg
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.raw_max = 255.0
    with pytest.raises(TypeError):
        record["raw_max"] = 255.0
    changed = record.with_changes(raw_max=255)
    assert changed.raw_max == 255.0 and record.raw_max == 16.0
    assert dataclasses.replace(record, problem="binary")["problem"] == "binary"
    raw = torch.full((2, 1, 8, 8), 16.0)
    assert torch.allclose(preprocess(raw, record), preprocess(raw, record.to_dict()))
