"""Score a trained run's checkpoint on a CSV: loss, top-1/top-5, per-class accuracy, confusion matrix.

    python evaluate.py --logdir runs/NAME --csv VAL.csv [--checkpoint best|latest|PATH] [--out DIR]
    python evaluate.py --logdir runs/SEQUENCE          # a --tasks run: its accuracy matrix, ACC, BWT, FWT

Writes metrics.json, predictions.csv, per_class.csv, confusion_matrix.csv and confusion_matrix.png to
--out (default LOGDIR/eval/<step>/). A CSV without a label column gets predictions.csv only. For a sequence of
tasks, --csv scores the network at the end of its last task learnt.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Sequence

from resnet_tf.commands import read_run_folder
from resnet_tf.console.parser import add_run_options, script_parser
from resnet_tf.console.startup import exit_process, run_script
from resnet_tf.runs.command_line import add_config_options, add_tta_option


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = script_parser(__doc__)
    add_run_options(parser)
    parser.add_argument(
        "--csv", help="CSV of images to score (path,label) or predict (path); optional for a sequence of tasks"
    )
    parser.add_argument("--out", default=None, help="output folder (default: LOGDIR/eval/<step>)")
    add_config_options(parser, ("batch_size", "precision", "jit", "threads", "skip_bad_rows"))
    add_tta_option(parser)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status (2 for errors the user can fix, which are
    reported in one line; any other exception keeps its traceback)."""
    args = parse_args(argv)
    return run_script(
        "evaluate",
        lambda run: importlib.import_module("resnet_tf.evaluation.evaluate_run").evaluate_run(args, run),
        prepare=lambda: read_run_folder(args.logdir),
    )


def run() -> None:
    """The process: :func:`main` on ``sys.argv``, its status the exit status (the installed command)."""
    exit_process(main)


if __name__ == "__main__":
    run()
