"""What a validation shows besides its scalars: the confusion matrix, the most confident mistakes and the
per-class accuracy, as images and Markdown text, which training writes to TensorBoard under the ``val`` run.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from data_utils.csv_table import ImageTable
from data_utils.images.opencv import decode_image, resize
from resnet_tf.console.logs import printable
from resnet_tf.evaluation.metrics import confusion_matrix, per_class_frame
from resnet_tf.evaluation.plots import confusion_thumbnail, image_grid

# The grid of misclassified validation images fits the width TensorBoard shows an image at by default (about
# 350 pixels): two columns of 96-pixel images with their captions, one pixel per pixel.
MAX_MISTAKES = 8
MISTAKE_SIDE = 96
TABLE_ROWS = 100  # classes in the per-class table (worst first)


MARKDOWN_ESCAPES = {
    "\\": "\\\\",
    "|": "\\|",
    "*": "\\*",
    "_": "\\_",
    "`": "\\`",
    "[": "\\[",
    "]": "\\]",
    "<": "&lt;",
    ">": "&gt;",
    "&": "&amp;",
}


def markdown_cell(text: str) -> str:
    """``text`` as the content of one Markdown table cell: shown as it is (control characters as escapes, as
    on the console), in one cell of one row."""
    return "".join(MARKDOWN_ESCAPES.get(c, c) for c in printable(text))


def markdown_table(frame: pd.DataFrame, rows: int = TABLE_ROWS) -> str:
    """The per-class table as Markdown, which TensorBoard's Text tab renders as a table."""
    lines = ["| class | images | accuracy |", "|---|---:|---:|"]
    for name, support, accuracy in frame.head(rows).itertuples(index=False, name=None):
        lines.append(f"| {markdown_cell(name)} | {support} | {'' if np.isnan(accuracy) else f'{accuracy:.3f}'} |")
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
        captions.append(
            f"{printable(names[table.labels[row]])}\n-> {probs[row, predicted]:.2f} {printable(names[predicted])}"
        )
    return image_grid(images, captions, columns=2, cell_width=165)


@dataclasses.dataclass
class ValidationReport:
    """The pictures and tables of one validation: ``images`` as ``(tag, [H, W, 3] uint8, description)``,
    ``texts`` as ``(tag, Markdown)``."""

    images: list[tuple[str, np.ndarray, str]]
    texts: list[tuple[str, str]]


def validation_report(
    step: int, table: ImageTable, probs: np.ndarray, mask: np.ndarray, names: list[str]
) -> ValidationReport:
    """The confusion matrix, the grid of mistakes and the per-class table of the validation at ``step`` (rows
    whose image did not decode, ``mask`` False, left out)."""
    predicted = probs.argmax(axis=1)
    matrix = confusion_matrix(table.labels[mask], predicted[mask], len(names))
    images = [
        (
            "confusion_matrix",
            confusion_thumbnail(matrix, names, f"step {step}"),
            "row-normalized: each true class's images by predicted class",
        )
    ]
    rows = mistakes(table.labels, probs, mask)
    if len(rows):
        images.append(
            (
                "misclassified",
                mistakes_grid(table, rows, probs, names),
                f"the {len(rows)} most confident mistakes: true class, then predicted class and its probability",
            )
        )
    return ValidationReport(images, [("per_class_accuracy", markdown_table(per_class_frame(matrix, names)))])
