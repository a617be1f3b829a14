"""Architectures by name, trained weights by name, and the round trip of a model to a directory.

Names follow timm's `arch.tag` scheme:

- an *architecture* is a model preset, `zoo/conf/model/<arch>.yaml` (`cnn`, `mlp`, `unet`, ...);
  `list_models()` lists them and `create_model(arch, **kwargs)` builds one, freshly initialised;
- *weights* are named `<arch>.<tag>`, the tag saying what they learned (`cnn.digits`,
  `siamese_cnn.glyphs_triplet`); `list_pretrained()` lists them, `create_model(name,
  pretrained=True)` loads them. The name of the experiment that trained them (`cnn_digits`,
  on each card as `"experiment"`) is accepted wherever a weights name is.

A model directory (shipped under `zoo/registry/weights/<arch>.<tag>/` or written by `save_pretrained`)
holds `config.json` (the config that builds the model and its preprocessing record),
`model.safetensors` and `card.json` (dataset, split, test metrics, parameter count, command,
sha256 of the weights and of the config). A directory loads only after both files match their
sha256 on the card; the config is data (`zoo.utils.builder`: registered architectures only), built
first on the meta device and compared with the weights file's header before any memory is
allocated; nothing is unpickled. Every model built or loaded here carries `model.pretrained_cfg`, the preprocessing
record of `zoo.utils.preprocessing` (plus `"card"` for loaded weights).

The package by job: `names` (what is known), `files` (reading, checking and writing a model
directory), `loading` (every way to get a model), `presets` (architectures' configs without
Hydra), `sources` (a model with the data and task it was trained with, for the commands).
"""

from zoo.registry.files import (
    CARD,
    CONFIG,
    WEIGHTS,
    ChecksumError,
    load_weights,
    num_params,
    read_card,
    read_config,
    save_pretrained,
    sha256,
    weight_shapes,
)
from zoo.registry.loading import (
    create_model,
    from_pretrained,
    get_pretrained_cfg,
    load_checkpoint,
    load_model,
    load_pretrained,
    load_state,
    model_config,
    start_from,
)
from zoo.registry.names import REGISTRY, list_models, list_pretrained, model_card, weights_name

__all__ = [
    "CARD",
    "CONFIG",
    "REGISTRY",
    "WEIGHTS",
    "ChecksumError",
    "create_model",
    "from_pretrained",
    "get_pretrained_cfg",
    "list_models",
    "list_pretrained",
    "load_checkpoint",
    "load_model",
    "load_pretrained",
    "load_state",
    "load_weights",
    "model_card",
    "model_config",
    "num_params",
    "read_card",
    "read_config",
    "save_pretrained",
    "sha256",
    "start_from",
    "weight_shapes",
    "weights_name",
]
