"""Reading and checking the CSV that lists a data set: one row per image, a path and a label.

Format: a header naming the columns (``path,label`` by default) or no header and two columns
(path, label). Labels are integers ``0..C-1`` or class names (mapped to indices in sorted order).
Relative paths resolve against the CSV's folder, or against ``image_root``.

Checking is cheap (no decoding): the CSV's structure and labels, and for every image file that it
exists, is not empty, has an image signature, and (JPEG, PNG) is not truncated
(:func:`data_utils.images.signatures.quick_check`). Full decoding happens once, when the image is used; a file that
fails then is reported by path (see :mod:`data_utils.pipeline`). ``verify="full"`` decodes everything
up front instead.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import io
import logging
import os
from collections.abc import Sequence

import numpy as np

from data_utils.errors import DataError, RowProblem, write_problems
from data_utils.image_check import check_images
from resnet_tf.console import files

LABEL_KINDS = ("index", "name")
# Fields longer than this are not paths or labels; the csv module's own limit would raise mid-file.
MAX_FIELD_CHARS = 4096
DUPLICATES_SHOWN = 3  # repeated rows named in the warning
LOG = logging.getLogger(__name__)


@dataclasses.dataclass
class ClassMapping:
    """Class names in index order. ``kind`` is ``index`` (labels are written as integers) or ``name``."""

    names: list[str]
    kind: str

    @property
    def num_classes(self) -> int:
        return len(self.names)

    def to_json(self) -> dict:
        """A JSON-able dict, saved with a run so evaluation maps labels the same way."""
        return {"names": list(self.names), "kind": self.kind}

    @classmethod
    def from_json(cls, data: dict) -> ClassMapping:
        """Inverse of :meth:`to_json`."""
        return cls(list(data["names"]), data["kind"])

    @classmethod
    def indices(cls, num_classes: int) -> ClassMapping:
        """The mapping for integer labels ``0..num_classes-1``."""
        return cls([str(i) for i in range(num_classes)], "index")

    def lookup(self, label: str) -> tuple[int | None, str]:
        """Index of a label as written in a CSV, or ``(None, reason)``."""
        if self.kind == "index":
            value = _parse_int(label)
            if value is None:
                return None, f"label {label!r} is not an integer"
            if not 0 <= value < self.num_classes:
                return None, f"label {value} out of range 0..{self.num_classes - 1}"
            return value, ""
        index = self._index.get(label)
        if index is None:
            return None, f"unknown class {label!r} (not one of the run's {self.num_classes} classes)"
        return index, ""

    @functools.cached_property
    def _index(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.names)}


@dataclasses.dataclass
class ImageTable:
    """The checked rows of one CSV: absolute image paths, label indices (or None), and the mapping."""

    csv_path: str
    paths: list[str]
    lines: list[int]
    labels: np.ndarray | None
    mapping: ClassMapping | None
    skipped: list[RowProblem] = dataclasses.field(default_factory=list)

    def __len__(self) -> int:
        return len(self.paths)

    def class_counts(self) -> np.ndarray:
        """Number of images per class index (zeros included)."""
        return np.bincount(self.labels, minlength=self.mapping.num_classes)


def _parse_int(text: str) -> int | None:
    try:
        return int(text.strip())
    except ValueError:
        return None


def read_rows(csv_path: str) -> list[tuple[int, list[str]]]:
    """All non-blank rows with their starting line numbers; raises DataError on unreadable text."""
    if not files.isfile(csv_path):
        raise DataError([RowProblem(csv_path, 0, "", "CSV file not found")])
    raw = files.read_bytes(csv_path)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise DataError([RowProblem(csv_path, line, "", "not valid UTF-8 text")]) from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise DataError([RowProblem(csv_path, line, "", "NUL byte in the CSV (binary file?)")])
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows = []
    line = 1
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                rows.append((line, row))
            line = reader.line_num + 1
    except csv.Error as err:
        raise DataError([RowProblem(csv_path, reader.line_num or line, "", f"malformed CSV: {err}")]) from None
    if not rows:
        raise DataError([RowProblem(csv_path, 0, "", "the CSV file is empty")])
    return rows


def _columns(
    csv_path: str, first: list[str], path_column: str, label_column: str, require_labels: bool
) -> tuple[int, int | None, bool]:
    """(path column, label column or None, has header) from the first row."""
    header = [cell.strip() for cell in first]
    if path_column in header:
        label_index = header.index(label_column) if label_column in header else None
        if label_index is None and require_labels:
            raise DataError([RowProblem(csv_path, 1, "", f"missing column {label_column!r} (header: {header})")])
        return header.index(path_column), label_index, True
    looks_like_path = any(c in first[0] for c in "./\\")
    if looks_like_path and (len(first) == 2 or (len(first) == 1 and not require_labels)):
        return 0, (1 if len(first) == 2 else None), False
    raise DataError(
        [
            RowProblem(
                csv_path,
                1,
                "",
                f"missing columns: expected a header with {path_column!r} and {label_column!r}, "
                f"or two columns (path, label) without a header; first row is {header}",
            )
        ]
    )


def _label_kind(labels: Sequence[str]) -> str:
    """Integer labels when most labels parse as integers (the rest are then reported), else names."""
    integers = sum(_parse_int(label) is not None for label in labels)
    return "index" if integers * 2 > len(labels) else "name"


def build_mapping(labels: Sequence[str], num_classes: int | None = None) -> ClassMapping:
    """The class mapping a training CSV defines: integer labels -> ``0..C-1`` with C = ``num_classes``
    or the largest label + 1; class names -> their sorted order."""
    if _label_kind(labels) == "index":
        values = [v for v in (_parse_int(label) for label in labels) if v is not None and v >= 0]
        return ClassMapping.indices(num_classes or (max(values) + 1 if values else 1))
    names = sorted({label.strip() for label in labels if label.strip() and _parse_int(label) is None})
    return ClassMapping(names, "name")


def _resolve(base: str, path: str) -> str:
    if "://" not in base and "://" not in path:  # local: the common case, kept as short as it was
        return os.path.normpath(os.path.join(base, os.path.expanduser(path)))
    return files.normalize(path if files.is_remote(path) else files.join(base, path))


@dataclasses.dataclass(frozen=True)
class CsvColumns:
    """Where a CSV keeps its data: the names of the path and label columns (when it has a header), and the
    folder relative image paths resolve against (None: the CSV's own folder)."""

    path: str = "path"
    label: str = "label"
    image_root: str | None = None


@dataclasses.dataclass(frozen=True)
class RowChecks:
    """How rows are checked. ``skip_bad_rows``: drop bad rows (listed in ``ImageTable.skipped`` and, with
    ``bad_rows_file``, written there) instead of raising. ``verify``: ``quick`` (no decoding, see the
    module's docstring) or ``full`` (decode every image now). ``check_cache``: a file where the quick check
    keeps the size and modification time of the files that passed, so that checking the same files again
    (a resumed run) does not open the unchanged ones."""

    skip_bad_rows: bool = False
    bad_rows_file: str | None = None
    verify: str = "quick"
    check_cache: str | None = None


def _parse_row(
    csv_path: str,
    line: int,
    row: list[str],
    layout: tuple[int, int | None, int],
    mapping: ClassMapping | None,
    base: str,
) -> tuple[RowProblem | None, tuple | None]:
    """One row: its problem, or ``(line, path as written, resolved path, label index)``. ``layout``: the path
    column, the label column (or None) and the columns a row must have."""
    path_index, label_index, width = layout
    raw_path = row[path_index].strip() if len(row) > path_index else ""
    if len(row) < width:
        return RowProblem(csv_path, line, raw_path, f"expected at least {width} columns, got {len(row)}"), None
    if any(len(cell) > MAX_FIELD_CHARS for cell in row):
        return RowProblem(csv_path, line, "", f"field longer than {MAX_FIELD_CHARS} characters"), None
    if not raw_path:
        return RowProblem(csv_path, line, "", "empty image path"), None
    label, reason = mapping.lookup(row[label_index].strip()) if label_index is not None else (None, "")
    if reason:
        return RowProblem(csv_path, line, raw_path, reason), None
    return None, (line, raw_path, _resolve(base, raw_path), label)


def read_image_csv(
    csv_path: str | os.PathLike,
    mapping: ClassMapping | None = None,
    num_classes: int | None = None,
    columns: CsvColumns = CsvColumns(),
    require_labels: bool = True,
    checks: RowChecks = RowChecks(),
) -> ImageTable:
    """Reads and checks an image CSV.

    Args:
      mapping: the training run's class mapping (for validation/evaluation CSVs); None derives one from
        this CSV (see :func:`build_mapping`).
      num_classes: for integer labels without a mapping, the class count (default: largest label + 1).
      columns: the CSV's column names and image root.
      require_labels: False accepts a CSV with a path column only (prediction without scoring).
      checks: how rows are checked and bad ones handled.

    Raises:
      DataError: listing every problem with its line, unless ``checks.skip_bad_rows`` (a problem with the
        file itself, such as a missing column, is raised in any case).
    """
    csv_path = os.fspath(csv_path)
    rows = read_rows(csv_path)
    path_index, label_index, has_header = _columns(csv_path, rows[0][1], columns.path, columns.label, require_labels)
    body = rows[1:] if has_header else rows
    if not body:
        raise DataError([RowProblem(csv_path, 0, "", "the CSV has a header but no rows")])
    width = max(path_index, label_index or 0) + 1
    raw_labels = [row[label_index] for _, row in body if label_index is not None and len(row) >= width]
    if label_index is not None and mapping is None:
        mapping = build_mapping(raw_labels, num_classes)
    base = columns.image_root if columns.image_root is not None else os.path.dirname(files.absolute(csv_path))
    parsed = [_parse_row(csv_path, line, row, (path_index, label_index, width), mapping, base) for line, row in body]
    problems, kept = [p for p, _ in parsed if p], [e for p, e in parsed if not p]
    bad_images = check_images(
        [(line, raw, path) for line, raw, path, _ in kept], csv_path, checks.verify, checks.check_cache
    )
    problems = sorted(problems + bad_images, key=lambda p: p.line)
    if problems and not checks.skip_bad_rows:
        raise DataError(problems, hint="Fix these rows, or pass --skip-bad-rows to skip them.")
    if problems and checks.bad_rows_file:
        write_problems(problems, checks.bad_rows_file)
    bad_lines = {p.line for p in bad_images}
    kept = [k for k in kept if k[0] not in bad_lines]
    if not kept:
        raise DataError(problems + [RowProblem(csv_path, 0, "", "no usable rows left")])
    labels = np.array([k[3] for k in kept], dtype=np.int32) if label_index is not None else None
    report_duplicates(csv_path, [(line, raw) for line, raw, _, _ in kept], [k[2] for k in kept])
    return ImageTable(csv_path, [k[2] for k in kept], [k[0] for k in kept], labels, mapping, problems)


def report_duplicates(
    csv_path: str, rows: list[tuple[int, str]], paths: list[str], shown: int = DUPLICATES_SHOWN
) -> int:
    """Warns when rows list an image that an earlier row lists too (count and first lines); such rows are
    used as listed (an image listed twice weighs twice). Returns how many there are."""
    first: dict[str, int] = {}
    repeats = []
    for (line, raw), path in zip(rows, paths):
        if path in first:
            repeats.append(f"line {line} ({raw}) repeats line {first[path]}")
        else:
            first[path] = line
    if repeats:
        more = f"; and {len(repeats) - shown} more" if len(repeats) > shown else ""
        LOG.warning(
            "%s: %d rows list an image an earlier row lists (they are used as listed, so it counts more): %s%s",
            csv_path,
            len(repeats),
            "; ".join(repeats[:shown]),
            more,
        )
    return len(repeats)
