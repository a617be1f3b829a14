"""Omniglot (Lake, Salakhutdinov & Tenenbaum 2015, "Human-level concept learning through
probabilistic program induction", Science 350; MIT license): handwritten characters of 50
alphabets, 20 drawers each, for one-shot learning.

Training (and validation) classes are characters of the background alphabets: Lake's two
"minimal" background sets (`background="minimal"`, kept in the repository under
`data/omniglot/`: 5 alphabets each, 292 characters and 5,840 images between them, but both
hold Greek and Latin, the same 1,000 images, so 8 alphabets, 242 characters and 4,840 images
once each) or the full background set
(`background="full"`, 30 alphabets, 964 characters, downloaded by torchvision). The test split
is the 20 official within-alphabet 20-way one-shot runs (`all_runs.zip`), scored as Lake et al.
score them by `zoo.analysis.oneshot.official_accuracy` (`OmniglotDataModule.one_shot_runs`).

The files are read where they lie, zips and all (zipfile and Pillow: about a second for the
minimal sets, so nothing is cached), after their sha256 is checked; images are ink 1 on background 0, resized with
antialiasing from 105x105.
"""

from __future__ import annotations

import functools
import io
import math
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

from zoo.analysis.oneshot import OneShotRuns
from zoo.data.base import ClassBalancedDataModule, LoaderOptions, Split, copies
from zoo.data.vision import DatasetUnavailableError
from zoo.utils.builder import register
from zoo.utils.safe_files import sha256

if TYPE_CHECKING:
    from typing import Unpack

SOURCE = "github.com/brendenlake/omniglot, folder python/"
NATIVE_SIZE = 105
MINIMAL = ("images_background_small1.zip", "images_background_small2.zip")
RUNS = "all_runs.zip"
FULL = "images_background.zip"  # torchvision's download, checked by torchvision's md5
FULL_MD5 = "68d2efa1b9178cc56df9314c21c6e718"  # torchvision.datasets.Omniglot.zips_md5
SHA256 = {
    "images_background_small1.zip": (
        "f38eb80f801274ac2b4dff5b24289016bfaba4a7d5bb50deebf27104ad6cb8a4"
    ),
    "images_background_small2.zip": (
        "3ccaa407515a8778e5d0861875af38b17e418f301ad5bb3b5a6b65d901a41c7f"
    ),
    "all_runs.zip": "437c1eeab0af8484112e1b4cc0f3d541ec727f7c47b9b202da738af9dfd6c325",
}
BACKGROUNDS = ("minimal", "full")
# distinct characters: the two minimal sets hold 292 between them, Greek's 24 and Latin's 26
# in both (the same images), so 242; the full background set 964
CHARACTERS = {"minimal": 242, "full": 964}


@dataclass(frozen=True)
class Distortions:
    """Random affine distortions of a character: rotation by up to `rotation` degrees, shear
    `shear` (each axis), scale in `scale` (each axis), translation by up to `translation` of
    the image side (each axis); each of the seven components drawn independently and applied
    with probability `probability`, else left at the identity.

    `KOCH` holds Koch, Zemel & Salakhutdinov (2015, section 4.3)'s values, the one place the
    zoo keeps them: T = (theta, rho_x, rho_y, s_x, s_y, t_x, t_y) with theta in [-10, 10]
    degrees, rho in [-0.3, 0.3], s in [0.8, 1.2], t in [-2, 2] pixels of a 105x105 image (so
    2/105 of the side at any size), each component included with probability 0.5."""

    rotation: float
    shear: float
    scale: tuple[float, float]
    translation: float
    probability: float

    def scaled(self, strength: float) -> Distortions:
        """The same distortions with every range multiplied by `strength` (0: none, 1: these;
        the scale range shrinks or grows about 1)."""
        low, high = self.scale
        return Distortions(
            self.rotation * strength,
            self.shear * strength,
            (1 + (low - 1) * strength, 1 + (high - 1) * strength),
            self.translation * strength,
            self.probability,
        )

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """Images (N, C, H, W), ink on background 0, each distorted afresh (the global random
        generator, on the images' device); outside the image is background."""
        n, device = len(x), x.device

        def component(low: float, high: float, identity: float, count: int = 1) -> torch.Tensor:
            value = torch.empty(n, count, device=device).uniform_(low, high)
            used = torch.rand(n, count, device=device) < self.probability
            return torch.where(used, value, torch.full_like(value, identity))

        angle = component(-self.rotation, self.rotation, 0.0)[:, 0] * (math.pi / 180)
        shear = component(-self.shear, self.shear, 0.0, 2)
        scale = component(*self.scale, 1.0, 2)
        # translation in affine_grid's coordinates, where the side spans 2
        shift = component(-self.translation, self.translation, 0.0, 2) * 2
        cos, sin = angle.cos(), angle.sin()
        rotate = torch.stack([torch.stack([cos, -sin], 1), torch.stack([sin, cos], 1)], 1)
        one = torch.ones(n, device=device)
        skew = torch.stack(
            [torch.stack([one, shear[:, 0]], 1), torch.stack([shear[:, 1], one], 1)], 1
        )
        forward = rotate @ skew @ torch.diag_embed(scale)  # where each point of the glyph goes
        # grid_sample reads, for each output pixel, the input point that maps to it
        inverse = torch.linalg.inv(forward)
        theta = torch.cat([inverse, -(inverse @ shift[:, :, None])], 2)
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        return F.grid_sample(x, grid, align_corners=False)


KOCH = Distortions(
    rotation=10.0, shear=0.3, scale=(0.8, 1.2), translation=2 / NATIVE_SIZE, probability=0.5
)


def missing_files(folder: Path, names: Sequence[str]) -> DatasetUnavailableError:
    """The one line that says which of Lake's files to put where."""
    needed = list(names)
    listed = ", ".join(needed[:-1]) + f" and {needed[-1]}" if len(needed) > 1 else needed[0]
    what = (
        "minimal background sets"
        if any(name in MINIMAL for name in needed)
        else "official one-shot runs"
    )
    return DatasetUnavailableError(
        f"Omniglot's {what} were not found in {folder.resolve()}: put {listed} ({SOURCE}) "
        f"there, or pass data.root=<the folder that holds them> (zoo-eval: --data-dir <the "
        f"folder that holds omniglot/>)"
    )


def verified(path: Path) -> str:
    """`path`'s sha256, checked against Lake's release (`SHA256`); a one-line
    DatasetUnavailableError when it differs."""
    found, expected = sha256(path), SHA256[path.name]
    if found != expected:
        raise DatasetUnavailableError(
            f"{path.resolve()} is not Lake's {path.name} (sha256 {found[:12]}..., expected "
            f"{expected[:12]}...): copy it again from {SOURCE}"
        )
    return found


def inked(pngs: Sequence[bytes]) -> torch.Tensor:
    """PNGs (white background, black ink) -> (N, 1, H, W) uint8: ink 1 on background 0."""
    import numpy as np
    from PIL import Image

    pixels = []
    for png in pngs:
        with Image.open(io.BytesIO(png)) as image:
            pixels.append(np.asarray(image.convert("L")) < 128)
    return torch.from_numpy(np.stack(pixels)).unsqueeze(1).to(torch.uint8)


def resized(images: torch.Tensor, image_size: int, chunk: int = 1024) -> torch.Tensor:
    """(N, 1, H, W) ink in [0, 1] -> (N, 1, size, size) float, bilinear with antialiasing
    (area-weighted when shrinking), clipped to [0, 1]; chunk by chunk."""
    parts = []
    for part in images.split(chunk):
        part = part.float()
        if part.shape[-1] != image_size or part.shape[-2] != image_size:
            size = (image_size, image_size)
            part = F.interpolate(part, size=size, mode="bilinear", antialias=True).clamp(0, 1)
        parts.append(part)
    return torch.cat(parts)


CHARACTER_PNG = re.compile(r"(?:^|/)([^/]+)/([^/]+)/[^/]+\.png$")


@functools.lru_cache(maxsize=4)  # one decode per process for each set of files and size
def read_background(
    paths: tuple[str, ...], digests: tuple[str, ...], image_size: int
) -> tuple[torch.Tensor, torch.Tensor, tuple[str, ...]]:
    """The images (N, 1, size, size), character index (N,) and character names
    ("Alphabet/characterNN") of the background zips at `paths` (`digests` name their
    contents, for the cache), by alphabet, character and file name. A character in several
    zips is read once, from the first: Lake's two minimal sets both hold Greek and Latin, the
    same 1,000 images."""
    by_character: dict[str, tuple[str, list[str]]] = {}
    for path in paths:
        with zipfile.ZipFile(path) as archive:
            found_here: dict[str, list[str]] = {}
            for member in sorted(archive.namelist()):
                found = CHARACTER_PNG.search(member)
                if found:
                    found_here.setdefault(f"{found[1]}/{found[2]}", []).append(member)
        for character, members in found_here.items():
            by_character.setdefault(character, (path, members))
    if not by_character:
        raise DatasetUnavailableError(f"no character images (.png) in {', '.join(paths)}")
    images, labels, names = [], [], tuple(sorted(by_character))
    archives = {path: zipfile.ZipFile(path) for path in paths}
    try:
        for label, character in enumerate(names):
            path, members = by_character[character]
            images.append(inked([archives[path].read(member) for member in members]))
            labels += [label] * len(members)
    finally:
        for archive in archives.values():
            archive.close()
    return resized(torch.cat(images), image_size), torch.tensor(labels), names


@functools.lru_cache(maxsize=4)
def read_runs(path: str, digest: str, image_size: int) -> OneShotRuns:
    """Lake's official runs from `all_runs.zip` (`digest` names its contents, for the cache):
    per run `runNN/`, `training/classNN.png` (the support, in file order), `test/itemNN.png`
    (the queries, in file order) and `class_labels.txt`, whose lines pair each test image with
    its class's training image."""
    supports, queries, answers = [], [], []
    with zipfile.ZipFile(path) as archive:
        members = sorted(archive.namelist())
        runs = sorted(m.split("/")[0] for m in members if m.endswith("/class_labels.txt"))
        for run in runs:
            training = [m for m in members if re.fullmatch(rf"{run}/training/[^/]+\.png", m)]
            test = [m for m in members if re.fullmatch(rf"{run}/test/[^/]+\.png", m)]
            lines = archive.read(f"{run}/class_labels.txt").decode().splitlines()
            pairs = dict(line.split() for line in lines if line.strip())
            supports.append(inked([archive.read(m) for m in training]))
            queries.append(inked([archive.read(m) for m in test]))
            answers.append(torch.tensor([training.index(pairs[m]) for m in test]))
    support, query = torch.stack(supports), torch.stack(queries)

    def size(x: torch.Tensor) -> torch.Tensor:
        return resized(x.flatten(0, 1), image_size).view(*x.shape[:2], 1, image_size, image_size)

    return OneShotRuns(size(support), size(query), torch.stack(answers))


def official_runs(
    folder: str | Path = "data/omniglot", image_size: int = NATIVE_SIZE
) -> OneShotRuns:
    """Lake et al.'s 20 official 20-way one-shot runs from `folder`/all_runs.zip (checked),
    ink 1 on background 0 at `image_size` (105: as released)."""
    path = Path(folder) / RUNS
    if not path.is_file():
        raise missing_files(Path(folder), [RUNS])
    return read_runs(str(path), verified(path), image_size)


@register("data")
class OmniglotDataModule(ClassBalancedDataModule):
    """Omniglot for one-shot learning, one class per character: `(image, character)` with
    images ink 1 on background 0 (not standardised), `image_size` square (28 by default, 105
    as released).

    - train: the background characters (`background="minimal"`: Lake's two small sets, in the
      repository, 242 distinct characters x 20 drawers; `"full"`: the 964 of torchvision's
      `Omniglot(background=True)`, downloaded into `data_dir` when `download`) but
      `val_characters` of them;
    - val: those `val_characters` characters, drawn by `split_seed`: one-shot episodes on
      characters never trained on, as at test;
    - test: Lake et al.'s 20 official runs, run by run its 20 training images (labels
      run * 20 + class) then its 20 test images (labelled with their class):
      `one_shot_runs()` serves them as runs, for `zoo.analysis.oneshot.official_accuracy`.

    The files are read from `root` (default `data_dir`/omniglot): images_background_small1.zip,
    images_background_small2.zip and all_runs.zip, each checked against Lake's sha256.
    `distortions` applies Koch et al.'s affine distortions (`KOCH`) to training batches,
    afresh each batch (`True` or 1.0; a number scales their ranges: 0.5 for half); validation
    and test images are never distorted. Training batches hold `classes_per_batch`
    characters x `batch_size / classes_per_batch` drawings.

    Loader options (`**loading`: batch sizes, `drop_last`): `zoo.data.base.LoaderOptions`;
    here `batch_size` 128 by default.
    """

    standardize_dims = None  # ink 1 on background 0, as the baselines and distortions read it

    def __init__(
        self,
        background: str = "minimal",
        data_dir: str = "data",
        root: str | None = None,
        image_size: int = 28,
        distortions: bool | float = False,
        val_characters: int = 32,
        split_seed: int = 0,
        download: bool = True,
        classes_per_batch: int = 32,
        **loading: Unpack[LoaderOptions],
    ) -> None:
        loading.setdefault("batch_size", 128)
        super().__init__(**loading)
        if background not in BACKGROUNDS:
            raise ValueError(f"data.background={background!r}: expected one of {BACKGROUNDS}")
        if not 12 <= image_size <= NATIVE_SIZE:
            raise ValueError(f"data.image_size must lie in [12, {NATIVE_SIZE}], got {image_size}")
        strength = float(distortions)
        if not 0 <= strength <= 2:
            raise ValueError(
                f"data.distortions={distortions!r}: expected true/false or a strength in [0, 2] "
                f"(1: Koch et al.'s ranges)"
            )
        characters = CHARACTERS[background]
        if not 20 <= val_characters <= characters - 20:
            raise ValueError(
                f"data.val_characters must lie in [20, {characters - 20}] (20-way validation "
                f"episodes, training classes left), got {val_characters}"
            )
        self.balance_batches(classes_per_batch, 20)
        self.background, self.data_dir, self.download = background, Path(data_dir), download
        self.root = Path(root) if root is not None else self.data_dir / "omniglot"
        self.image_size, self.split_seed = image_size, split_seed
        self.val_characters = val_characters
        self.distortions = KOCH.scaled(strength) if strength else None
        self.input_shape = (1, image_size, image_size)
        self.num_outputs = characters - val_characters
        self.prepare_data_per_node = False  # see prepare_data
        self.runs_shape = (20, 20, 20)  # runs, classes and queries per run: read in load_unit
        # each split's characters ("Alphabet/characterNN"), class by class: read in load_unit
        self.characters: dict[str, tuple[str, ...]] = {}

    def background_zips(self) -> tuple[list[Path], list[str]]:
        """The background zips to read and their digests: Lake's minimal sets, checked against
        their sha256, or the full set, checked against torchvision's md5 (and downloaded by
        torchvision first if need be)."""
        if self.background == "minimal":
            paths = [self.root / name for name in MINIMAL]
            absent = [p.name for p in paths if not p.is_file()]
            if not (self.root / RUNS).is_file():
                absent.append(RUNS)
            if absent:
                raise missing_files(self.root, absent)
            return paths, [verified(p) for p in paths]
        return [self.full_background()], [FULL_MD5]

    def full_background(self) -> Path:
        """`images_background.zip` in `data_dir`/omniglot-py, where torchvision's
        `datasets.Omniglot(background=True)` downloads it (when `download` and it is not there
        yet), checked against torchvision's md5; read as it is, zip and all."""
        from torchvision.datasets import Omniglot
        from torchvision.datasets.utils import check_integrity

        where = (self.data_dir / Omniglot.folder).resolve()
        path = where / FULL
        if not path.is_file() and self.download:
            try:
                Omniglot(str(self.data_dir), background=True, download=True)
            except (OSError, RuntimeError) as error:
                text = str(error).strip()
                reason = text.splitlines()[0].rstrip(".:") if text else type(error).__name__
                raise DatasetUnavailableError(
                    f"Omniglot's full background set could not be downloaded into {where} "
                    f"({reason}); without a network, copy {FULL} ({SOURCE}) into {where} and "
                    f"run again, or use data.background=minimal"
                ) from error
        if not path.is_file():
            raise DatasetUnavailableError(
                f"Omniglot's full background set was not found in {where} (download=false): "
                f"copy {FULL} ({SOURCE}) there, or use data.background=minimal"
            )
        if not check_integrity(str(path), FULL_MD5):
            raise DatasetUnavailableError(
                f"{path} is not Lake's {FULL} (its md5 is not torchvision's {FULL_MD5}): copy "
                f"it again from {SOURCE}"
            )
        return path

    def prepare_data(self) -> None:
        """Under DDP, the full set downloads in the first process while the others wait."""
        trainer = self.trainer
        if self.background == "full" and self.download and trainer and trainer.world_size > 1:
            self.full_background()

    def load_unit(self) -> dict[str, Split]:
        paths, digests = self.background_zips()
        runs = official_runs(self.root, self.image_size)
        images, labels, names = read_background(
            tuple(str(p) for p in paths), tuple(digests), self.image_size
        )
        characters = int(labels.max()) + 1
        generator = torch.Generator().manual_seed(self.split_seed)
        held_out = torch.zeros(characters, dtype=torch.bool)
        held_out[torch.randperm(characters, generator=generator)[: self.val_characters]] = True
        splits: dict[str, Split] = {}
        for split, chosen in (("train", ~held_out), ("val", held_out)):
            index = torch.full((characters,), -1, dtype=torch.long)
            index[chosen] = torch.arange(int(chosen.sum()))  # the split's own class numbers
            keep = chosen[labels]
            splits[split] = (images[keep], index[labels[keep]])
            self.characters[split] = tuple(
                n for n, c in zip(names, chosen.tolist(), strict=True) if c
            )
        count, ways = runs.support.shape[:2]
        self.runs_shape = (count, ways, runs.query.shape[1])
        offset = torch.arange(count)[:, None] * ways
        x = torch.cat([runs.support, runs.query], 1).flatten(0, 1)
        y = torch.cat([offset + torch.arange(ways), offset + runs.answer], 1).flatten()
        return copies(splits | {"test": (x, y)})

    def one_shot_runs(self) -> OneShotRuns:
        """The official runs as the test split serves them (model inputs, on the split's
        device): per run, its 20 training images, 20 test images and each test image's
        class (the index of its training image)."""
        self.setup()
        count, ways, queries = self.runs_shape
        x, y = self.splits["test"]
        x, y = x.view(count, ways + queries, *x.shape[1:]), y.view(count, ways + queries)
        offset = torch.arange(count, device=y.device)[:, None] * ways
        return OneShotRuns(x[:, :ways], x[:, ways:], y[:, ways:] - offset)

    def on_after_batch_transfer(
        self, batch: tuple[torch.Tensor, ...], dataloader_idx: int
    ) -> tuple[torch.Tensor, ...]:
        if self.distortions is None or not (self.trainer and self.trainer.training):
            return batch
        x, *rest = batch
        return (self.distortions(x), *rest)
