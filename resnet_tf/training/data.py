"""A run's data: the CSVs that ``--demo`` and ``--image-dir`` make on a run's first start, both tables read
and checked, and the class counts in the run's first lines."""

from __future__ import annotations

import dataclasses
import logging
import os

from data_utils.csv_table import ClassMapping, ImageTable, RowChecks
from data_utils.demo import make_demo_dataset
from data_utils.errors import write_problems
from data_utils.make_csv import make_csvs
from resnet_tf.console import files
from resnet_tf.console.errors import writing
from resnet_tf.console.logs import printable
from resnet_tf.runs.builders import read_table
from resnet_tf.runs.config import TrainConfig
from resnet_tf.runs.settle import generated_csvs

LOG = logging.getLogger(__name__)
IMAGE_CHECK_CACHE = "image_check.json"  # files that passed the check, so a resumed run does not reopen them
BAD_ROWS_FILE = "bad_rows.csv"


@dataclasses.dataclass(frozen=True)
class Tables:
    """The checked rows of both CSVs; the validation labels are known to the training mapping."""

    train: ImageTable
    val: ImageTable


def csv_paths(cfg: TrainConfig, outdir: str) -> tuple[str, str]:
    """The CSVs this process reads: the run's, or for the other workers of a multi-worker run that makes
    its own CSVs (--demo, --image-dir), their identical copy in their private folder ``outdir``."""
    if outdir != cfg.run.logdir and (cfg.data.train_csv, cfg.data.val_csv) == generated_csvs(cfg.run.logdir):
        return generated_csvs(outdir)
    return cfg.data.train_csv, cfg.data.val_csv


def make_data(cfg: TrainConfig, train_csv: str) -> None:
    """Writes the CSVs of --demo or --image-dir on a run's first start (a resumed run keeps its data)."""
    if files.isfile(train_csv):
        return
    if cfg.data.demo:
        LOG.info("generating the demo data set in %s", os.path.dirname(train_csv))
        make_demo_dataset(os.path.dirname(train_csv), seed=cfg.run.seed)
    else:
        make_csvs(cfg.data.image_dir, os.path.dirname(train_csv), cfg.data.val_fraction, cfg.run.seed)


def load_tables(cfg: TrainConfig, mapping: ClassMapping | None, outdir: str) -> Tables:
    """Reads and checks both CSVs (the training one with the saved run's ``mapping``, if any). Rows skipped
    with --skip-bad-rows are listed in OUTDIR/bad_rows.csv (the run folder, for the chief)."""
    train_csv, val_csv = csv_paths(cfg, outdir)
    if cfg.data.demo or cfg.data.image_dir:
        make_data(cfg, train_csv)
    cache = os.path.join(outdir, IMAGE_CHECK_CACHE)  # a resumed run does not reopen unchanged files
    checks = RowChecks(cfg.runtime.skip_bad_rows, check_cache=cache)
    train = read_table(cfg, train_csv, mapping=mapping, checks=checks)
    val = read_table(cfg, val_csv, mapping=train.mapping, checks=checks)
    skipped = train.skipped + val.skipped
    if skipped:
        bad_rows = os.path.join(outdir, BAD_ROWS_FILE)
        with writing(bad_rows):
            write_problems(skipped, bad_rows)
        LOG.warning(
            "skipped %d bad rows of %s and %d of %s (all listed in %s)",
            len(train.skipped),
            train_csv,
            len(val.skipped),
            val_csv,
            bad_rows,
        )
    return Tables(train, val)


def log_class_counts(tables: Tables) -> None:
    """Per-class image counts of both splits, flagging empty classes."""
    names = [printable(name) for name in tables.train.mapping.names]
    counts_train, counts_val = tables.train.class_counts(), tables.val.class_counts()
    cells = [f"{name}: {t}/{v}" + (" (EMPTY)" if t == 0 else "") for name, t, v in zip(names, counts_train, counts_val)]
    LOG.info("images per class (train/val), %d classes:", len(cells))
    for i in range(0, len(cells), 4):
        LOG.info("  %s", "   ".join(f"{c:<28}" for c in cells[i : i + 4]).rstrip())
    empty = [n for n, c in zip(names, counts_train) if c == 0]
    if empty:
        LOG.warning("%d classes have no training images: %s", len(empty), ", ".join(empty[:10]))
    unmeasured = [n for n, t, v in zip(names, counts_train, counts_val) if t and not v]
    if unmeasured:
        LOG.warning(
            "%d classes have no validation images, so validation cannot tell how well they are learnt: %s",
            len(unmeasured),
            ", ".join(unmeasured[:10]),
        )
