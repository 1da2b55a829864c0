"""The accuracy matrix of a task sequence and the figures drawn from it (Lopez-Paz and Ranzato, 2017, as the
OpenLORIS-Object benchmark reports them), and its record in the run folder.

``R[i][j]`` is the top-1 on task ``j``'s validation set after training through task ``i``; ``b[j]`` the top-1
of the network before any training (its initial weights). After task ``i`` (counted from 0):

- ACC = mean over ``j <= i`` of ``R[i][j]``: how good the network is on every task so far;
- BWT = mean over ``j < i`` of ``R[i][j] - R[j][j]``: what later tasks did to earlier ones (negative:
  forgetting);
- FWT = mean over ``0 < j <= i`` of ``R[j-1][j] - b[j]``: what earlier tasks did for a task not yet trained.

BWT and FWT are undefined after the first task (None).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import os

import numpy as np

from resnet_tf.console import files

MATRIX_FILE = "accuracy_matrix.csv"
BEFORE_ROW = "before training"  # the first row of the record: b, the untrained network


def sequence_figures(matrix: np.ndarray, before: np.ndarray, through: int) -> dict[str, float | None]:
    """ACC, BWT and FWT after task ``through`` (see the module's docstring); ``matrix`` has a row for every
    task trained so far (at least ``through + 1``) and a column for every task."""
    last = matrix[through, : through + 1]
    earlier = range(through)
    return {
        "acc": float(last.mean()),
        "bwt": float(np.mean([matrix[through, j] - matrix[j, j] for j in earlier])) if through else None,
        "fwt": float(np.mean([matrix[j - 1, j] - before[j] for j in range(1, through + 1)])) if through else None,
    }


@dataclasses.dataclass
class AccuracyRecord:
    """The accuracy matrix as far as it is known: the task names, ``before`` (b, or None until scored) and one
    row per task trained. Kept in ``LOGDIR/accuracy_matrix.csv`` (a row per line, a column per task)."""

    names: list[str]
    before: np.ndarray | None = None
    rows: list[np.ndarray] = dataclasses.field(default_factory=list)

    @property
    def matrix(self) -> np.ndarray:
        """The rows so far as a ``[trained, tasks]`` array."""
        return np.array(self.rows, np.float64).reshape(len(self.rows), len(self.names))

    def figures(self, through: int) -> dict[str, float | None]:
        """ACC, BWT and FWT after task ``through`` (:func:`sequence_figures`)."""
        return sequence_figures(self.matrix, self.before, through)

    def save(self, logdir: str) -> None:
        """Writes the record (whole, atomically)."""
        rows = ([[BEFORE_ROW, *self.before]] if self.before is not None else []) + [
            [name, *row] for name, row in zip(self.names, self.rows)
        ]
        files.write_csv(
            os.path.join(logdir, MATRIX_FILE),
            ["after", *self.names],
            [[label, *(f"{v:.6f}" for v in values)] for label, *values in rows],
        )

    @classmethod
    def load(cls, logdir: str, names: list[str] | None = None) -> AccuracyRecord:
        """The record in ``logdir`` (empty if there is none) of the tasks ``names`` (default: those it names).
        ValueError when it was made for other tasks."""
        path = os.path.join(logdir, MATRIX_FILE)
        if not files.isfile(path):
            return cls(list(names or []))
        table = list(csv.reader(io.StringIO(files.read_bytes(path).decode("utf-8"))))
        record = cls(list(names if names is not None else table[0][1:]))
        if table[0][1:] != record.names:
            raise ValueError(f"{path} records the tasks {', '.join(table[0][1:])}, not {', '.join(names)}")
        for label, *values in table[1:]:
            row = np.array([float(v) for v in values])
            if label == BEFORE_ROW:
                record.before = row
            else:
                record.rows.append(row)
        return record

    def table(self) -> str:
        """The matrix as aligned text, a row per line (the console, evaluate.py)."""
        width = max(len(n) for n in [*self.names, BEFORE_ROW])
        lines = ["after".ljust(width) + "".join(f"  {j + 1:>6d}" for j in range(len(self.names)))]
        labelled = ([(BEFORE_ROW, self.before)] if self.before is not None else []) + list(zip(self.names, self.rows))
        for label, row in labelled:
            lines.append(label.ljust(width) + "".join(f"  {v:6.3f}" for v in row))
        return "\n".join(lines)
