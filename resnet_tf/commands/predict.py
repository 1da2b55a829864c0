"""Predict the classes of image files with a trained run or with its export.

    python predict.py --logdir RUN [--checkpoint best|latest|PATH] IMAGE_OR_FOLDER_OR_CSV... [--top-k 5] [--out CSV]
    python predict.py --saved-model DIR IMAGE_OR_FOLDER_OR_CSV... [--top-k 5] [--out CSV]

Prints the top-K classes and their probabilities for every image. Folders are walked for image files; a
CSV lists images in its ``path`` column. Files that cannot be read or decoded are listed at the end (not
fatal). With --logdir images are decoded with OpenCV, as in training and evaluate.py; with --saved-model by
the export's own TensorFlow ops (export.py says how close the two are).
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Sequence

from resnet_tf.commands import read_run_folder
from resnet_tf.console.options import add_shared
from resnet_tf.console.parser import add_run_options, script_parser
from resnet_tf.console.startup import exit_process, run_script
from resnet_tf.runs.command_line import add_config_options
from resnet_tf.serving.export_folder import DEFAULT_TOP_K


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = script_parser(__doc__)
    add_run_options(parser, required=False)
    parser.add_argument("--saved-model", help="a folder written by export.py (instead of --logdir)")
    parser.add_argument("inputs", nargs="+", metavar="IMAGE_OR_FOLDER_OR_CSV", help="images to classify")
    add_shared(parser, "top_k", default=DEFAULT_TOP_K, help="classes shown per image")
    parser.add_argument("--out", default=None, help="also write the predictions to this CSV file")
    add_config_options(parser, ("batch_size", "threads"))
    args = parser.parse_args(argv)
    if (args.logdir is None) == (args.saved_model is None):
        parser.error("give one of --logdir or --saved-model")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    args = parse_args(argv)
    return run_script(
        "predict",
        lambda run: importlib.import_module("resnet_tf.serving.prediction").predict(args, run),
        prepare=lambda: read_run_folder(args.logdir),
    )


def run() -> None:
    """The process: :func:`main` on ``sys.argv``, its status the exit status (the installed command)."""
    exit_process(main)


if __name__ == "__main__":
    run()
