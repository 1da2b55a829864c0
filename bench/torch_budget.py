"""The PyTorch reference of ``bench/time_to_accuracy.py``: one run in a process of its own, as a user of
torchvision's classification reference would train this network on small images within a time budget.

    python bench/torch_budget.py --train-csv T --val-csv V --test-csv X --minutes 10 --seed 0 [--width 32 ...]

The recipe is torchvision's reference (``references/classification/train.py``): SGD with momentum 0.9, its
learning rate 0.1, weight decay 1e-4, cosine annealing to 0, no label smoothing; with the small-image
augmentation a user picks for 32 px photos (4-pixel padding, random crop back, horizontal flip: the CIFAR
recipe). The network is ``bench/torch_resnet.py``'s ResNet-18 of the same width and stem as the port's run.
Images are decoded with OpenCV by a ``DataLoader`` (one worker), as torchvision's ``ImageFolder`` decodes
them per epoch. The run is sized to its budget the way the port sizes its own: 20 timed steps after the
first six, and a validation; from their pace, a twentieth of the budget's steps left to settle and as many
timed; then as many steps as fit in 97% of the time left. The best validation
checkpoint (kept in memory) is scored on the test CSV. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import time

import cv2
import numpy as np
import pandas as pd
import torch
from torch import nn
from torch_resnet import ResNet

CALIBRATION_STEPS, WARMUP_STEPS, PLANNED_SHARE, SETTLING_SHARE = 20, 5, 0.97, 0.05  # as resnet_tf/training/budget.py
MEASURED_AFTER = 1 + WARMUP_STEPS + CALIBRATION_STEPS
MEAN, STD = np.array([0.485, 0.456, 0.406]) * 255, np.array([0.229, 0.224, 0.225]) * 255  # ImageNet's, RGB


class CsvImages(torch.utils.data.Dataset):
    """The images of a ``path,label`` CSV (paths relative to its folder), as normalized CHW float tensors
    at ``size`` px; ``train`` adds the pad-4 crop and the flip."""

    def __init__(self, csv: str, classes: list[str], size: int, train: bool):
        table = pd.read_csv(csv)
        self.paths = [os.path.join(os.path.dirname(csv), p) for p in table["path"]]
        self.labels = [classes.index(c) for c in table["label"]]
        self.size, self.train = size, train

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        image = cv2.imread(self.paths[i], cv2.IMREAD_COLOR)[:, :, ::-1]
        image = cv2.resize(image, (self.size, self.size), interpolation=cv2.INTER_AREA)
        if self.train:
            padded = cv2.copyMakeBorder(image, 4, 4, 4, 4, cv2.BORDER_REFLECT_101)
            y, x = torch.randint(0, 9, (2,)).tolist()  # torch's generator: seeded anew per worker and epoch
            image = padded[y : y + self.size, x : x + self.size]
            if torch.rand(()) < 0.5:
                image = image[:, ::-1]
        return torch.from_numpy(((image - MEAN) / STD).transpose(2, 0, 1).astype(np.float32)), self.labels[i]


def top1(model: nn.Module, loader: torch.utils.data.DataLoader) -> float:
    """The model's top-1 on every image of ``loader``."""
    model.eval()
    right = total = 0
    with torch.no_grad():
        for x, y in loader:
            right += int((model(x.to(memory_format=torch.channels_last)).argmax(1) == y).sum())
            total += len(y)
    model.train()
    return right / total


def endless(loader: torch.utils.data.DataLoader):
    """The loader's batches, epoch after epoch."""
    while True:
        yield from loader


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for name in ("--train-csv", "--val-csv", "--test-csv"):
        p.add_argument(name, required=True)
    p.add_argument("--minutes", type=float, required=True, help="the time budget, from the start of training")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--width", type=int, default=32)
    p.add_argument("--image-size", type=int, default=32)
    p.add_argument("--stem", default="small")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--weight-decay", type=float, default=1e-4)
    p.add_argument("--epoch-validations", type=int, default=1, help="validations per epoch")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Trains within the budget, scores the best validation weights on the test CSV, prints a JSON line."""
    args = parse(argv)
    started = time.monotonic()
    torch.manual_seed(args.seed)
    torch.set_num_threads(os.cpu_count() or 1)
    classes = sorted(set(pd.read_csv(args.train_csv)["label"]))

    def loader(csv: str, train: bool) -> torch.utils.data.DataLoader:
        data = CsvImages(csv, classes, args.image_size, train)
        generator = torch.Generator().manual_seed(args.seed)
        return torch.utils.data.DataLoader(
            data,
            args.batch_size,
            shuffle=train,
            drop_last=train,
            num_workers=1,
            generator=generator,
            persistent_workers=True,
        )

    train, val, test = loader(args.train_csv, True), loader(args.val_csv, False), loader(args.test_csv, False)
    if len(train) == 0:  # whole batches only: an epoch of none would never end the run
        raise SystemExit(f"{args.train_csv}: fewer images than one batch of --batch-size {args.batch_size}")
    model = ResNet(18, args.width, len(classes), args.stem).to(memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(model.parameters(), args.lr, momentum=0.9, weight_decay=args.weight_decay)
    every = max(1, len(train) // args.epoch_validations)
    total, best, step, timed_from, val_seconds = None, (-1.0, None), 0, None, None
    window = (1 + WARMUP_STEPS, MEASURED_AFTER)  # timed after, up to: the port's first window, then its second
    for x, y in endless(train):
        if total is not None:
            progress = min(step / total, 1.0)
            for group in optimizer.param_groups:
                group["lr"] = args.lr * 0.5 * (1 + math.cos(math.pi * progress))
        loss = nn.functional.cross_entropy(model(x.to(memory_format=torch.channels_last)), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        step += 1
        if step == window[0]:
            timed_from = time.monotonic()
        validate = step % every == 0 or step == total or (total is None and step == MEASURED_AFTER)
        if validate:
            start = time.monotonic()
            accuracy = top1(model, val)
            val_seconds = time.monotonic() - start
            timed_from += val_seconds if total is None and timed_from is not None else 0
            if accuracy > best[0]:
                best = (accuracy, copy.deepcopy(model.state_dict()))
        if total is None and step == window[1]:
            now = time.monotonic()
            per_step = (now - timed_from) / (window[1] - window[0]) + val_seconds / every
            settling = int(SETTLING_SHARE * args.minutes * 60 / per_step)
            if step == MEASURED_AFTER and settling >= CALIBRATION_STEPS:
                window = (step + settling, step + 2 * settling)
                continue
            left = (args.minutes * 60 - (now - started)) * PLANNED_SHARE - val_seconds
            total = step + max(1, int(left // per_step))
        if total is not None and step >= total:
            break
    seconds = time.monotonic() - started
    model.load_state_dict(best[1])
    print(
        json.dumps(
            {
                "top1": round(top1(model, test), 4),
                "val_top1": round(best[0], 4),
                "steps": step,
                "train_seconds": round(seconds, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
