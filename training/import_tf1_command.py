"""The work behind ``import_tf1.py``: a checkpoint of the TF1 original turned into a run folder of the port.

``import_tf1.py`` parses the command line without TensorFlow and calls :func:`import_checkpoint`.
"""

from __future__ import annotations

import argparse
import logging

from training.tf_env import apply_runtime_environment

apply_runtime_environment()  # before TensorFlow is imported

from data_utils import ClassMapping
from resnet_tf import load_tf1_checkpoint
from resnet_tf.tf1_checkpoint import checkpoint_structure
from training import config as run_config
from training.builders import build_model, read_table
from training.checkpoints import CheckpointError, managers, save_checkpoint, training_state
from training.config import ConfigError, TrainConfig
from training.staging import check_new_folder, staged_folder
from training.step import make_optimizer

LOG = logging.getLogger("import_tf1")
# What the original's models need, whatever the user trains next: its network and its preprocessing.
# Continuing the imported model trains it as the original did: no augmentation, no regularization.
ORIGINAL_SETTINGS = {"layout": "original", "normalization": "rgb_minus_bgr_means", "resize": "cubic",
                     "loss": "sigmoid", "augment": "none", "label_smoothing": 0.0, "weight_decay": 0.0}


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
