"""Shared fixtures: small real image files written with OpenCV and CSVs listing them."""

from __future__ import annotations

import csv
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from training.tf_env import apply_runtime_environment  # noqa: E402

apply_runtime_environment()  # the tests run TensorFlow as train.py and evaluate.py do

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def label_image(label: int, size: int = 40) -> np.ndarray:
    """A BGR image whose label is readable from its pixels: the red channel is 20 * label + 10."""
    image = np.zeros((size, size, 3), np.uint8)
    image[..., 2] = 20 * label + 10
    image[..., 1] = 100
    return image


def write_csv(path: str, rows: list, header=("path", "label")) -> str:
    """Writes rows (and a header unless None) as UTF-8 CSV."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        if header:
            writer.writerow(header)
        writer.writerows(rows)
    return path


def make_labelled_set(folder: str, num_classes: int = 3, per_class: int = 4, size: int = 40,
                      name: str = "train.csv") -> str:
    """Images under ``folder/img`` whose pixels encode the label, and a CSV listing them."""
    os.makedirs(os.path.join(folder, "img"), exist_ok=True)
    rows = []
    for label in range(num_classes):
        for i in range(per_class):
            rel = f"img/{label}_{i}.png"
            cv2.imwrite(os.path.join(folder, rel), label_image(label, size))
            rows.append((rel, label))
    return write_csv(os.path.join(folder, name), rows)


@pytest.fixture
def labelled_csv(tmp_path) -> str:
    """A 3-class, 12-image CSV of PNGs whose pixels encode the label."""
    return make_labelled_set(str(tmp_path))


@pytest.fixture(scope="session")
def demo_data(tmp_path_factory) -> tuple[str, str]:
    """A small demo data set (6 classes, 32 px), generated once per test session."""
    from data_utils.demo import make_demo_dataset
    out = str(tmp_path_factory.mktemp("demo"))
    return make_demo_dataset(out, num_classes=6, per_class=20, size=32, show_progress=False)
