"""Sort-of-CLEVR (Santoro et al. 2017), generated: images of six coloured shapes and questions
about them, some about one object (non-relational) and some about pairs (relational).

A question is a 12-d vector: one-hot colour of the object asked about (6), one-hot question
(6: three non-relational, three relational). Answers (10 classes):
    non-relational: its shape (circle/square); is it on the left? is it at the top? (yes/no)
    relational: shape of the nearest object; shape of the furthest; how many share its shape (1-6)
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import torch

from zoo.data.base import InMemoryDataModule, LoaderOptions, Split, copies, split_sizes
from zoo.utils.builder import register

if TYPE_CHECKING:
    from typing import Unpack

COLOURS = torch.tensor(
    [[1.0, 0, 0], [0, 0.8, 0], [0, 0, 1.0], [1.0, 0.55, 0], [0.5, 0.5, 0.5], [1.0, 1.0, 0]]
)
ANSWERS = ["circle", "square", "yes", "no", "1", "2", "3", "4", "5", "6"]
NUM_OBJECTS, NUM_QUESTIONS = 6, 6
QUESTION_DIM = NUM_OBJECTS + NUM_QUESTIONS


def render_scenes(count: int, size: int, generator: torch.Generator) -> tuple[torch.Tensor, ...]:
    """Images (count, 3, size, size) in [0, 1], object centres (count, 6, 2), shapes (count, 6)
    (0 circle, 1 square). Objects sit in distinct cells of a 4x4 grid, jittered."""
    cells = torch.rand(count, 16, generator=generator).argsort(1)[:, :NUM_OBJECTS]
    cell = size / 4
    jitter = (torch.rand(count, NUM_OBJECTS, 2, generator=generator) - 0.5) * (cell * 0.3)
    centres = torch.stack([cells // 4, cells % 4], -1) * cell + cell / 2 + jitter  # (row, col)
    shapes = torch.randint(0, 2, (count, NUM_OBJECTS), generator=generator)
    radius = cell * 0.38
    grid = torch.arange(size).float() + 0.5
    dy = grid.view(1, 1, size, 1) - centres[..., 0, None, None]
    dx = grid.view(1, 1, 1, size) - centres[..., 1, None, None]
    circle = dy**2 + dx**2 <= radius**2
    square = (dy.abs() <= radius) & (dx.abs() <= radius)
    masks = torch.where(shapes[..., None, None].bool(), square, circle).float()  # (count, 6, S, S)
    images = torch.einsum("nohw,oc->nchw", masks, COLOURS).clamp(max=1.0)
    return images, centres / size, shapes


def answer(
    centres: torch.Tensor, shapes: torch.Tensor, colour: torch.Tensor, kind: torch.Tensor
) -> torch.Tensor:
    """The answer index for each (scene, colour, question kind)."""
    rows = torch.arange(len(colour))
    me, my_shape = centres[rows, colour], shapes[rows, colour]
    distance = (centres - me[:, None]).norm(dim=-1)
    distance[rows, colour] = float("nan")
    nearest = distance.nan_to_num(float("inf")).argmin(1)
    furthest = distance.nan_to_num(-1.0).argmax(1)
    same = (shapes == my_shape[:, None]).sum(1)  # includes itself: 1..6
    options = torch.stack(
        [
            my_shape,  # 0: shape -> circle/square
            torch.where(me[:, 1] < 0.5, 2, 3),  # 1: on the left? yes/no
            torch.where(me[:, 0] < 0.5, 2, 3),  # 2: at the top? yes/no
            shapes[rows, nearest],  # 3: shape of the nearest object
            shapes[rows, furthest],  # 4: shape of the furthest object
            3 + same,  # 5: how many share its shape -> "1".."6"
        ],
        dim=1,
    )
    return options[rows, kind]


def describe_objects(
    centres: torch.Tensor, shapes: torch.Tensor, order: str, generator: torch.Generator
) -> torch.Tensor:
    """Scenes as state descriptions (count, 6, 9): per object its one-hot colour (6), centre
    (row, col) and shape (0 circle, 1 square). Centres are scaled from [0, 1] to [-3, 3], where
    neighbouring objects lie ~1.5 apart: relation networks learn distances several times faster
    at that scale than in [0, 1]. `order="sorted"` lists the objects by colour, as a table
    would; `"shuffled"` in a random order per scene."""
    count = len(centres)
    objects = torch.cat(
        [
            torch.eye(NUM_OBJECTS).expand(count, -1, -1),
            (centres - 0.5) * 6,
            shapes[..., None].float(),
        ],
        dim=-1,
    )
    if order == "sorted":
        return objects
    permutation = torch.rand(count, NUM_OBJECTS, generator=generator).argsort(1)
    return objects[torch.arange(count)[:, None], permutation]


def is_relational(questions: torch.Tensor) -> torch.Tensor:
    """True for the questions (N, 12) about pairs of objects."""
    return questions[:, NUM_OBJECTS:].argmax(1) >= 3


@torch.no_grad()
def accuracy_by_question_kind(
    net: torch.nn.Module, datamodule: SortOfClevrDataModule, split: str = "test"
) -> dict[str, float]:
    """`non_relational` and `relational` accuracy of a Sort-of-CLEVR model on `split`."""
    scenes, questions, answers = datamodule.load()[split]
    if datamodule.scene == "image":
        scenes = scenes.float() / datamodule.raw_max  # bytes -> [0, 1], as in training
    correct = net.eval()(scenes, questions).argmax(1) == answers
    relational = is_relational(questions)
    return {
        "non_relational": correct[~relational].float().mean().item(),
        "relational": correct[relational].float().mean().item(),
    }


QUESTION_KINDS = ("both", "relational", "non_relational")


@functools.lru_cache(maxsize=2)  # 1 s to render: once per process for each setting
def generate_scenes(
    scenes: tuple[tuple[str, int], ...],
    image_size: int,
    questions_per_scene: int,
    scene: str,
    object_order: str,
    questions: str,
    seed: int,
) -> dict[str, Split]:
    """Each split's (scene, question, answer) triples, `questions_per_scene` per scene (`scenes`:
    (split, count) pairs); scenes as image bytes or object descriptions (`scene`), all drawn
    from `seed`. See `SortOfClevrDataModule`."""
    generator = torch.Generator().manual_seed(seed)
    splits: dict[str, Split] = {}
    for split, count in scenes:
        images, centres, shapes = render_scenes(count, image_size, generator)
        k = questions_per_scene
        index = torch.arange(count).repeat_interleave(k)
        colour = torch.randint(0, NUM_OBJECTS, (count * k,), generator=generator)
        relational = torch.arange(count * k) % 2  # alternate, so half are relational
        if questions != "both":
            relational = torch.full_like(relational, int(questions == "relational"))
        kind = torch.randint(0, 3, (count * k,), generator=generator) + 3 * relational
        asked = torch.cat([torch.eye(NUM_OBJECTS)[colour], torch.eye(NUM_QUESTIONS)[kind]], dim=1)
        targets = answer(centres[index], shapes[index], colour, kind)
        if scene == "objects":
            described = describe_objects(centres, shapes, object_order, generator)
        else:
            described = (images * 255).round().to(torch.uint8)
        splits[split] = (described[index], asked, targets)
    return splits


@register("data")
class SortOfClevrDataModule(InMemoryDataModule):
    """(image, question) -> answer; each scene is asked `questions_per_scene` random questions,
    half of them relational. Many questions per scene matter: with one or two, a small CNN
    memorises the scenes instead of learning to answer.

    Images are held as bytes (one copy per question) and turned into floats in [0, 1] batch by
    batch, which keeps 60k samples at 32x32 in ~180 MB. `scene="objects"` replaces each image
    by its state description (6 objects x 9 features, see `describe_objects`), as in the
    relation-network experiments of Santoro et al.; `object_order="shuffled"` hides which
    object is which slot (a relation network does not care; an MLP over the slots does).
    `questions` asks `"both"` kinds, or only the `"relational"` or `"non_relational"` ones.

    Loader options (`**loading`: batch sizes, `drop_last`): `zoo.data.base.LoaderOptions`;
    here `eval_batch_size` 512 by default.
    """

    problem = "multiclass"
    num_outputs = len(ANSWERS)
    class_names = tuple(ANSWERS)
    raw_max = 255.0
    standardize_dims = None

    def __init__(
        self,
        image_size: int = 32,
        scenes: dict[str, int] | None = None,
        questions_per_scene: int = 10,
        scene: str = "image",
        object_order: str = "sorted",
        questions: str = "both",
        seed: int = 0,
        **loading: Unpack[LoaderOptions],
    ) -> None:
        loading.setdefault("eval_batch_size", 512)
        super().__init__(**loading)
        if image_size < 16:
            raise ValueError(f"data.image_size must be >= 16, got {image_size}")
        self.scenes = split_sizes(scenes, {"train": 6000, "val": 500, "test": 1000}, "data.scenes")
        if scene not in ("image", "objects"):
            raise ValueError(f"data.scene={scene!r}: expected 'image' or 'objects'")
        if object_order not in ("sorted", "shuffled"):
            raise ValueError(f"data.object_order={object_order!r}: expected 'sorted' or 'shuffled'")
        if questions not in QUESTION_KINDS:
            raise ValueError(f"data.questions={questions!r}: expected one of {QUESTION_KINDS}")
        self.questions = questions
        self.image_size, self.questions_per_scene, self.seed = image_size, questions_per_scene, seed
        self.scene, self.object_order = scene, object_order
        if scene == "objects":  # object descriptions are features, not image bytes
            self.raw_max = 1.0
        shape = (3, image_size, image_size) if scene == "image" else (NUM_OBJECTS, 9)
        self.input_shape = (shape, (QUESTION_DIM,))

    def load_unit(self) -> dict[str, Split]:
        setting = (tuple(self.scenes.items()), self.image_size, self.questions_per_scene)
        return copies(
            generate_scenes(*setting, self.scene, self.object_order, self.questions, self.seed)
        )

    @property
    def fixed_training_inputs(self) -> bool:
        return self.scene == "objects"  # images are decoded from bytes on the device

    def on_after_batch_transfer(
        self, batch: tuple[torch.Tensor, ...], dataloader_idx: int
    ) -> tuple[torch.Tensor, ...]:
        if self.scene == "objects":
            return batch
        image, *rest = batch
        return (image.float() / self.raw_max, *rest)  # bytes -> [0, 1], on the device
