"""Turn a folder of images into the two CSVs training reads: ``ROOT/<class>/...`` -> train.csv, val.csv.

    python -m data_utils.make_csv ROOT --out DIR [--val-fraction 0.2] [--seed 0]

Every folder directly under ROOT is a class (its name is the label); the images anywhere below it
belong to it (symbolic links followed). Each class is split on its own (stratified), in a random order
drawn from the seed and the class name, so adding a class does not reshuffle the others; a class of two
or more images gets at least one validation image. A ROOT that already holds ``train/<class>`` and
``val/<class>`` (or ``validation/<class>``) keeps that split as it is. Paths are written relative to DIR,
so the folders can move together. Files that are not images are skipped and counted. Existing CSVs are
never overwritten.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import zlib
from collections.abc import Sequence

import numpy as np

from data_utils.choices import VAL_FRACTION
from data_utils.folders import is_image_name, real_path, walk_folder
from resnet_tf.console import files
from resnet_tf.console.errors import UserError, exit_status, write_failure
from resnet_tf.console.logs import printable, setup_logging
from resnet_tf.console.options import SHARED, add_shared
from resnet_tf.console.parser import script_parser

LOG = logging.getLogger(__name__)
SPLIT_FOLDERS = {"train": ("train",), "val": ("val", "validation")}
CSV_NAMES = {"train": "train.csv", "val": "val.csv"}


class FolderError(UserError, ValueError):
    """A folder that cannot be turned into CSVs (missing, no class folders, CSVs already there)."""


@dataclasses.dataclass
class FolderSplit:
    """Image paths per split and class (``train``/``val`` -> class -> paths), and what was left out."""

    images: dict[str, dict[str, list[str]]]
    skipped_files: int = 0
    loose_images: int = 0  # images directly in ROOT, outside any class folder
    kept_layout: bool = False  # ROOT had train/ and val/ folders already

    @property
    def classes(self) -> list[str]:
        """Every class name of either split, sorted."""
        return sorted(set(self.images["train"]) | set(self.images["val"]))


def scan_classes(folder: str) -> tuple[dict[str, list[str]], int, int]:
    """``{class: image paths}`` for the class folders of ``folder``, the number of non-image files skipped,
    and the number of images lying directly in ``folder`` (which belong to no class)."""
    entries = files.listdir(folder)
    loose = [e for e in entries if files.isfile(files.join(folder, e))]
    loose_images = sum(1 for name in loose if is_image_name(name))
    classes, skipped = {}, len(loose) - loose_images
    for name in entries:
        if files.isdir(files.join(folder, name)):
            classes[name], others = walk_folder(files.join(folder, name))
            skipped += others
    check_one_class_each(classes)
    return classes, skipped, loose_images


def check_one_class_each(classes: dict[str, list[str]]) -> None:
    """Raises FolderError naming both paths when one image file is reachable under two class folders (through
    a symbolic link): it would be given two labels, and could land in both train and val."""
    owner: dict[str, tuple[str, str]] = {}
    clashes = []
    for name, paths in classes.items():
        for path in paths:
            first = owner.setdefault(real_path(path), (name, path))
            if first[0] != name:
                clashes.append(f"{first[1]} ({first[0]}) and {path} ({name})")
    if clashes:
        raise FolderError(
            f"{len(clashes)} image files are in two class folders (symbolic links): {'; '.join(clashes[:3])}"
            f"{'; ...' if len(clashes) > 3 else ''}. Remove the links, or give each image one class."
        )


def split_class(paths: Sequence[str], val_fraction: float, seed: int, name: str) -> tuple[list[str], list[str]]:
    """One class's images cut into (train, val): ``round(n * val_fraction)`` for validation, at least one when
    the class has two or more and at least one left for training; the order comes from the seed and the class
    name. Both parts keep the sorted order of the paths."""
    n = len(paths)
    n_val = min(max(round(n * val_fraction), 1), n - 1) if n >= 2 else 0
    order = np.random.default_rng([seed, zlib.crc32(name.encode("utf-8"))]).permutation(n)
    val = set(order[:n_val].tolist())
    return [p for i, p in enumerate(paths) if i not in val], [p for i, p in enumerate(paths) if i in val]


def existing_split(root: str) -> dict[str, str] | None:
    """``{"train": folder, "val": folder}`` when ROOT already holds both split folders, else None."""
    found = {}
    for split, names in SPLIT_FOLDERS.items():
        present = [files.join(root, n) for n in names if files.isdir(files.join(root, n))]
        if present:
            found[split] = present[-1]
    return found if len(found) == 2 else None


def split_folder(root: str, val_fraction: float = VAL_FRACTION, seed: int = 0) -> FolderSplit:
    """The images of ``root`` by split and class (see the module's docstring). Raises FolderError when
    ``root`` is not a folder of class folders."""
    if not files.isdir(root):
        raise FolderError(f"{root}: not a folder")
    problem = SHARED["val_fraction"].problem("--val-fraction", val_fraction)
    if problem:
        raise FolderError(problem)
    layout = existing_split(root)
    if layout:
        scans = {split: scan_classes(folder) for split, folder in layout.items()}
        unknown = sorted(set(scans["val"][0]) - set(scans["train"][0]))
        if unknown:
            raise FolderError(
                f"{layout['val']}: classes with no folder in {layout['train']}: {', '.join(unknown[:10])}"
            )
        split = FolderSplit(
            {s: scan[0] for s, scan in scans.items()},
            sum(s[1] for s in scans.values()),
            sum(s[2] for s in scans.values()),
            kept_layout=True,
        )
    else:
        classes, skipped, loose = scan_classes(root)
        parts = {name: split_class(paths, val_fraction, seed, name) for name, paths in classes.items()}
        split = FolderSplit(
            {"train": {n: p[0] for n, p in parts.items()}, "val": {n: p[1] for n, p in parts.items()}}, skipped, loose
        )
    if not any(split.images["train"].values()):
        raise FolderError(
            f"{root}: no images in class folders (expected {root}/<class>/<image>, e.g. {root}/cat/0001.jpg)"
        )
    with_images = [name for name in split.classes if split.images["train"].get(name)]
    if len(with_images) < 2:
        raise FolderError(
            f"{root}: images of one class only ({with_images[0]}); a classifier needs two or more class folders"
        )
    return split


def write_csvs(split: FolderSplit, out: str) -> dict[str, str]:
    """Writes ``out/train.csv`` and ``out/val.csv`` (``path,label``, paths relative to ``out``); refuses to
    overwrite either. Returns their paths."""
    targets = {s: files.join(out, name) for s, name in CSV_NAMES.items()}
    if files.exists(out) and not files.isdir(out):
        raise FolderError(f"--out {out} is a file, not a folder; choose a folder for train.csv and val.csv")
    existing = [p for p in targets.values() if files.exists(p)]
    if existing:
        raise FolderError(f"{', '.join(existing)} already exists; remove it or choose another --out")
    for s, target in targets.items():
        rows = [(files.relative(p, out), name) for name in sorted(split.images[s]) for p in split.images[s][name]]
        try:
            files.write_csv(target, ["path", "label"], rows)
        except OSError as err:
            raise write_failure(target, err, "choose another --out") from None
    return targets


def log_summary(split: FolderSplit, root: str) -> None:
    """The per-class counts and what was left out."""
    how = "kept the existing train/val folders" if split.kept_layout else "split each class"
    LOG.info("%s: %d classes (%s)", root, len(split.classes), how)
    width = max(len(printable(c)) for c in split.classes)
    LOG.info("  %-*s %7s %7s", width, "class", "train", "val")
    for name in split.classes:
        counts = [len(split.images[s].get(name, [])) for s in ("train", "val")]
        note = "  (no validation image)" if counts[1] == 0 else ""
        LOG.info("  %-*s %7d %7d%s", width, printable(name), *counts, note)
    totals = [sum(len(v) for v in split.images[s].values()) for s in ("train", "val")]
    LOG.info("  %-*s %7d %7d", width, "total", *totals)
    if split.skipped_files:
        LOG.info("skipped %d files that are not images (by their name's ending)", split.skipped_files)
    if split.loose_images:
        LOG.warning("%d images lie directly in %s, outside any class folder: left out", split.loose_images, root)
    empty = [c for c in split.classes if not split.images["train"].get(c)]
    if empty:
        LOG.warning("%d classes have no training images: %s", len(empty), ", ".join(map(printable, empty[:10])))


def make_csvs(root: str, out: str, val_fraction: float = VAL_FRACTION, seed: int = 0) -> dict[str, str]:
    """Splits ``root`` (see :func:`split_folder`), writes the CSVs into ``out``, logs the counts; returns
    ``{"train": path, "val": path}``."""
    split = split_folder(root, val_fraction, seed)
    written = write_csvs(split, out)
    log_summary(split, root)
    LOG.info("wrote %s and %s", written["train"], written["val"])
    return written


def add_split_options(parser: argparse.ArgumentParser) -> None:
    """``--val-fraction`` and ``--seed``."""
    add_shared(parser, "val_fraction", default=VAL_FRACTION, help="fraction of each class for validation")
    add_shared(parser, "seed", default=0, help="seed of the split")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = script_parser(__doc__)
    parser.add_argument("root", help="folder with one subfolder per class (or train/ and val/ folders of them)")
    parser.add_argument("--out", required=True, help="folder for train.csv and val.csv")
    add_split_options(parser)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """The command line (see the module's docstring)."""
    args = parse_args(argv)
    setup_logging("make_csv")

    def work() -> int:
        make_csvs(args.root, args.out, args.val_fraction, args.seed)
        return 0

    return exit_status(LOG, work)


if __name__ == "__main__":  # python -m data_utils.make_csv: run as the module itself, so it logs by its name
    from data_utils.make_csv import main as module_main

    raise SystemExit(module_main())
