"""Names of architectures and weights, after timm's `arch.tag` scheme: an architecture is a
model preset (`zoo/conf/model/<arch>.yaml`), weights are `<arch>.<tag>` folders under
`zoo/registry/weights/`; the experiment that trained them is accepted as their old name."""

from __future__ import annotations

import difflib
import fnmatch
import warnings
from pathlib import Path
from typing import Any

from zoo.registry.files import WEIGHTS, read_card
from zoo.training.presets import preset_names

REGISTRY = Path(__file__).parent / "weights"
"""Where the shipped weights live, one model directory per name (`cnn.digits/`, ...)."""


def list_models(pattern: str = "*", pretrained: bool = False) -> list[str]:
    """Architectures (model presets) whose names match the shell-style `pattern`, sorted; with
    `pretrained=True` the `arch.tag` weights instead, as `list_pretrained(pattern)` (timm's
    behaviour)."""
    if pretrained:
        return list_pretrained(pattern)
    return [name for name in preset_names() if fnmatch.fnmatch(name, pattern)]


def list_pretrained(pattern: str = "*") -> list[str]:
    """Trained weights, named `arch.tag`, matching the shell-style `pattern` (`"cnn.*"`),
    sorted."""
    names = (p.parent.name for p in REGISTRY.glob(f"*/{WEIGHTS}"))
    return sorted(n for n in names if fnmatch.fnmatch(n, pattern))


OLD_NAMES = {
    "adversarial_digits": "cnn.digits_adversarial",
    "ae_digits": "autoencoder.digits",
    "attention_retrieval": "memory_reader.retrieval",
    "binary_digits": "cnn.digits_parity",
    "cnn_digits": "cnn.digits",
    "cnn_rotated_digits": "cnn.rotated_digits",
    "cnn_rotated_digits_1x": "cnn.rotated_digits_1x",
    "dae_digits": "autoencoder.digits_denoising",
    "distill_digits": "mlp.digits_distilled",
    "distill_small_digits": "mlp.digits_distilled_small",
    "film_sort_of_clevr": "film_vqa.sort_of_clevr",
    "gan_digits": "gan.digits",
    "koch_glyphs": "siamese_cnn.glyphs_koch",
    "mlp_digits": "mlp.digits",
    "multilabel_digits": "cnn.digit_mosaics",
    "multimodal_digits": "multimodal.digit_tones",
    "multitask_digits": "multitask_mlp.rotated_digits",
    "pixelcnn_digits": "pixelcnn.digits",
    "relation_sort_of_clevr": "relation_network.sort_of_clevr",
    "seq2seq_reverse": "seq2seq.reverse",
    "seq2seq_reverse_attention": "seq2seq.reverse_attention",
    "seq2seq_sort": "seq2seq.sort",
    "siamese_glyphs": "siamese_cnn.glyphs_contrastive",
    "simclr_digits": "simclr.digits",
    "soft_teacher_digits": "cnn.digits_soft_teacher",
    "teacher_digits": "cnn.digits_teacher",
    "transformer_reverse": "transformer_seq2seq.reverse",
    "transformer_sort": "transformer_seq2seq.sort",
    "triplet_glyphs": "siamese_cnn.glyphs_triplet",
    "unet_shapes": "unet.shapes",
    "vae_digits": "vae.digits",
    "vit_digits": "vit.digits",
    "vit_rotated_digits": "vit.rotated_digits",
    "vit_rotated_digits_1x": "vit.rotated_digits_1x",
}
"""The experiment that trained each set of weights shipped before `arch.tag` names, accepted
(deprecated) as their name; a test keeps it equal to the cards. Frozen: new weights have their
`arch.tag` name only, so a name that misses reads no card."""


def _unknown(name: str) -> KeyError:
    known = [*list_models(), *list_pretrained(), *OLD_NAMES]
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.4)
    hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
    return KeyError(
        f"unknown model {name!r}{hint} (zoo.list_models() lists the architectures, "
        "zoo.list_pretrained() the trained weights)"
    )


def weights_name(name: str) -> str:
    """The `arch.tag` name of weights named `name`: their own name, the experiment that
    trained them (`cnn_digits`), or an architecture with exactly one set of weights. A
    KeyError says what is known otherwise."""
    if (REGISTRY / name / WEIGHTS).is_file():
        return name
    if name in OLD_NAMES:
        warnings.warn(
            f"{name!r} names the experiment that trained the weights {OLD_NAMES[name]!r}; "
            "name the weights instead (the experiment's name is deprecated here)",
            DeprecationWarning,
            stacklevel=3,
        )
        return OLD_NAMES[name]
    if name in list_models():
        candidates = list_pretrained(f"{name}.*")
        if len(candidates) == 1:
            return candidates[0]
        if not candidates:
            raise KeyError(
                f"architecture {name!r} has no pretrained weights (zoo.list_pretrained())"
            )
        raise KeyError(
            f"architecture {name!r} has several pretrained weights, {candidates}: name one "
            f"(zoo.list_pretrained({name + '.*'!r}))"
        )
    raise _unknown(name)


def _weights_dir(name: str) -> Path:
    return REGISTRY / weights_name(name)


def model_card(name: str) -> dict[str, Any]:
    """The card of weights named `name` (see `weights_name`): dataset, split, test metrics,
    parameters, command, sha256, ..."""
    return read_card(_weights_dir(name))
