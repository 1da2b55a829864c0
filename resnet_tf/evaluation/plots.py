"""Plots a person would rather look at than read: as PNG files, or as RGB arrays for TensorBoard."""

from __future__ import annotations

from typing import Sequence

import matplotlib

matplotlib.use("Agg")  # no display on a training server
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def confusion_figure(matrix: np.ndarray, names: list[str], title: str = "") -> plt.Figure:
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
    return fig


def plot_confusion_matrix(matrix: np.ndarray, names: list[str], path: str, title: str = "") -> None:
    """:func:`confusion_figure` written to ``path`` as a PNG."""
    fig = confusion_figure(matrix, names, title)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def image_grid_figure(images: Sequence[np.ndarray], captions: Sequence[str], columns: int = 6) -> plt.Figure:
    """RGB images in a grid, each with its caption above it (two short lines fit)."""
    rows = max(1, -(-len(images) // columns))
    fig, axes = plt.subplots(rows, columns, figsize=(1.9 * columns, 2.2 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, image, caption in zip(axes.flat, images, captions):
        ax.imshow(image, interpolation="nearest")
        ax.set_title(caption, fontsize=7)
    fig.tight_layout()
    return fig


def figure_rgb(fig: plt.Figure, dpi: int = 80) -> np.ndarray:
    """The figure rendered as an ``[H, W, 3]`` uint8 array (and closed)."""
    fig.set_dpi(dpi)
    fig.canvas.draw()
    pixels = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
    plt.close(fig)
    return pixels
