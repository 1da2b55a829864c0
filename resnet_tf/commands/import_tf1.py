"""Import a model trained by the original TF1 pipeline (a tf.train.Saver checkpoint) as a run of this port.

    python import_tf1.py --checkpoint PREFIX --logdir DIR --image-size S --num-classes N [--train-csv CSV]

PREFIX is the original's checkpoint prefix (such as model_1202/resnet50.model-10000, beside its .index and
.data-* files) or their folder. DIR becomes a run folder that evaluate.py, predict.py, export.py and
train.py accept: config.json (the original layout at S px; the original's preprocessing: OpenCV decode,
INTER_CUBIC resize to S, RGB minus the B,G,R ImageNet means; its sigmoid loss), the class names (the
CSV's labels, else 0..N-1) and checkpoints/ckpt-0. Every variable of the network must be in the checkpoint
with its shape (Adam slots are ignored); otherwise nothing is written. Then, for example:

    python evaluate.py --logdir DIR --csv val.csv
    python train.py --init-from DIR --logdir runs/finetuned --train-csv train.csv --val-csv val.csv
        [--freeze-bn]   (batch norm kept as the original ran it; without it, real batch statistics)
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Sequence

from resnet_tf.console.options import add_shared
from resnet_tf.console.parser import script_parser
from resnet_tf.console.startup import exit_process, run_script
from resnet_tf.runs.config import ARCHS, BOUNDS
from resnet_tf.specs import MIN_IMAGE_SIZE


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = script_parser(__doc__)
    parser.add_argument("--checkpoint", required=True, help="the original's checkpoint prefix, or its folder")
    parser.add_argument("--logdir", required=True, help="run folder to create (must not exist or be empty)")
    parser.add_argument(
        "--image-size",
        type=BOUNDS["image_size"].parser_type(),
        required=True,
        help=f"the size the original resized images to (224 in its code; >= {MIN_IMAGE_SIZE})",
    )
    add_shared(parser, "num_classes", required=True, help="classes of its head (51 in its code)")
    parser.add_argument("--train-csv", help="the CSV it trained on: its labels name the classes")
    parser.add_argument(
        "--arch", choices=ARCHS, help="its network (default: read from the checkpoint; resnet50 in its code)"
    )
    add_shared(parser, "width", help="its base channels (default: read from the checkpoint; 64 in its code)")
    return parser.parse_args(argv)


def check_checkpoint_path(prefix: str) -> None:
    """Something is at ``--checkpoint``: a folder, a prefix's ``.index`` file or a file (an old single-file
    checkpoint), so that a mistyped path is answered before TensorFlow starts."""
    from resnet_tf.console import files
    from resnet_tf.console.errors import UserError

    if not files.exists(prefix) and not files.isfile(prefix + ".index"):
        raise UserError(
            f"--checkpoint {prefix}: nothing there (expected a prefix such as model_1202/resnet50.model-10000 "
            "beside its .index and .data files, or their folder)"
        )


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    args = parse_args(argv)
    return run_script(
        "import_tf1",
        lambda _: importlib.import_module("resnet_tf.training.tf1_import").import_checkpoint(args),
        prepare=lambda: check_checkpoint_path(args.checkpoint),
    )


def run() -> None:
    """The process: :func:`main` on ``sys.argv``, its status the exit status (the installed command)."""
    exit_process(main)


if __name__ == "__main__":
    run()
