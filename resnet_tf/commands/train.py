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


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status. Errors the user can fix are reported in one line
    (exit status 2); any other exception is a bug and keeps its traceback. TensorFlow is imported only
    after the command line is parsed, so ``--help`` and usage errors print at once."""
    given, _ = parse(argv, __doc__)
    level = SUMMARY if given.pop("quiet", False) else logging.INFO
    profile = given.pop("profile_steps", None)
    return run_script(
        "train", lambda: importlib.import_module("resnet_tf.training.run").run_training(given, profile), level
    )


def run() -> None:
    """The process: :func:`main` on ``sys.argv``, its status the exit status (the installed command)."""
    exit_process(main)


if __name__ == "__main__":
    run()
