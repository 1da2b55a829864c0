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
import logging
import sys
from typing import Optional, Sequence

from training.tf_env import apply_runtime_environment

apply_runtime_environment()  # before TensorFlow is imported

from data_utils import ClassMapping
from resnet_tf import load_tf1_checkpoint
from resnet_tf.tf1_checkpoint import checkpoint_structure
from resnet_tf.model import MIN_IMAGE_SIZE
from training import config as run_config
from training.builders import build_model, read_table
from training.checkpoints import CheckpointError, managers, save_checkpoint, training_state
from training.cli import run_script, script_parser
from training.config import ARCHS, ConfigError, TrainConfig
from training.staging import check_new_folder, staged_folder
from training.step import make_optimizer

LOG = logging.getLogger("import_tf1")
# What the original's models need, whatever the user trains next: its network and its preprocessing.
# Continuing the imported model trains it as the original did: no augmentation, no regularization.
ORIGINAL_SETTINGS = {"layout": "original", "normalization": "rgb_minus_bgr_means", "resize": "cubic",
                     "loss": "sigmoid", "augment": "none", "label_smoothing": 0.0, "weight_decay": 0.0}


def parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    """The command line."""
    parser = script_parser(__doc__)
    parser.add_argument("--checkpoint", required=True, help="the original's checkpoint prefix, or its folder")
    parser.add_argument("--logdir", required=True, help="run folder to create (must not exist or be empty)")
    parser.add_argument("--image-size", type=int, required=True,
                        help=f"the size the original resized images to (224 in its code; >= {MIN_IMAGE_SIZE})")
    parser.add_argument("--num-classes", type=int, required=True, help="classes of its head (51 in its code)")
    parser.add_argument("--train-csv", help="the CSV it trained on: its labels name the classes")
    parser.add_argument("--arch", choices=ARCHS, help="its network (default: read from the checkpoint; resnet50 in "
                                                      "its code)")
    parser.add_argument("--width", type=int, help="its base channels (default: read from the checkpoint; 64 in "
                                                  "its code)")
    return parser.parse_args(argv)


def imported_config(args: argparse.Namespace) -> TrainConfig:
    """The run configuration of the imported model; the network's depth and width, unless given, are those
    the checkpoint holds."""
    try:
        held = checkpoint_structure(args.checkpoint)
    except ValueError as err:
        raise CheckpointError(f"--checkpoint {args.checkpoint}: {err}") from None
    arch = args.arch or f"resnet{held.get('depth', 50)}"
    cfg = TrainConfig(logdir=args.logdir, train_csv=args.train_csv, arch=arch, width=args.width or held.get("width", 64),
                      num_classes=args.num_classes, image_size=args.image_size, **ORIGINAL_SETTINGS)
    run_config.check(cfg)
    return cfg


def class_mapping(cfg: TrainConfig) -> ClassMapping:
    """Class names from the training CSV's labels (checked like train.py does), else ``0..N-1``."""
    if not cfg.train_csv:
        return ClassMapping.indices(cfg.num_classes)
    mapping = read_table(cfg, cfg.train_csv).mapping
    if mapping.num_classes != cfg.num_classes:
        raise ConfigError(f"--num-classes={cfg.num_classes} but {cfg.train_csv} has {mapping.num_classes} classes")
    return mapping


def import_checkpoint(args: argparse.Namespace) -> int:
    """Checks everything, loads the checkpoint, then writes the run folder all at once."""
    check_new_folder(args.logdir, "--logdir")
    cfg = imported_config(args)
    mapping = class_mapping(cfg)
    model = build_model(cfg)
    try:
        prefix = load_tf1_checkpoint(model, args.checkpoint)
    except ValueError as err:
        raise CheckpointError(f"--checkpoint {args.checkpoint}: {err}") from None
    optimizer = make_optimizer(cfg, total_steps=1)
    optimizer.build(model.trainable_variables)
    state = training_state(model, optimizer)
    with staged_folder(cfg.logdir, "--logdir") as staging:
        run_config.save(cfg, mapping.to_json(), staging)
        save_checkpoint(managers(state, staging, cfg.keep_checkpoints)[0], state)
    LOG.info("imported %s as %s: ResNet-%d (original layout, width %d), %d classes at %d px, with the "
             "original's preprocessing (INTER_CUBIC, RGB minus the B,G,R means) and sigmoid outputs",
             prefix, cfg.logdir, cfg.depth, cfg.width, cfg.num_classes, cfg.image_size)
    LOG.info("  python evaluate.py --logdir %s --csv VAL.csv", cfg.logdir)
    LOG.info("  python train.py --init-from %s --freeze-bn --logdir NEW_RUN --train-csv TRAIN.csv --val-csv VAL.csv",
             cfg.logdir)
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command-line entry point; returns the exit status."""
    args = parse_args(argv)
    return run_script("import_tf1", lambda: import_checkpoint(args))


if __name__ == "__main__":
    sys.exit(main())
