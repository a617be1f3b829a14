"""Write shards to stream data larger than memory (`data=shards`), from a zoo dataset or a
folder of images.

zoo-shards --data digits --out shards/digits               # conf/data/digits.yaml
zoo-shards --data digits --out shards/parity target=parity # with data config overrides
zoo-shards --images photos --out shards/photos             # photos/{train,val[,test]}/<class>/*.png
python train.py data=shards data.path=shards/digits
"""

from __future__ import annotations

import argparse
import tempfile
from typing import Any

from zoo.cli.common import fail, or_exit, positive_int


def data_names() -> list[str]:
    """The data configs the zoo ships (`zoo/conf/data/*.yaml`)."""
    from zoo.training.run import CONF

    return sorted(p.stem for p in (CONF / "data").glob("*.yaml"))


def data_module(name: str, overrides: list[str]) -> Any:
    """The data module of `zoo/conf/data/<name>.yaml` with Hydra overrides (`target=parity`,
    `data.target=parity` or `paths.data_dir=...`), composed as train.py composes it."""
    from zoo.training.run import build_node, compose

    if name not in data_names():
        raise ValueError(f"--data {name!r}: no such data config; expected one of {data_names()}")
    own = ("data.", "paths.", "+", "~")
    overrides = [o if o.startswith(own) else f"data.{o}" for o in overrides]
    with tempfile.TemporaryDirectory() as output_dir:
        cfg = compose([f"data={name}", "~experiment", *overrides], output_dir)
    return build_node(cfg, "data")


def build_parser() -> argparse.ArgumentParser:
    """The `zoo-shards` command line (the documentation is generated from it)."""
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--data", help="a zoo data config name (conf/data/<name>.yaml)")
    source.add_argument("--images", help="a folder of <split>/<class>/<image> files")
    parser.add_argument("--out", required=True, help="the folder to write the shards to")
    parser.add_argument(
        "overrides", nargs="*", help="data config overrides for --data, e.g. target=parity"
    )
    parser.add_argument("--chunk-bytes", default="64MB", help="bytes per chunk (default 64MB)")
    parser.add_argument("--workers", type=positive_int, default=1, help="writer processes")
    parser.add_argument("--overwrite", action="store_true", help="replace earlier shards in --out")
    return parser


def main(argv: list[str] | None = None) -> None:
    from hydra.errors import HydraException

    from zoo.data.image_folder import shards_from_image_folder
    from zoo.data.shards import shards_from_datamodule

    args = build_parser().parse_args(argv)
    write = {"chunk_bytes": args.chunk_bytes, "workers": args.workers, "overwrite": args.overwrite}
    if args.images:
        if args.overrides:
            fail(f"{' '.join(args.overrides)}: overrides apply to --data, not to --images")
        meta = or_exit(lambda: shards_from_image_folder(args.images, args.out, **write))
    else:
        try:
            datamodule = or_exit(lambda: data_module(args.data, args.overrides))
        except HydraException as error:
            fail(error)
        described = " ".join([f"data={args.data}", *args.overrides])
        meta = or_exit(lambda: shards_from_datamodule(datamodule, args.out, described, **write))
    sizes = ", ".join(f"{split} {n}" for split, n in meta["splits"].items())
    print(
        f"wrote {args.out}: {sizes} samples of shape {meta['input_shape']} "
        f"({meta['problem']}, outputs: {meta['num_outputs']})\n"
        f"train with: python train.py data=shards data.path={args.out}"
    )


if __name__ == "__main__":
    main()
