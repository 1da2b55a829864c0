"""Plots a person would rather look at than read."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # no display on a training server
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def plot_confusion_matrix(matrix: np.ndarray, names: list[str], path: str, title: str = "") -> None:
    """Row-normalized confusion matrix (true class per row), readable up to ~60 classes."""
    n = len(names)
    rows = matrix.sum(axis=1, keepdims=True)
    normalized = np.divide(matrix, rows, out=np.zeros(matrix.shape, float), where=rows > 0)
    side = max(6.0, 0.22 * n + 3)
    fig, ax = plt.subplots(figsize=(side + 1.5, side))
    image = ax.imshow(normalized, cmap="Blues", vmin=0, vmax=1)
    fontsize = 8 if n <= 30 else 6
    ax.set_xticks(range(n), names, rotation=90, fontsize=fontsize)
    ax.set_yticks(range(n), names, fontsize=fontsize)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    if n <= 20:
        for i, j in zip(*np.nonzero(matrix)):
            ax.text(j, i, str(matrix[i, j]), ha="center", va="center", fontsize=7,
                    color="white" if normalized[i, j] > 0.5 else "black")
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="fraction of the true class")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
