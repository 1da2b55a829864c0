"""What predictions score: loss, top-k accuracy, the confusion matrix, per-class accuracy and the most
confused pairs of classes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from resnet_tf.losses import per_example_loss

TOP_CONFUSIONS = 10  # class pairs listed by confused_pairs


def topk_correct(logits: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Whether each label is among the ``k`` highest logits."""
    k = min(k, logits.shape[1])
    top = np.argpartition(-logits, k - 1, axis=1)[:, :k]
    return (top == labels[:, None]).any(axis=1)


def score(logits: np.ndarray, labels: np.ndarray, loss: str, num_classes: int, mask: np.ndarray | None = None) -> dict:
    """Mean loss, top-1 and top-5 accuracy over the rows in ``mask`` (all by default)."""
    if mask is not None:
        logits, labels = logits[mask], labels[mask]
    losses = per_example_loss(labels, logits, num_classes, loss).numpy()
    return {
        "loss": float(losses.mean()),
        "top1": float(topk_correct(logits, labels, 1).mean()),
        "top5": float(topk_correct(logits, labels, 5).mean()),
        "num_examples": len(labels),
    }


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray, num_classes: int) -> np.ndarray:
    """``[true, predicted]`` counts."""
    matrix = np.zeros((num_classes, num_classes), np.int64)
    np.add.at(matrix, (labels, predicted), 1)
    return matrix


def per_class_frame(matrix: np.ndarray, names: list[str]) -> pd.DataFrame:
    """Per-class support and accuracy, worst first."""
    support = matrix.sum(axis=1)
    correct = np.diag(matrix)
    frame = pd.DataFrame(
        {
            "class": names,
            "support": support,
            "accuracy": np.where(support > 0, correct / np.maximum(support, 1), np.nan),
        }
    )
    return frame.sort_values(["accuracy", "class"], na_position="last").reset_index(drop=True)


def confused_pairs(matrix: np.ndarray, names: list[str], n: int = TOP_CONFUSIONS) -> list[tuple[str, str, int]]:
    """The most frequent (true, predicted) mistakes."""
    off = matrix.copy()
    np.fill_diagonal(off, 0)
    flat = np.argsort(-off, axis=None)[:n]
    return [(names[i], names[j], int(off[i, j])) for i, j in zip(*np.unravel_index(flat, off.shape)) if off[i, j] > 0]
