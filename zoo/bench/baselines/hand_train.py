"""`python train.py`'s default run written by hand in plain PyTorch: the yardstick of the
benchmark's whole-process rows.

    python -m zoo.bench.baselines.hand_train OUT_DIR [EPOCHS]

The same work as `experiment=cnn_digits`: the digits' 40/10/50 stratified split, standardised
with the training split's statistics, the zoo's `cnn` (built by `zoo.create_model`, which
imports torch alone), Adam 1e-3 with cosine decay per epoch, batch 64 in the zoo's epoch
order, validation each epoch with early stopping (patience 10), the best and the last
checkpoint, a CSV log, then the test split on the best weights. It writes metrics.json, as train.py does.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import numpy as np
import torch


def digits_split() -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 16.0
    y = torch.tensor(digits.target)
    index = torch.arange(len(y))
    rest, test = train_test_split(index, test_size=0.5, stratify=y, random_state=0)
    train, val = train_test_split(rest, test_size=0.2, stratify=y[rest], random_state=0)
    mean, std = x[train].mean(), x[train].std()
    return {
        k: ((x[i] - mean) / std, y[i]) for k, i in (("train", train), ("val", val), ("test", test))
    }


def epoch_order(n: int, epoch: int, seed: int = 0) -> torch.Tensor:
    state = np.random.SeedSequence([seed, epoch]).generate_state(1, np.uint64)[0] >> 1
    return torch.randperm(n, generator=torch.Generator().manual_seed(int(state)))


@torch.no_grad()
def evaluate(net: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    net.eval()
    logits = net(x)
    net.train()
    loss = torch.nn.functional.cross_entropy(logits, y)
    return float(loss), float((logits.argmax(1) == y).float().mean())


def main(out: Path, epochs: int = 30) -> None:
    import zoo

    torch.manual_seed(0)
    splits = digits_split()
    net = zoo.create_model("cnn")
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    (out / "checkpoints").mkdir(parents=True, exist_ok=True)
    x, y = splits["train"]
    best, waited = float("inf"), 0
    with (out / "metrics.csv").open("w", newline="") as f:
        log = csv.writer(f)
        log.writerow(["epoch", "train/loss", "val/loss", "val/acc"])
        for epoch in range(epochs):
            total = torch.zeros(())
            for index in epoch_order(len(x), epoch).split(64):
                optimizer.zero_grad(set_to_none=True)
                loss = torch.nn.functional.cross_entropy(net(x[index]), y[index])
                loss.backward()
                optimizer.step()
                total += loss.detach() * len(index)
            scheduler.step()
            val_loss, val_acc = evaluate(net, *splits["val"])
            log.writerow([epoch, float(total) / len(x), val_loss, val_acc])
            state = {"state_dict": net.state_dict(), "optimizer": optimizer.state_dict()}
            torch.save(state | {"epoch": epoch}, out / "checkpoints" / "last.pt")
            if val_loss < best:
                best, waited = val_loss, 0
                torch.save(state, out / "checkpoints" / "best.pt")
            elif (waited := waited + 1) >= 10:
                break
    net.load_state_dict(
        torch.load(out / "checkpoints" / "best.pt", weights_only=True)["state_dict"]
    )
    test_loss, test_acc = evaluate(net, *splits["test"])
    metrics = {"test/acc": test_acc, "test/loss": test_loss, "train/loss": float(total) / len(x)}
    (out / "metrics.json").write_text(json.dumps(metrics))


if __name__ == "__main__":
    main(Path(sys.argv[1]), *(int(a) for a in sys.argv[2:3]))
