"""Bad input data: the problems of CSV rows and image files, each with its file and line, and their report.

A :class:`DataError` is a :class:`~resnet_tf.console.errors.UserError`: the scripts report it in one line
and exit with status 2.
"""

from __future__ import annotations

import dataclasses
import os

from resnet_tf.console import files
from resnet_tf.console.errors import UserError

MAX_REPORTED_PROBLEMS = 20


@dataclasses.dataclass(frozen=True)
class RowProblem:
    """One problem in a CSV: ``line`` is the 1-based line number in ``csv_path`` (0 for the whole file)."""

    csv_path: str
    line: int
    path: str
    reason: str

    def __str__(self) -> str:
        where = f"{self.csv_path}:{self.line}" if self.line else self.csv_path
        return f"{where}: {self.reason}" + (f" ({self.path})" if self.path else "")


class DataError(UserError, ValueError):
    """Bad input data. ``problems`` holds every problem found (at least one); the message shows the first few."""

    def __init__(self, problems: list[RowProblem], hint: str = ""):
        if not problems:
            raise TypeError("DataError needs at least one RowProblem")
        self.problems = list(problems)
        shown = "\n  ".join(str(p) for p in self.problems[:MAX_REPORTED_PROBLEMS])
        more = len(self.problems) - MAX_REPORTED_PROBLEMS
        tail = f"\n  ... and {more} more" if more > 0 else ""
        noun = "problem" if len(self.problems) == 1 else "problems"
        super().__init__(
            f"{len(self.problems)} {noun} in the input data:\n  {shown}{tail}" + (f"\n{hint}" if hint else "")
        )


def write_problems(problems: list[RowProblem], out_path: str | os.PathLike) -> None:
    """Writes every problem to a CSV file (``csv,line,path,reason``)."""
    files.write_csv(
        os.fspath(out_path),
        ["csv", "line", "path", "reason"],
        [[p.csv_path, p.line, p.path, p.reason] for p in problems],
    )
