"""Train a zoo model from a clone: `python train.py experiment=cnn_digits optimizer.lr=3e-3`.

The same entry point as the installed `zoo-train` (`zoo/train.py`); configs live in `zoo/conf`.
"""

from zoo.train import main

if __name__ == "__main__":
    main()
