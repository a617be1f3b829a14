"""A kill while weights are saved never leaves a model folder that loads half-written: the
folder loads the old model whole, or refuses to load (its checksum fails), never a mix."""

import os
import subprocess
import sys

import pytest
import torch

import zoo
from zoo import registry as hub
from zoo.utils.atomic import atomic_path, write_text_atomic

# save_pretrained over an older save of the same architecture, killed (SIGKILL) at each write
SAVE_KILLED_AT = """
import os, signal, sys
import safetensors.torch
import zoo
from zoo.registry import files

point, directory = sys.argv[1], sys.argv[2]
die = lambda: os.kill(os.getpid(), signal.SIGKILL)
if point == "weights":  # half of the new weights written, then killed
    save_file = safetensors.torch.save_file
    def half_then_die(state, path):
        save_file(state, path)
        os.truncate(path, os.path.getsize(path) // 2)
        die()
    safetensors.torch.save_file = half_then_die
else:  # killed as config.json (the first text file) or card.json (the second) is written
    write, writes = files.write_text_atomic, []
    def write_or_die(path, text):
        writes.append(path)
        if (point, len(writes)) in (("config", 1), ("card", 2)):
            die()
        write(path, text)
    files.write_text_atomic = write_or_die
zoo.save_pretrained(zoo.create_model("mlp.digits"), directory)
"""


@pytest.mark.parametrize("point", ["weights", "config", "card"])
def test_a_kill_during_save_pretrained_never_leaves_a_half_written_model(point, tmp_path):
    old = zoo.create_model("mlp.digits", pretrained=True)
    folder = zoo.save_pretrained(old, tmp_path / "model")
    killed = subprocess.run(
        [sys.executable, "-c", SAVE_KILLED_AT, point, str(folder)], capture_output=True, text=True
    )
    assert killed.returncode == -9, killed.stderr[-2000:]
    try:
        loaded = zoo.load_model(folder)
    except hub.ChecksumError:
        assert point != "weights"  # new weights in place, the old card refuses them
        return
    assert point == "weights"  # the half-written file never took the old one's place
    state, expected = loaded.state_dict(), old.state_dict()
    assert all(torch.equal(state[k], expected[k]) for k in expected)


def test_atomic_writes_replace_whole_or_not_at_all(tmp_path):
    target = tmp_path / "card.json"
    write_text_atomic(target, "old")
    with pytest.raises(RuntimeError), atomic_path(target) as temporary:
        temporary.write_text("half")
        raise RuntimeError("killed")
    assert target.read_text() == "old" and os.listdir(tmp_path) == ["card.json"]
    write_text_atomic(target, "new")
    assert target.read_text() == "new" and os.listdir(tmp_path) == ["card.json"]
