"""The run configuration: one dataclass, filled from the command line, saved as ``LOGDIR/config.json``.

A rerun with the same logdir resumes: the saved configuration is the base, options given again on the
command line override it, and options that would change the network or the meaning of its outputs
(``STRUCTURAL``) must not differ from the saved values.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
from typing import Any, Optional, Sequence

ARCHS = ("resnet18", "resnet34", "resnet50", "resnet101", "resnet152")
OPTIMIZERS = ("adam", "sgd")
SCHEDULES = ("constant", "cosine", "step")
LOSSES = ("softmax", "sigmoid")
CLASS_WEIGHTS = ("none", "balanced")
PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")
NORMALIZATION_CHOICES = ("imagenet", "caffe")
STRUCTURAL = ("arch", "use_shortcut", "width", "num_classes", "loss", "normalization")


@dataclasses.dataclass
class TrainConfig:
    """Everything a run depends on. ``help`` metadata is the ``--help`` text."""

    train_csv: Optional[str] = dataclasses.field(default=None, metadata={"help": "training CSV (path,label rows)"})
    val_csv: Optional[str] = dataclasses.field(default=None, metadata={"help": "validation CSV, same format"})
    logdir: str = dataclasses.field(default="runs/default", metadata={"help": "run folder: events, checkpoints, config"})
    arch: str = dataclasses.field(default="resnet50", metadata={"help": "network", "choices": ARCHS})
    use_shortcut: bool = dataclasses.field(default=True, metadata={"flag": "--no-shortcut", "help": "plain network without residual connections (ablation)"})
    width: int = dataclasses.field(default=64, metadata={"help": "base channels (64 = standard; 16 trains fast on a CPU)"})
    num_classes: Optional[int] = dataclasses.field(default=None, metadata={"help": "classes (default: from the training CSV)"})
    image_size: int = dataclasses.field(default=224, metadata={"help": "images are resized to this square size (>= 32)"})
    batch_size: int = dataclasses.field(default=32, metadata={"help": "global batch size"})
    epochs: int = dataclasses.field(default=30, metadata={"help": "training length in epochs (ignored with --max-steps)"})
    max_steps: Optional[int] = dataclasses.field(default=None, metadata={"help": "training length in steps"})
    optimizer: str = dataclasses.field(default="adam", metadata={"help": "adam (as the original) or sgd (momentum 0.9, Nesterov)", "choices": OPTIMIZERS})
    lr: float = dataclasses.field(default=1e-3, metadata={"help": "peak learning rate"})
    lr_schedule: str = dataclasses.field(default="cosine", metadata={"help": "after warmup: constant, cosine to 0, or step (x0.1 at 1/3 and 2/3)", "choices": SCHEDULES})
    warmup_steps: int = dataclasses.field(default=0, metadata={"help": "linear warmup from 0 to --lr"})
    weight_decay: float = dataclasses.field(default=0.0, metadata={"help": "L2 penalty on convolution and dense kernels only"})
    loss: str = dataclasses.field(default="softmax", metadata={"help": "softmax cross-entropy, or sigmoid on one-hot labels (the original)", "choices": LOSSES})
    label_smoothing: float = dataclasses.field(default=0.0, metadata={"help": "label smoothing in [0, 1)"})
    class_weights: str = dataclasses.field(default="none", metadata={"help": "balanced: weight classes by inverse frequency", "choices": CLASS_WEIGHTS})
    augment: bool = dataclasses.field(default=True, metadata={"flag": "--no-augment", "help": "turn off training augmentation"})
    log_every: int = dataclasses.field(default=50, metadata={"help": "steps between training summaries"})
    eval_every: int = dataclasses.field(default=1000, metadata={"help": "steps between validations (and at the end)"})
    ckpt_every: int = dataclasses.field(default=1000, metadata={"help": "steps between checkpoints (and at the end, and on Ctrl-C/SIGTERM)"})
    keep_checkpoints: int = dataclasses.field(default=10, metadata={"help": "newest checkpoints kept"})
    seed: int = dataclasses.field(default=0, metadata={"help": "seed of weights, data order and augmentation"})
    deterministic: bool = dataclasses.field(default=False, metadata={"flag": "--deterministic", "help": "deterministic TF ops: identical runs, somewhat slower"})
    skip_bad_rows: bool = dataclasses.field(default=False, metadata={"flag": "--skip-bad-rows", "help": "skip bad CSV rows and undecodable images instead of stopping (listed in LOGDIR/bad_rows.csv)"})
    skip_nonfinite: bool = dataclasses.field(default=False, metadata={"flag": "--skip-nonfinite", "help": "skip steps whose loss or gradients are NaN/Inf (counted and logged) instead of stopping"})
    init_from: Optional[str] = dataclasses.field(default=None, metadata={"help": "start from this checkpoint (run folder or prefix) or Keras .h5 weights"})
    demo: bool = dataclasses.field(default=False, metadata={"flag": "--demo", "help": "generate the synthetic demo data set and train a small network on it"})
    precision: str = dataclasses.field(default="float32", metadata={"help": "float32, or mixed precision (float16 with loss scaling, bfloat16)", "choices": PRECISIONS})
    jit: bool = dataclasses.field(default=False, metadata={"flag": "--jit", "help": "compile the step with XLA"})
    threads: Optional[int] = dataclasses.field(default=None, metadata={"help": "image decode threads (default: all cores)"})
    normalization: str = dataclasses.field(default="imagenet", metadata={"help": "input scaling; caffe matches Keras' ImageNet weights", "choices": NORMALIZATION_CHOICES})
    path_column: str = dataclasses.field(default="path", metadata={"help": "CSV column with image paths"})
    label_column: str = dataclasses.field(default="label", metadata={"help": "CSV column with labels"})
    image_root: Optional[str] = dataclasses.field(default=None, metadata={"help": "relative image paths resolve here (default: the CSV's folder)"})

    @property
    def depth(self) -> int:
        """Network depth from ``arch`` (``resnet50`` -> 50)."""
        return int(self.arch.replace("resnet", ""))

    def to_json(self) -> dict[str, Any]:
        """The configuration as a JSON-able dict."""
        return dataclasses.asdict(self)


def _add_option(parser: argparse.ArgumentParser, field: dataclasses.Field) -> None:
    meta = dict(field.metadata)
    default_text = f" (default: {field.default})" if field.default not in (None, False, True) or field.name == "num_classes" else ""
    if "flag" in meta:
        parser.add_argument(meta["flag"], dest=field.name, action="store_const", const=not field.default,
                            help=meta["help"])
        return
    kind = {int: int, float: float}.get(type(field.default), str)
    if field.name in ("num_classes", "max_steps", "threads"):
        kind = int
    parser.add_argument("--" + field.name.replace("_", "-"), dest=field.name, type=kind, choices=meta.get("choices"),
                        help=meta["help"] + default_text)


def build_parser(description: str) -> argparse.ArgumentParser:
    """An argparse parser with one option per config field; only options actually given are set."""
    parser = argparse.ArgumentParser(description=description, argument_default=argparse.SUPPRESS,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    for field in dataclasses.fields(TrainConfig):
        _add_option(parser, field)
    return parser


def check(cfg: TrainConfig) -> None:
    """Raises ValueError for settings that cannot work, naming the option."""
    positive = ("width", "batch_size", "epochs", "log_every", "eval_every", "ckpt_every", "keep_checkpoints")
    for name in positive:
        if getattr(cfg, name) < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(cfg, name)}")
    for name in ("max_steps", "threads", "num_classes"):
        if getattr(cfg, name) is not None and getattr(cfg, name) < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(cfg, name)}")
    if cfg.image_size < 32:
        raise ValueError(f"--image-size must be at least 32, got {cfg.image_size}")
    if cfg.lr <= 0 or cfg.weight_decay < 0 or cfg.warmup_steps < 0:
        raise ValueError("--lr must be positive, --weight-decay and --warmup-steps non-negative")
    if not 0 <= cfg.label_smoothing < 1:
        raise ValueError(f"--label-smoothing must be in [0, 1), got {cfg.label_smoothing}")
    if cfg.deterministic and cfg.jit:
        raise ValueError("--deterministic cannot be combined with --jit: XLA has no deterministic max-pool gradient")
    if not cfg.demo and (not cfg.train_csv or not cfg.val_csv):
        raise ValueError("--train-csv and --val-csv are required (or --demo for the built-in data set)")


def config_path(logdir: str) -> str:
    """Where a run's configuration is saved."""
    return os.path.join(logdir, "config.json")


def load_saved(logdir: str) -> Optional[dict[str, Any]]:
    """The saved ``config.json`` of a run (with ``classes``), or None for a new run."""
    path = config_path(logdir)
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def merge(given: dict[str, Any], saved: Optional[dict[str, Any]]) -> TrainConfig:
    """The run's config: defaults, then the saved run's values, then the options given now.

    Raises ValueError when a given option contradicts a structural setting of the saved run.
    """
    names = {f.name for f in dataclasses.fields(TrainConfig)}
    values = {k: v for k, v in (saved or {}).get("config", {}).items() if k in names}
    for key, value in given.items():
        if saved and key in STRUCTURAL and key in values and values[key] != value:
            raise ValueError(f"--{key.replace('_', '-')}={value} conflicts with the saved run in "
                             f"{config_path(given.get('logdir', ''))} ({key}={values[key]}); use another --logdir")
        values[key] = value
    return TrainConfig(**values)


def save(cfg: TrainConfig, classes: dict, logdir: str) -> None:
    """Writes ``config.json`` atomically: the config and the class mapping."""
    os.makedirs(logdir, exist_ok=True)
    tmp = config_path(logdir) + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump({"config": cfg.to_json(), "classes": classes}, f, indent=2)
    os.replace(tmp, config_path(logdir))


def parse(argv: Optional[Sequence[str]], description: str) -> tuple[dict[str, Any], argparse.ArgumentParser]:
    """Options given on the command line (only those), and the parser for error messages."""
    parser = build_parser(description)
    return vars(parser.parse_args(argv)), parser
