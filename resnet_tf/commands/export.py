"""Export a trained run as a SavedModel (and a TFLite file) that needs neither this project nor OpenCV.

    python export.py --logdir RUN --out DIR [--checkpoint best|latest|PATH] [--tflite] [--top-k K]

DIR is a SavedModel with two signatures: ``serving_default`` takes encoded images (``image_bytes``, JPEG,
PNG, BMP or GIF of any size) and returns ``probabilities``, ``class_ids``, ``class_names`` and ``scores``
(top-K); ``predict_images`` takes ``images`` (uint8 RGB at the run's size) and returns ``logits`` and
``probabilities``. Beside it: ``class_names.txt`` (one per line, in class-index order), ``export.json``
(image size, normalization, loss, checkpoint) and, with --tflite, ``model.tflite`` (float32; uint8
[1, S, S, 3] in, probabilities out). Look inside with ``saved_model_cli show --dir DIR --all``.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Sequence

from resnet_tf.commands import read_run_folder
from resnet_tf.console.options import add_shared
from resnet_tf.console.parser import add_run_options, script_parser
from resnet_tf.console.startup import exit_process, run_script
from resnet_tf.runs.command_line import add_tta_option
from resnet_tf.serving.export_folder import DEFAULT_TOP_K


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = script_parser(__doc__)
    add_run_options(parser)
    parser.add_argument("--out", required=True, help="folder to create for the export (must not exist or be empty)")
    parser.add_argument("--tflite", action="store_true", help="also write model.tflite")
    add_tta_option(parser)
    add_shared(
        parser,
        "top_k",
        default=None,
        help=f"classes returned by serving_default (default: min({DEFAULT_TOP_K}, classes))",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    args = parse_args(argv)
    return run_script(
        "export",
        lambda run: importlib.import_module("resnet_tf.serving.export_run").export_run(args, run),
        prepare=lambda: read_run_folder(args.logdir),
    )


def run() -> None:
    """The process: :func:`main` on ``sys.argv``, its status the exit status (the installed command)."""
    exit_process(main)


if __name__ == "__main__":
    run()
