"""The work behind ``import_tf1.py``: a checkpoint of the TF1 original turned into a run folder of the port.

``import_tf1.py`` parses the command line without TensorFlow and calls :func:`import_checkpoint`.
"""

from __future__ import annotations

import argparse
import logging

from data_utils.csv_table import ClassMapping
from resnet_tf.console.errors import ConfigError
from resnet_tf.console.invocation import quoted, script_command
from resnet_tf.runs import config_file, settle
from resnet_tf.runs.builders import build_model, read_table
from resnet_tf.runs.checkpoints import CheckpointError, managers, save_checkpoint, training_state
from resnet_tf.runs.config import TrainConfig, check
from resnet_tf.runs.staging import check_new_folder, staged_folder
from resnet_tf.training.step import make_optimizer
from resnet_tf.weights.tf1 import TF1CheckpointError, checkpoint_structure, load_tf1_checkpoint

LOG = logging.getLogger(__name__)
# What the original's models need, whatever the user trains next: its network and its preprocessing.
# Continuing the imported model trains it as the original did: no augmentation, no regularization; it is scored
# as the original scored it, one view per image.
ORIGINAL_SETTINGS = {
    "layout": "original",
    "stem": "original",
    "normalization": "rgb_minus_bgr_means",
    "resize": "cubic",
    "loss": "sigmoid",
    "augment": "none",
    "tta": "none",
    "label_smoothing": 0.0,
    "weight_decay": 0.0,
}


def imported_config(args: argparse.Namespace) -> TrainConfig:
    """The run configuration of the imported model; the network and its width, unless given, are those
    the checkpoint holds."""
    try:
        held = checkpoint_structure(args.checkpoint)
    except TF1CheckpointError as err:
        raise CheckpointError(f"--checkpoint {args.checkpoint}: {err}") from None
    arch = args.arch or held.get("arch", "resnet50")
    cfg = TrainConfig.from_options(
        logdir=args.logdir,
        train_csv=args.train_csv,
        arch=arch,
        width=args.width or held.get("width", 64),
        num_classes=args.num_classes,
        image_size=args.image_size,
        **ORIGINAL_SETTINGS,
    )
    check(cfg)
    settle.check_combination(cfg)
    return cfg


def class_mapping(cfg: TrainConfig) -> ClassMapping:
    """Class names from the training CSV's labels (checked like train.py does), else ``0..N-1``."""
    if not cfg.data.train_csv:
        return ClassMapping.indices(cfg.network.num_classes)
    mapping = read_table(cfg, cfg.data.train_csv).mapping
    if mapping.num_classes != cfg.network.num_classes:
        raise ConfigError(
            f"--num-classes={cfg.network.num_classes} but {cfg.data.train_csv} has {mapping.num_classes} classes"
        )
    return mapping


def import_checkpoint(args: argparse.Namespace) -> int:
    """Checks everything, loads the checkpoint, then writes the run folder all at once."""
    check_new_folder(args.logdir, "--logdir")
    cfg = imported_config(args)
    mapping = class_mapping(cfg)
    model = build_model(cfg)
    try:
        prefix = load_tf1_checkpoint(model, args.checkpoint)
    except TF1CheckpointError as err:
        raise CheckpointError(f"--checkpoint {args.checkpoint}: {err}") from None
    optimizer = make_optimizer(cfg, 1)
    optimizer.build(model.trainable_variables)
    state = training_state(model, optimizer)
    with staged_folder(cfg.run.logdir, "--logdir") as staging:
        config_file.save(cfg.to_json(), mapping.to_json(), cfg.to_json(), staging)
        save_checkpoint(managers(state, staging, cfg.run.keep_checkpoints)[0], state)
    LOG.info(
        "imported %s as %s: %s (original layout, width %d), %d classes at %d px, with the "
        "original's preprocessing (INTER_CUBIC, RGB minus the B,G,R means) and sigmoid outputs",
        prefix,
        cfg.run.logdir,
        cfg.network.arch,
        cfg.network.width,
        cfg.network.num_classes,
        cfg.data.image_size,
    )
    LOG.info("  %s", quoted(script_command("evaluate") + ["--logdir", cfg.run.logdir, "--csv", "VAL.csv"]))
    LOG.info(
        "  %s",
        quoted(
            script_command("train")
            + [
                "--init-from",
                cfg.run.logdir,
                "--freeze-bn",
                "--logdir",
                "NEW_RUN",
                "--train-csv",
                "TRAIN.csv",
                "--val-csv",
                "VAL.csv",
            ]
        ),
    )
    return 0
