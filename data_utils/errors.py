"""Reporting bad input: one record per problem (file, line, path, reason) and an error that lists them."""

from __future__ import annotations

import csv
import dataclasses
import os

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


class DataError(ValueError):
    """Bad input data. ``problems`` holds every problem found; the message shows the first few."""

    def __init__(self, problems: list[RowProblem], hint: str = ""):
        self.problems = list(problems)
        shown = "\n  ".join(str(p) for p in self.problems[:MAX_REPORTED_PROBLEMS])
        more = len(self.problems) - MAX_REPORTED_PROBLEMS
        tail = f"\n  ... and {more} more" if more > 0 else ""
        noun = "problem" if len(self.problems) == 1 else "problems"
        super().__init__(f"{len(self.problems)} {noun} in the input data:\n  {shown}{tail}" + (f"\n{hint}" if hint else ""))


def write_problems(problems: list[RowProblem], out_path: str | os.PathLike) -> None:
    """Writes every problem to a CSV file (``csv,line,path,reason``)."""
    os.makedirs(os.path.dirname(os.fspath(out_path)) or ".", exist_ok=True)
    with open(out_path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["csv", "line", "path", "reason"])
        for p in problems:
            writer.writerow([p.csv_path, p.line, p.path, p.reason])
