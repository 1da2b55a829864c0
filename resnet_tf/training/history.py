"""``LOGDIR/history.csv``: one row per validation, for a spreadsheet, pandas or a plot without TensorBoard.

Columns (``COLUMNS``): the step and epoch, the training loss and accuracy since the previous validation,
the validation loss, top-1 and top-5, the learning rate, and the time (UTC, ISO 8601). A resumed run
appends to the file; rows after the step it resumed from (validated, then lost with an unsaved
checkpoint) are dropped first, so every step appears once.
"""

from __future__ import annotations

import csv
import datetime
import io
import os

from resnet_tf.console import files
from resnet_tf.console.errors import OutputError

COLUMNS = ("step", "epoch", "train_loss", "train_accuracy", "val_loss", "val_top1", "val_top5", "learning_rate", "time")
FILE_NAME = "history.csv"


class HistoryWriteError(OutputError):
    """history.csv could not be written."""


class History:
    """The rows of ``folder/history.csv``, appended one validation at a time (rewritten whole in object
    storage, which has no append: a reader there sees the file as of the last validation)."""

    def __init__(self, folder: str):
        self.path = os.path.join(folder, FILE_NAME)

    def rows(self) -> list[dict[str, str]]:
        """The rows written so far (none if there is no file)."""
        if not files.isfile(self.path):
            return []
        return list(csv.DictReader(io.StringIO(files.read_bytes(self.path).decode("utf-8"), newline="")))

    def resume_at(self, step: int) -> None:
        """Drops the rows after ``step``, the step a run resumes from."""
        rows = self.rows()
        kept = [r for r in rows if int(r["step"]) <= step]
        if len(kept) != len(rows):
            self._write(kept, "w")

    def append(self, row: dict) -> None:
        """Adds one validation's row (keys: ``COLUMNS`` except ``time``, which is now)."""
        now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        self._write([{**{k: _cell(v) for k, v in row.items()}, "time": now}], "a")

    def _write(self, rows: list[dict], mode: str) -> None:
        try:
            if files.is_remote(self.path) and mode == "a":
                rows, mode = self.rows() + rows, "w"
            new = mode == "w" or not files.isfile(self.path)
            text = io.StringIO()
            writer = csv.DictWriter(text, fieldnames=COLUMNS)
            if new:
                writer.writeheader()
            writer.writerows(rows)
            if mode == "w":
                files.write_atomic(self.path, text.getvalue())
            else:
                with open(self.path, "a", newline="", encoding="utf-8") as f:
                    f.write(text.getvalue())
        except OSError as err:
            raise HistoryWriteError(
                f"cannot write {self.path} ({err.strerror}); {files.what_to_check(self.path)} "
                "Fix it and rerun the same command to resume."
            ) from None


def _cell(value) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)
