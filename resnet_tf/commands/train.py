"""Train a ResNet on images listed in CSV files, with TensorBoard logs, checkpoints and resume.

    python train.py --train-csv TRAIN.csv --val-csv VAL.csv --logdir runs/NAME [options]
    python train.py --demo --logdir runs/demo        # built-in synthetic data set, small network

Run the same command again to resume from the newest checkpoint in LOGDIR/checkpoints
(`python train.py --logdir runs/NAME` is enough: the rest comes from LOGDIR/config.json).
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Sequence

from resnet_tf.console.logs import SUMMARY
from resnet_tf.console.startup import exit_process, run_script
from resnet_tf.runs.command_line import parse


def check_given_files(given: dict) -> None:
    """The CSV files named on the command line exist: a mistyped path is answered before TensorFlow starts and
    before anything is written (a path in a bucket is looked at through TensorFlow's file system)."""
    from data_utils.errors import DataError, RowProblem
    from resnet_tf.console import files

    named = (given.get(option) for option in ("train_csv", "val_csv", "tasks"))
    missing = dict.fromkeys(path for path in named if path is not None and not files.isfile(path))
    if missing:
        raise DataError([RowProblem(path, 0, "", "CSV file not found") for path in missing])


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status. Errors the user can fix are reported in one line
    (exit status 2); any other exception is a bug and keeps its traceback. TensorFlow is imported only
    after the command line is parsed and the CSV files it names are found, so ``--help``, usage errors and
    a mistyped path are answered at once."""
    given, _ = parse(argv, __doc__)
    level = SUMMARY if given.pop("quiet", False) else logging.INFO
    profile = given.pop("profile_steps", None)
    return run_script(
        "train",
        lambda _: importlib.import_module("resnet_tf.training.run").run_training(given, profile),
        level,
        prepare=lambda: check_given_files(given),
    )


def run() -> None:
    """The process: :func:`main` on ``sys.argv``, its status the exit status (the installed command)."""
    exit_process(main)


if __name__ == "__main__":
    run()
