"""Generated sequence-to-sequence tasks: reverse, sort or copy a string of symbols.

Tokens: 0 padding, 1 begin, 2 end, then `vocab` symbols. A batch is (source, source lengths,
target input = begin + y, target output = y + end), padded with 0. The test split spans longer
lengths than training (`test_lengths`) to show how each model extrapolates.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import torch

from zoo.data.base import InMemoryDataModule, LoaderOptions, Split, split_sizes
from zoo.patterns.seq2seq import BOS, EOS, PAD
from zoo.utils.builder import register

if TYPE_CHECKING:
    from typing import Unpack

FIRST_SYMBOL = EOS + 1
TASKS = ("reverse", "sort", "copy")


def make_pairs(
    task: str,
    count: int,
    lengths: tuple[int, int],
    vocab: int,
    width: int,
    generator: torch.Generator,
) -> Split:
    """`count` (source, length, target in, target out) rows, padded to `width` (+1 for targets)."""
    length = torch.randint(lengths[0], lengths[1] + 1, (count,), generator=generator)
    symbols = torch.randint(FIRST_SYMBOL, FIRST_SYMBOL + vocab, (count, width), generator=generator)
    positions = torch.arange(width)
    valid = positions < length[:, None]
    source = torch.where(valid, symbols, PAD)
    if task == "reverse":
        index = (length[:, None] - 1 - positions).clamp(min=0)
        target = torch.where(valid, source.gather(1, index), PAD)
    elif task == "sort":
        target = torch.where(valid, torch.where(valid, source, 10**6).sort(1).values, PAD)
    else:
        target = source
    pad = torch.zeros(count, 1, dtype=torch.long)
    target_in = torch.cat([torch.full((count, 1), BOS), target], 1)
    target_out = torch.cat([target, pad], 1).scatter(1, length[:, None], EOS)
    return source, length, target_in, target_out


@register("data")
class SequenceTaskDataModule(InMemoryDataModule):
    """Reverse / sort / copy with train and val lengths in `lengths`, test in `test_lengths`.

    Loader options (`**loading`: batch sizes, `drop_last`): `zoo.data.base.LoaderOptions`;
    here `eval_batch_size` 512 by default.
    """

    problem = "seq2seq"
    standardize_dims = None

    def __init__(
        self,
        task: str = "reverse",
        vocab: int = 10,
        lengths: tuple[int, int] = (4, 16),
        test_lengths: tuple[int, int] = (4, 20),
        sizes: dict[str, int] | None = None,
        seed: int = 0,
        **loading: Unpack[LoaderOptions],
    ) -> None:
        loading.setdefault("eval_batch_size", 512)
        super().__init__(**loading)
        if task not in TASKS:
            raise ValueError(f"data.task={task!r}: expected one of {TASKS}")
        for key, (low, high) in (("lengths", lengths), ("test_lengths", test_lengths)):
            if not 1 <= low <= high:
                raise ValueError(f"data.{key}={[low, high]}: expected 1 <= low <= high")
        self.task, self.vocab, self.seed = task, vocab, seed
        # pairs: each was unpacked into (low, high) above
        self.lengths = cast(tuple[int, int], tuple(lengths))
        self.test_lengths = cast(tuple[int, int], tuple(test_lengths))
        self.sizes = split_sizes(sizes, {"train": 20000, "val": 1000, "test": 2000})
        self.width = max(self.lengths[1], self.test_lengths[1])
        self.num_outputs = FIRST_SYMBOL + vocab
        self.input_shape = (self.width,)

    def load_unit(self) -> dict[str, Split]:
        generator = torch.Generator().manual_seed(self.seed)
        return {
            split: make_pairs(
                self.task,
                count,
                self.test_lengths if split == "test" else self.lengths,
                self.vocab,
                self.width,
                generator,
            )
            for split, count in self.sizes.items()
        }
