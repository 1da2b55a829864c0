"""The one place that settles a run's configuration, from the options given, the saved run and the data.

A run's configuration is decided in two steps, both here, and never changed afterwards:

1. :func:`requested`: what was asked for. The defaults, then ``--demo``'s recipe, then the saved run (its
   settled configuration when it has a checkpoint to resume; otherwise what its first start was asked,
   so that a start that failed before its first checkpoint is settled again), then what a new run takes
   from its ``--init-from`` run folder or its ``--pretrained`` weights, then the options given now. A
   resumed run refuses options that would change its network or the meaning of its outputs
   (:func:`structural_settings`).
2. :func:`settle`: every ``auto`` decided (stem, augmentation, weight decay by the image size; test-time
   augmentation by the training augmentation; precision by the hardware: each default's owner is
   :mod:`resnet_tf.runs.defaults`), the class count taken from the training data, how the settings go together
   checked. The result is frozen, and each decision is logged in the run's first lines.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from resnet_tf.console import files
from resnet_tf.console.errors import ConfigError
from resnet_tf.networks import network_names, network_spec
from resnet_tf.runs import config_file
from resnet_tf.runs.config import TrainConfig, check, option_name
from resnet_tf.runs.defaults import decisions, stem_for
from resnet_tf.runs.sequence_settings import LIFELONG_DEMO_DEFAULTS, check_sequence, generated_tasks
from resnet_tf.specs import LAYOUTS, STEMS

LOG = logging.getLogger(__name__)
# Settings that change the network or the meaning of its outputs: a resumed run keeps them.
STRUCTURAL = ("arch", "use_shortcut", "width", "layout", "stem", "num_classes", "loss", "normalization", "resize")
# What else a resumed run keeps, and why; every other option given on a resume is applied from then on and
# said in the first lines.
KEPT_ON_RESUME = {
    "batch_size": "its schedule and its place in the data are counted in steps of this batch",
    "optimizer": "the checkpoint holds this optimizer's state",
    "precision": "the checkpoint holds this precision's state (float16's loss scale)",
    "ema_decay": "the checkpoint holds the weight average, or none",
    "demo": "its data were chosen on its first start",
    "image_dir": "its data were chosen on its first start",
    "val_fraction": "its data were split on its first start",
    "init_from": "it continues from its own checkpoint",
    "pretrained": "it continues from its own checkpoint",
    "zero_init_residual": "it continues from its own checkpoint",
    "tasks": "its accuracy matrix is of these tasks",
    "lifelong_strategy": "its accuracy matrix is of this strategy",
    "scenario": "its tasks' classes were numbered for it",
}
# The options that set a run's length in steps; --time-budget sets it in time instead.
LENGTH_IN_STEPS = ("epochs", "max_steps")
# Settings whose "auto" is decided when a run is settled (by the image size; --tta by the augmentation).
DECIDED_AUTO = ("stem", "augment", "tta")
# What --demo changes from the defaults (options given on the command line still win): a narrow
# ResNet-18 on 64 px images of 51 synthetic classes, sized to train in minutes on a 2-core CPU.
DEMO_DEFAULTS = {
    "arch": "resnet18",
    "width": 16,
    "image_size": 64,
    "batch_size": 32,
    "epochs": 12,
    "lr": 2e-3,
    "warmup_steps": 100,
    "log_every": 20,
    "ckpt_every": 300,
}
PRETRAINED_NORMALIZATION = "caffe"  # what Keras' ImageNet weights were trained with
BATCHES_IN_MEMORY = 4  # decoded batches the input pipeline holds at once: two prefetched, one in use, one built


def structural_settings(layout: str) -> tuple[str, ...]:
    """The settings a resumed run keeps: ``STRUCTURAL``, and the image size where the layout's dense head
    is sized by it (the original layout)."""
    return STRUCTURAL + (("image_size",) if LAYOUTS[layout].head == "flatten" else ())


def generated_csvs(folder: str) -> tuple[str, str]:
    """Where the CSVs that a run makes itself (--demo, --image-dir) are kept: ``FOLDER/data``."""
    return os.path.join(folder, "data", "train.csv"), os.path.join(folder, "data", "val.csv")


def inherited_settings(init_from: str | None) -> dict[str, Any]:
    """What a new run started ``--init-from`` a run folder takes from it unless given: its network and
    preprocessing (the structural settings except the class count, which the new training CSV decides).
    Empty for a checkpoint prefix or a Keras file."""
    saved = config_file.load_saved(init_from) if init_from and files.isdir(init_from) else None
    if saved is None:
        return {}
    stored = saved.config
    return {
        k: stored[k]
        for k in structural_settings(stored.get("layout", "standard"))
        if k in stored and k != "num_classes"
    }


def _starting_values(given: dict[str, Any]) -> dict[str, Any]:
    """What a new run takes besides the defaults: --demo's recipe, --pretrained's normalization, and the
    network and preprocessing of an --init-from run folder (each unless given)."""
    values = dict(DEMO_DEFAULTS) if given.get("demo") else {}
    if given.get("demo") == "lifelong":
        values.update(LIFELONG_DEMO_DEFAULTS)
    if given.get("pretrained"):
        values["normalization"] = PRETRAINED_NORMALIZATION
    inherited = {k: v for k, v in inherited_settings(given.get("init_from")).items() if k not in given}
    if inherited:
        LOG.info("as in %s: %s", given["init_from"], ", ".join(f"{k}={v}" for k, v in inherited.items()))
    return {**values, **inherited}


def requested(given: dict[str, Any], saved: config_file.SavedConfig | None, resuming: bool) -> TrainConfig:
    """What the run is asked to be (see the module's docstring), every ``auto`` still open. ``saved`` is the
    run folder's ``config.json`` (or None); ``resuming``: the run folder has a checkpoint to continue.
    Raises ConfigError when a given option contradicts a structural setting of a resumed run, or when
    the data options do not go together."""
    where = config_file.config_path(given.get("logdir", ""))
    if saved is not None and resuming:
        before = config_file.known_settings(saved.config, where)
        values = _resumed_values(given, before, where)
    else:
        before = saved.requested if saved is not None else {}
        asked = config_file.known_settings(requested_options(given, saved), where)
        values = {**_starting_values(asked), **asked}
    cfg = TrainConfig.from_options(_one_length(values, given, before))
    return _with_data_source(cfg, saved is not None)


def requested_options(given: dict[str, Any], saved: config_file.SavedConfig | None) -> dict[str, Any]:
    """What the run's starts have asked for, this one included: the options given before (saved in
    ``config.json``) and now, by flat name; ``config.json`` keeps it."""
    return {**(saved.requested if saved is not None else {}), **given}


def _resumed_values(given: dict[str, Any], saved: dict[str, Any], where: str) -> dict[str, Any]:
    """The saved run's settings with the options ``given`` applied; each change said in the run's first lines.
    Raises ConfigError naming the option for a change a resumed run cannot take (``STRUCTURAL``,
    ``KEPT_ON_RESUME``)."""
    values, changed = dict(saved), []
    kept = {
        **dict.fromkeys(structural_settings(saved.get("layout", "standard")), "it is its network"),
        **KEPT_ON_RESUME,
    }
    for key, value in given.items():
        if key in DECIDED_AUTO and value == "auto" and key in values:
            continue  # "auto" given again keeps what was decided
        if key in values and values[key] != value and key != "logdir":  # the folder is where the run is
            if key in kept:
                raise ConfigError(
                    f"{option_name(key)}={value} conflicts with the saved run in {where} ({key}={values[key]}): "
                    f"a resumed run keeps it, as {kept[key]}; leave the option out, or use another --logdir"
                )
            changed.append(f"{option_name(key)} {values[key]} -> {value}")
        values[key] = value
    if changed:
        LOG.info("resuming with changed options, applied from here on: %s", ", ".join(changed))
    return values


def _one_length(values: dict[str, Any], given: dict[str, Any], before: dict[str, Any]) -> dict[str, Any]:
    """``values`` with one training length: ``--time-budget``, or ``--epochs``/``--max-steps``, whichever the
    options ``given`` now name (``before``: the saved run's settings, or what its earlier starts asked). A
    changed budget is measured anew (its ``max_steps`` was the old budget's); a length in steps given to a
    budgeted run replaces the budget. ConfigError when both kinds are given at once."""
    in_steps = [name for name in LENGTH_IN_STEPS if name in given]
    if "time_budget" in given and in_steps:
        raise ConfigError(
            f"--time-budget and {option_name(in_steps[0])} both set the training length; give one of them"
        )
    values = dict(values)
    if given.get("time_budget") is not None and given["time_budget"] != before.get("time_budget"):
        values["max_steps"] = None
    elif in_steps and before.get("time_budget") is not None:
        values["time_budget"] = None
        values["max_steps"] = given.get("max_steps")
    return values


def _with_data_source(cfg: TrainConfig, has_saved: bool) -> TrainConfig:
    """The CSVs of ``--demo`` and ``--image-dir`` (made by the run into LOGDIR/data); the data options checked."""
    if cfg.data.demo == "lifelong" and not cfg.lifelong.tasks:
        cfg = cfg.replace(tasks=generated_tasks(cfg.run.logdir))
    if cfg.lifelong.tasks:
        check_sequence(cfg)
    elif cfg.data.image_dir and cfg.data.demo:
        raise ConfigError("--image-dir and --demo both choose the data; give one of them")
    elif (cfg.data.demo or cfg.data.image_dir) and not cfg.data.train_csv:
        train_csv, val_csv = generated_csvs(cfg.run.logdir)
        cfg = cfg.replace(train_csv=train_csv, val_csv=val_csv)
    elif (
        cfg.data.image_dir
        and not has_saved
        and (cfg.data.train_csv, cfg.data.val_csv) != generated_csvs(cfg.run.logdir)
    ):
        raise ConfigError("--image-dir makes the CSVs; do not also give --train-csv or --val-csv")
    if not cfg.lifelong.tasks and (not cfg.data.train_csv or not cfg.data.val_csv):
        raise ConfigError(
            "--train-csv and --val-csv are required (or --image-dir for a folder of class folders, "
            "or --demo for the built-in data set)"
        )
    check(cfg)
    check_memory(cfg)
    return cfg


def settle(request: TrainConfig, num_classes: int) -> TrainConfig:
    """The run's configuration: ``request`` (from :func:`requested`) with every ``auto`` decided (each
    decision logged) and the class count of the training data (``num_classes``), which a given
    ``--num-classes`` must equal. Raises ConfigError for settings that do not go together."""
    if num_classes < 2:
        raise ConfigError(
            f"{request.data.train_csv} has {num_classes} class: a classifier learns nothing from one (every image is "
            "right by construction); give images of at least two classes"
        )
    if request.network.num_classes is not None and request.network.num_classes != num_classes:
        raise ConfigError(
            f"--num-classes={request.network.num_classes} but {request.data.train_csv} has {num_classes} classes"
        )
    decided, sentences = decisions(request)
    cfg = request.replace(num_classes=num_classes, **decided)
    check_combination(cfg)
    for sentence in sentences:
        LOG.info("chose %s", sentence)
    return cfg


def check_combination(cfg: TrainConfig) -> None:
    """Raises ConfigError for settled settings that do not go together: a width too narrow for the network's
    groups, a stem of another layout, pretrained
    weights for a network they do not fit, two sources of starting weights."""
    if (cfg.network.layout == "original") != (cfg.network.stem == "original"):
        raise ConfigError(
            f"--stem {cfg.network.stem} does not go with --layout {cfg.network.layout}: the original layout has its "
            "own stem (--stem original or auto), the standard layout takes standard, small or cifar"
        )
    try:
        network_spec(cfg.network.arch).check_width(cfg.network.width)
    except ValueError as err:
        raise ConfigError(f"--arch {cfg.network.arch} --width {cfg.network.width}: {err}") from None
    if cfg.network.pretrained and (
        network_spec(cfg.network.arch).keras_application is None
        or cfg.network.width != 64
        or not cfg.network.use_shortcut
        or cfg.network.stem != "standard"
        or cfg.network.layout != "standard"
    ):
        raise ConfigError(
            f"--pretrained {cfg.network.pretrained} needs the networks Keras has weights for: --arch "
            f"{', '.join(n for n in network_names() if network_spec(n).keras_application)}, --width 64, the standard --layout and --stem (got {cfg.network.arch}, "
            f"width {cfg.network.width}, layout {cfg.network.layout}, stem {cfg.network.stem})"
        )
    if cfg.network.pretrained and cfg.network.init_from:
        raise ConfigError("--pretrained and --init-from both choose the starting weights; give one of them")


def physical_memory() -> int:
    """This machine's memory in bytes."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def batch_memory(cfg: TrainConfig) -> int:
    """Bytes one training batch needs at the least: the decoded 8-bit images the input pipeline holds
    (``BATCHES_IN_MEMORY`` batches) and the float32 output of the network's first convolution."""
    images = BATCHES_IN_MEMORY * cfg.data.batch_size * cfg.data.image_size**2 * 3
    side = -(-cfg.data.image_size // STEMS[stem_for(cfg)].stride)
    return images + cfg.data.batch_size * side**2 * cfg.network.width * 4


def check_memory(cfg: TrainConfig, available: int | None = None) -> None:
    """Raises ConfigError when one batch at the run's image size needs more memory than the machine has
    (``available``: its physical memory), before any image is decoded at that size."""
    needed, available = batch_memory(cfg), available or physical_memory()
    if needed > available:
        raise ConfigError(
            f"--image-size {cfg.data.image_size} with --batch-size {cfg.data.batch_size} needs at least "
            f"{needed / 2**30:,.1f} GiB for one batch (its decoded images and the first layer's output), "
            f"more than this machine's {available / 2**30:,.1f} GiB; lower --image-size or --batch-size"
        )
