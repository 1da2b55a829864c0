"""Finding image files named on a command line: files, folders (walked, symlinks followed) and CSV lists."""

from __future__ import annotations

from collections.abc import Sequence

from data_utils.csv_table import RowChecks, read_image_csv
from data_utils.errors import DataError, RowProblem
from data_utils.folders import walk_images
from data_utils.images.signatures import quick_check
from resnet_tf.console import files


def _from_csv(path: str) -> tuple[list[str], list[RowProblem]]:
    try:
        table = read_image_csv(path, require_labels=False, checks=RowChecks(skip_bad_rows=True))
    except DataError as err:  # a problem with the file itself (empty, no path column)
        return [], err.problems
    return table.paths, table.skipped


def find_images(inputs: Sequence[str]) -> tuple[list[str], list[RowProblem]]:
    """The image files that ``inputs`` name (an image file, a folder, or a CSV with a ``path`` column), in
    order and without repeats, and the problems met (missing or unreadable files), which are not fatal."""
    paths, problems = [], []
    for item in inputs:
        if files.isdir(item):
            found = walk_images(item)
            if not found:
                problems.append(RowProblem(item, 0, "", "no image files in this folder"))
            paths.extend(files.absolute(p) for p in found)
        elif item.lower().endswith(".csv"):
            found, bad = _from_csv(item)
            paths.extend(found)
            problems.extend(bad)
        else:
            reason = quick_check(item)
            if reason:
                problems.append(RowProblem(item, 0, "", reason))
            else:
                paths.append(files.absolute(item))
    return list(dict.fromkeys(paths)), problems
