"""Plots a person would rather look at than read: as PNG files, or as RGB arrays for TensorBoard."""

from __future__ import annotations

import io
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")  # no display on a training server
import matplotlib.pyplot as plt
import numpy as np

from resnet_tf.console import files


def confusion_figure(
    matrix: np.ndarray,
    names: list[str],
    title: str = "",
    side: float = 0.0,
    fontsize: int = 0,
    row_totals: np.ndarray | None = None,
) -> plt.Figure:
    """Row-normalized confusion matrix (true class per row), readable up to ~60 classes as a file; ``side``
    (inches) and ``fontsize`` follow the class count unless given. ``row_totals``: the images of each true
    class, when ``matrix`` shows only some of the predicted classes."""
    n = len(names)
    rows = (matrix.sum(axis=1) if row_totals is None else np.asarray(row_totals))[:, np.newaxis]
    normalized = np.divide(matrix, rows, out=np.zeros(matrix.shape, float), where=rows > 0)
    side = side or max(6.0, 0.22 * n + 3)
    fig, ax = plt.subplots(figsize=(side * 1.15 if side < 6 else side + 1.5, side))
    image = ax.imshow(normalized, cmap="Blues", vmin=0, vmax=1)
    fontsize = fontsize or (8 if n <= 30 else 6)
    ax.set_xticks(range(n), names, rotation=90, fontsize=fontsize)
    ax.set_yticks(range(n), names, fontsize=fontsize)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    if n <= 20:
        for i, j in zip(*np.nonzero(matrix)):
            ax.text(
                j,
                i,
                str(matrix[i, j]),
                ha="center",
                va="center",
                fontsize=min(fontsize, 8),
                color="white" if normalized[i, j] > 0.5 else "black",
            )
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="fraction of the true class")
    ax.set_title(title, fontsize=fontsize + 1)
    fig.tight_layout()
    return fig


def most_confused(matrix: np.ndarray, count: int) -> np.ndarray:
    """The ``count`` classes most involved in mistakes (as the true or the predicted class), in class order."""
    off = matrix - np.diag(np.diag(matrix))
    involvement = off.sum(axis=0) + off.sum(axis=1)
    return np.sort(np.argsort(-involvement, kind="stable")[:count])


def confusion_thumbnail(
    matrix: np.ndarray, names: list[str], title: str = "", classes: int = 12, label_chars: int = 14
) -> np.ndarray:
    """The confusion matrix as TensorBoard shows an image by default (about 350 pixels wide), legible there:
    all classes when there are at most ``classes``, else the rows and columns of the ``classes`` most
    confused ones (the whole matrix is evaluate.py's PNG file). Names are cut to ``label_chars``."""
    keep = np.arange(len(names)) if len(names) <= classes else most_confused(matrix, classes)
    shown = [shortened(names[i], label_chars) for i in keep]
    if len(keep) < len(names):
        title = f"{title}: the {len(keep)} most confused of {len(names)} classes".lstrip(": ")
    fig = confusion_figure(
        matrix[np.ix_(keep, keep)], shown, title, side=4.4, fontsize=9, row_totals=matrix.sum(axis=1)[keep]
    )
    return figure_rgb(fig, dpi=80)


def plot_confusion_matrix(matrix: np.ndarray, names: list[str], path: str, title: str = "") -> None:
    """:func:`confusion_figure` written to ``path`` as a PNG."""
    save_png(confusion_figure(matrix, names, title), path)


def accuracy_matrix_figure(rows: np.ndarray, labels: list[str], tasks: list[str], title: str = "") -> plt.Figure:
    """A lifelong run's accuracy matrix as a heatmap: one row per line of ``labels`` (before training, after
    task 1, ...), one column per task, each cell's top-1 written in it."""
    n_rows, n_cols = rows.shape
    fig, ax = plt.subplots(figsize=(max(4.5, 0.62 * n_cols + 3.2), max(3.0, 0.42 * n_rows + 1.6)))
    image = ax.imshow(rows, cmap="viridis", vmin=0, vmax=1, aspect="auto")
    fontsize = 8 if n_cols <= 12 else 6
    for i, j in np.ndindex(rows.shape):
        ax.text(
            j,
            i,
            f"{rows[i, j]:.2f}",
            ha="center",
            va="center",
            fontsize=fontsize,
            color="black" if rows[i, j] > 0.6 else "white",
        )
    # numbered, and long enough that tasks named by one factor's levels ("illumination weak", ...) differ
    columns = [shortened(f"{j + 1} {t}", 22) for j, t in enumerate(tasks)]
    ax.set_xticks(range(n_cols), columns, rotation=60, ha="right", fontsize=fontsize)
    ax.set_yticks(range(n_rows), [shortened(label, 28) for label in labels], fontsize=fontsize)
    ax.set_xlabel("validation set of task")
    ax.set_ylabel("network after")
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="top-1")
    ax.set_title(title, fontsize=fontsize + 1)
    fig.tight_layout()
    return fig


def save_png(fig: plt.Figure, path: str, dpi: int = 110) -> None:
    """Writes ``fig`` to ``path`` as a PNG (atomically, any file system) and closes it."""
    png = io.BytesIO()
    fig.savefig(png, format="png", dpi=dpi)
    plt.close(fig)
    files.write_atomic(path, png.getvalue())


def shortened(text: str, chars: int) -> str:
    """``text`` cut to ``chars`` characters, with an ellipsis where it was cut."""
    return text if len(text) <= chars else text[: chars - 1] + "\u2026"


def image_grid(
    images: Sequence[np.ndarray], captions: Sequence[str], columns: int = 3, cell_width: int = 210, font_px: int = 13
) -> np.ndarray:
    """Equal-sized RGB images in a grid, each with its caption under it (one line of the caption per line,
    each cut to the cell's width), as one ``[H, W, 3]`` uint8 image at its natural size (one pixel per pixel:
    as legible as TensorBoard shows it). The images are placed as pixels and only the captions are drawn,
    which keeps it fast."""
    side_h, side_w = images[0].shape[:2]
    chars = int(max(cell_width, side_w) / (font_px * 0.62))  # DejaVu Sans: about 0.6 em per character
    captions = ["\n".join(shortened(line, chars) for line in caption.split("\n")) for caption in captions]
    lines = max(caption.count("\n") + 1 for caption in captions)
    rows, gap = max(1, -(-len(images) // columns)), 8
    band = lines * int(font_px * 1.35) + 6
    cell_h, cell_w = side_h + band + gap, max(cell_width, side_w) + gap
    canvas = np.full((rows * cell_h + gap, columns * cell_w + gap, 3), 255, np.uint8)
    for i, image in enumerate(images):
        top, left = gap + (i // columns) * cell_h, gap + (i % columns) * cell_w
        canvas[top : top + side_h, left : left + side_w] = image
    dpi = 100
    fig = plt.figure(figsize=(canvas.shape[1] / dpi, canvas.shape[0] / dpi), dpi=dpi)
    fig.figimage(canvas, 0, 0)
    for i, caption in enumerate(captions):
        top, left = gap + (i // columns) * cell_h + side_h + 3, gap + (i % columns) * cell_w
        fig.text(
            left / canvas.shape[1],
            1 - top / canvas.shape[0],
            caption,
            fontsize=font_px * 72 / dpi,
            va="top",
            ha="left",
            linespacing=1.2,
        )
    return figure_rgb(fig, dpi)


def figure_rgb(fig: plt.Figure, dpi: int = 80) -> np.ndarray:
    """The figure rendered as an ``[H, W, 3]`` uint8 array (and closed)."""
    fig.set_dpi(dpi)
    fig.canvas.draw()
    pixels = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
    plt.close(fig)
    return pixels
