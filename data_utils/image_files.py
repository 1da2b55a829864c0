"""Finding image files named on a command line: files, folders (walked, symlinks followed) and CSV lists."""

from __future__ import annotations

import os
from typing import Sequence

from data_utils.csv_table import read_image_csv
from data_utils.errors import DataError, RowProblem
from data_utils.images import quick_check

# Endings of the files a folder walk picks up (case-insensitive): what OpenCV and TensorFlow both decode,
# plus TIFF and WebP, which OpenCV reads.
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp")


def is_image_name(path: str) -> bool:
    """Whether a file name ends like an image file."""
    return path.lower().endswith(IMAGE_EXTENSIONS)


def walk_folder(folder: str) -> tuple[list[str], int]:
    """The image files under ``folder`` (following symbolic links, each real folder once, so a link
    to a parent folder does not loop), sorted, and how many other files there are."""
    found, others, seen = [], 0, set()
    for root, dirs, files in os.walk(folder, followlinks=True):
        real = os.path.realpath(root)
        if real in seen:
            dirs[:] = []
            continue
        seen.add(real)
        dirs.sort()
        images = [name for name in sorted(files) if is_image_name(name)]
        found.extend(os.path.join(root, name) for name in images)
        others += len(files) - len(images)
    return found, others


def walk_images(folder: str) -> list[str]:
    """Image files under ``folder`` (following symbolic links), sorted."""
    return walk_folder(folder)[0]


def _from_csv(path: str) -> tuple[list[str], list[RowProblem]]:
    try:
        table = read_image_csv(path, require_labels=False, skip_bad_rows=True)
    except DataError as err:  # a problem with the file itself (empty, no path column)
        return [], err.problems
    return table.paths, table.skipped


def find_images(inputs: Sequence[str]) -> tuple[list[str], list[RowProblem]]:
    """The image files that ``inputs`` name (an image file, a folder, or a CSV with a ``path`` column), in
    order and without repeats, and the problems met (missing or unreadable files), which are not fatal."""
    paths, problems = [], []
    for item in inputs:
        if os.path.isdir(item):
            found = walk_images(item)
            if not found:
                problems.append(RowProblem(item, 0, "", "no image files in this folder"))
            paths.extend(os.path.abspath(p) for p in found)
        elif item.lower().endswith(".csv"):
            found, bad = _from_csv(item)
            paths.extend(found)
            problems.extend(bad)
        else:
            reason = quick_check(item)
            if reason:
                problems.append(RowProblem(item, 0, "", reason))
            else:
                paths.append(os.path.abspath(item))
    return list(dict.fromkeys(paths)), problems
