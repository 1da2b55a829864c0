"""What a validation shows besides its scalars: the confusion matrix, the most confident mistakes and the
per-class accuracy, as TensorBoard images and text under the ``val`` run (and, for evaluate.py, as files).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from data_utils import ImageTable
from data_utils.images import decode_image, resize
from training.evaluation import confusion_matrix
from training.events import EventLog
from training.plots import confusion_figure, figure_rgb, image_grid_figure

MAX_MISTAKES = 24     # images in the grid of misclassified validation images
MISTAKE_SIDE = 96     # their side in the grid, in pixels (small images are enlarged to be seen)
TABLE_ROWS = 100      # classes in the per-class table (worst first)


def per_class_frame(matrix: np.ndarray, names: list[str]) -> pd.DataFrame:
    """Per-class support and accuracy, worst first."""
    support = matrix.sum(axis=1)
    correct = np.diag(matrix)
    frame = pd.DataFrame({"class": names, "support": support,
                          "accuracy": np.where(support > 0, correct / np.maximum(support, 1), np.nan)})
    return frame.sort_values(["accuracy", "class"], na_position="last").reset_index(drop=True)


def markdown_table(frame: pd.DataFrame, rows: int = TABLE_ROWS) -> str:
    """The per-class table as Markdown, which TensorBoard's Text tab renders as a table."""
    lines = ["| class | images | accuracy |", "|---|---:|---:|"]
    for name, support, accuracy in frame.head(rows).itertuples(index=False, name=None):
        lines.append(f"| {name} | {support} | {'' if np.isnan(accuracy) else f'{accuracy:.3f}'} |")
    if len(frame) > rows:
        lines.append(f"| ... {len(frame) - rows} more classes | | |")
    return "\n".join(lines)


def mistakes(labels: np.ndarray, probs: np.ndarray, mask: np.ndarray, limit: int = MAX_MISTAKES) -> np.ndarray:
    """Rows of the misclassified images among ``mask``, the most confident mistakes first (at most ``limit``)."""
    predicted = probs.argmax(axis=1)
    wrong = np.flatnonzero(mask & (predicted != labels))
    order = np.argsort(-probs[wrong, predicted[wrong]], kind="stable")
    return wrong[order][:limit]


def mistakes_grid(table: ImageTable, rows: np.ndarray, probs: np.ndarray, names: list[str]) -> np.ndarray:
    """The images of ``rows`` captioned with their true and predicted class, as one RGB image."""
    images, captions = [], []
    for row in rows:
        predicted = int(probs[row].argmax())
        images.append(resize(decode_image(table.paths[row]), MISTAKE_SIDE))
        captions.append(f"{names[table.labels[row]]}\n-> {names[predicted]} {probs[row, predicted]:.2f}")
    return figure_rgb(image_grid_figure(images, captions))


def write_validation_report(events: EventLog, step: int, table: ImageTable, probs: np.ndarray, mask: np.ndarray,
                            names: list[str]) -> np.ndarray:
    """Writes the confusion matrix, the grid of mistakes and the per-class table under ``val`` at ``step``
    (rows whose image did not decode, ``mask`` False, left out); returns the confusion matrix."""
    predicted = probs.argmax(axis=1)
    matrix = confusion_matrix(table.labels[mask], predicted[mask], len(names))
    events.image("val", step, "confusion_matrix", figure_rgb(confusion_figure(matrix, names, f"step {step}")),
                 "row-normalized: each true class's images by predicted class")
    rows = mistakes(table.labels, probs, mask)
    if len(rows):
        events.image("val", step, "misclassified", mistakes_grid(table, rows, probs, names),
                     f"the {len(rows)} most confident mistakes: true class, then predicted class and its probability")
    events.text("val", step, "per_class_accuracy", markdown_table(per_class_frame(matrix, names)))
    return matrix
