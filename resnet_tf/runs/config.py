"""The run configuration: one frozen dataclass whose fields are the options of ``train.py``, the parser
made from it, and the checks of each value.

Every list of allowed values comes from the TensorFlow-free table its implementation also reads
(``--help`` imports no TensorFlow); the option types come from the field annotations. How a run's
configuration is decided (defaults by image size, a saved run, the data) is :mod:`resnet_tf.runs.settle`;
how it is saved, :mod:`resnet_tf.runs.config_file`.
"""

from __future__ import annotations

import argparse
import dataclasses
import typing
from collections.abc import Sequence
from typing import Any

from data_utils.augment import augmentation_names
from data_utils.choices import RESIZES, VAL_FRACTION
from data_utils.images.normalization import normalization_names
from resnet_tf.console.errors import ConfigError
from resnet_tf.console.options import SHARED, Number
from resnet_tf.losses import loss_names
from resnet_tf.mixing import batch_augment_names
from resnet_tf.networks import network_names
from resnet_tf.runs.choices import CLASS_WEIGHTS, OPTIMIZERS, PRECISION_CHOICES, PRETRAINED, STRATEGIES
from resnet_tf.schedules import schedule_names
from resnet_tf.specs import LAYOUTS, MIN_IMAGE_SIZE, STEMS

ARCHS = network_names()
# Options of one invocation of train.py, not settings of the run (never saved in config.json).
INVOCATION_OPTIONS = ("quiet", "profile_steps")
# The bounds of every number option: the scripts' shared ones (resnet_tf.console.options), then train.py's own.
BOUNDS = {
    **{name: SHARED[name] for name in ("batch_size", "threads", "seed", "val_fraction", "num_classes", "width")},
    "image_size": Number(int, MIN_IMAGE_SIZE),
    "epochs": Number(int, 1),
    "max_steps": Number(int, 1),
    "lr": Number(float, 0, open_low=True),
    "warmup_steps": Number(int, 0),
    "weight_decay": Number(float, 0),
    "label_smoothing": Number(float, 0, 1, open_high=True),
    "mix_alpha": Number(float, 0, open_low=True),
    "eval_crop": Number(float, 0, 1, open_low=True),
    "ema_decay": Number(float, 0, 1, open_high=True),
    "early_stop_patience": Number(int, 0),
    "freeze_stages": Number(int, 0, 4),
    "log_every": Number(int, 1),
    "eval_every": Number(int, 1),
    "ckpt_every": Number(int, 1),
    "keep_checkpoints": Number(int, 1),
}


def option(
    default: Any,
    help: str,  # noqa: A002  argparse's name
    choices: Sequence[str] | None = None,
    flag: str | None = None,
    aliases: dict[str, Any] | None = None,
) -> Any:
    """A config field: its default, its ``--help`` text, its allowed values, for a boolean the flag that
    sets it when that is not ``--name`` (default False) or ``--no-name`` (default True), and extra flags
    that set it to a value (``{"--no-augment": "none"}``)."""
    return dataclasses.field(
        default=default, metadata={"help": help, "choices": choices, "flag": flag, "aliases": aliases or {}}
    )


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Everything a run depends on; each field is one command-line option (``--max-steps`` for max_steps).
    Frozen: :func:`resnet_tf.runs.settle.settle` makes the one a run uses, with every ``auto`` decided."""

    train_csv: str | None = option(None, "training CSV (path,label rows)")
    val_csv: str | None = option(None, "validation CSV, same format")
    logdir: str = option("runs/default", "run folder: events, checkpoints, config")
    arch: str = option(
        "resnet50", "network: a registered name (resnet_tf/networks.py; docs/extending.md adds one)", choices=ARCHS
    )
    use_shortcut: bool = option(True, "plain network without residual connections (ablation)", flag="--no-shortcut")
    width: int = option(64, "base channels (64 = standard; 16 trains fast on a CPU)")
    layout: str = option(
        "standard",
        "standard (Keras' ResNet), or original: the TF1 pipeline's network, for its "
        "checkpoints (import_tf1.py); its dense head is sized by --image-size",
        choices=tuple(LAYOUTS),
    )
    stem: str = option(
        "auto",
        "the network's first layers: standard (7x7/2 conv + 3x3/2 max pool), small (3x3/1 "
        "conv + pool: twice the resolution in every stage), cifar (3x3/1 conv, no pool); auto: "
        "standard from 128 px and with --pretrained, small below (the original layout: its own)",
        choices=("auto",) + tuple(STEMS),
    )
    num_classes: int | None = option(None, "classes (default: from the training CSV)")
    image_size: int = option(224, f"images are resized to this square size (>= {MIN_IMAGE_SIZE})")
    batch_size: int = option(32, "global batch size (split between the replicas)")
    epochs: int = option(30, "training length in epochs (ignored with --max-steps)")
    max_steps: int | None = option(None, "training length in steps")
    optimizer: str = option("adam", "adam (as the original) or sgd (momentum 0.9, Nesterov)", choices=OPTIMIZERS)
    lr: float = option(1e-3, "peak learning rate")
    lr_schedule: str = option(
        "cosine",
        "after warmup: constant, cosine to 0, step (x0.1 at 1/3 and 2/3), linear to 0 (resnet_tf/schedules.py)",
        choices=schedule_names(),
    )
    warmup_steps: int = option(0, "linear warmup from 0 to --lr")
    weight_decay: float | None = option(
        None,
        "L2 penalty on convolution and dense kernels (default: 5e-4 below "
        "128 px, as ResNets on CIFAR-size images; 1e-4 from 128 px, the "
        "ImageNet value)",
    )
    loss: str = option(
        "softmax", "softmax cross-entropy, or sigmoid on one-hot labels (the original)", choices=loss_names()
    )
    label_smoothing: float = option(0.1, "label smoothing in [0, 1) (0.1 is timm's default)")
    batch_augment: str = option(
        "none",
        "mix the images of each training batch, and their labels: mixup (blends), cutmix (pasted boxes)",
        choices=batch_augment_names(),
    )
    mix_alpha: float | None = option(
        None, "the Beta(alpha, alpha) the mixing share is drawn from (default: the kind's own, 0.2 / 1.0)"
    )
    class_weights: str = option("none", "balanced: weight classes by inverse frequency", choices=CLASS_WEIGHTS)
    augment: str = option(
        "auto",
        "training augmentation: standard (random resized crop, flip, brightness/contrast), "
        "light (pad-and-crop by 1/8, flip), none; auto: none below 64 px, light below 128 px, "
        "else standard",
        choices=("auto",) + augmentation_names(),
        aliases={"--no-augment": "none"},
    )
    eval_crop: float = option(
        1.0,
        "validation, evaluation and export score the centre of each image, this "
        "fraction of each side, resized (1 = the whole image; 0.875 is torchvision's "
        "crop of 224 from 256)",
    )
    ema_decay: float = option(
        0.0,
        "keep an exponential moving average of the weights with this decay (e.g. "
        "0.999; 0 = off): validation, the best checkpoint and evaluation use it",
    )
    early_stop_patience: int = option(0, "stop after this many validations without a better top-1 (0 = never)")
    pretrained: str | None = option(
        None,
        "start ResNet-50/101/152 from Keras' ImageNet weights (downloaded "
        "once into Keras' cache; sets --normalization caffe, new head)",
        choices=PRETRAINED,
    )
    freeze_stages: int = option(
        0,
        "keep the stem and the first K stages fixed (batch norm in inference mode "
        "there), for fine-tuning on little data; 0-4",
    )
    freeze_bn: bool = option(
        False,
        "batch norm as at inference while training: fixed statistics, for fine-tuning "
        "with small batches and for continuing an imported TF1 model as it trained",
    )
    log_every: int = option(50, "steps between training summaries")
    eval_every: int | None = option(None, "steps between validations, and at the end (default: every epoch)")
    ckpt_every: int = option(1000, "steps between checkpoints (and at the end, and on Ctrl-C/SIGTERM)")
    keep_checkpoints: int = option(10, "newest checkpoints kept")
    seed: int = option(0, "seed of weights, data order and augmentation")
    deterministic: bool = option(False, "deterministic TF ops: identical runs, somewhat slower")
    skip_bad_rows: bool = option(
        False, "skip bad CSV rows and undecodable images instead of stopping (listed in LOGDIR/bad_rows.csv)"
    )
    skip_nonfinite: bool = option(
        False, "skip steps whose loss or gradients are NaN/Inf (counted and logged) instead of stopping"
    )
    init_from: str | None = option(None, "start from this checkpoint (run folder or prefix) or Keras .h5 weights")
    demo: bool = option(False, "generate the synthetic demo data set and train a small network on it")
    image_dir: str | None = option(
        None,
        "a folder of class folders (ROOT/<class>/*.jpg, or ROOT/train/<class> and "
        "ROOT/val/<class>) instead of the CSVs: split once into LOGDIR/data/"
        "train.csv and val.csv, as python -m data_utils.make_csv does",
    )
    val_fraction: float = option(VAL_FRACTION, "with --image-dir: the fraction of each class kept for validation")
    precision: str = option(
        "float32",
        "float32, or mixed precision (float16 with loss scaling, bfloat16); "
        "auto: mixed_bfloat16 where the hardware computes bfloat16 natively (CPUs "
        "with AMX or AVX512-BF16, GPUs of compute capability 8.0+), else float32",
        choices=PRECISION_CHOICES,
    )
    jit: bool = option(False, "compile the step with XLA")
    strategy: str = option(
        "auto",
        "tf.distribute strategy: multi-worker when TF_CONFIG lists several workers, "
        "mirrored when several GPUs are visible, else default (one device)",
        choices=STRATEGIES,
    )
    sync_bn: bool = option(
        False,
        "batch norm statistics over the global batch of all replicas (for small "
        "per-replica batches); per replica otherwise",
    )
    threads: int | None = option(None, "image decode threads (default: all cores)")
    normalization: str = option(
        "imagenet",
        "input scaling; caffe matches Keras' ImageNet weights; "
        "rgb_minus_bgr_means is what the TF1 original fed its network",
        choices=normalization_names(),
    )
    resize: str = option(
        "auto", "auto: area when shrinking, cubic when enlarging; cubic: always (the original)", choices=RESIZES
    )
    path_column: str = option("path", "CSV column with image paths")
    label_column: str = option("label", "CSV column with labels")
    image_root: str | None = option(None, "relative image paths resolve here (default: the CSV's folder)")

    def to_json(self) -> dict[str, Any]:
        """The configuration as a JSON-able dict."""
        return dataclasses.asdict(self)


def option_name(field_name: str) -> str:
    """The command-line spelling of a field (``max_steps`` -> ``--max-steps``)."""
    return "--" + field_name.replace("_", "-")


def value_type(annotation: Any) -> type:
    """The Python type an option's text converts to: ``Optional[int]`` -> int, ``str`` -> str."""
    kinds = [k for k in typing.get_args(annotation) if k is not type(None)] or [annotation]
    return kinds[0]


def _add_option(parser: argparse.ArgumentParser, field: dataclasses.Field, kind: type) -> None:
    meta = field.metadata
    if kind is bool:
        flag = meta["flag"] or ("--no-" if field.default else "--") + field.name.replace("_", "-")
        parser.add_argument(flag, dest=field.name, action="store_const", const=not field.default, help=meta["help"])
        return
    for flag, value in meta["aliases"].items():
        parser.add_argument(
            flag, dest=field.name, action="store_const", const=value, help=f"same as {option_name(field.name)} {value}"
        )
    default_text = "" if field.default is None else f" (default: {field.default})"
    bounds = BOUNDS.get(field.name)
    parser.add_argument(
        option_name(field.name),
        dest=field.name,
        type=bounds.parser_type() if bounds else kind,
        choices=meta["choices"],
        help=meta["help"] + default_text,
    )


def parse_profile_steps(text: str) -> tuple[int, int]:
    """``"A,B"`` (or ``"A"``) -> ``(A, B)``, the first and last step profiled, counted from 1; raises
    ``argparse.ArgumentTypeError`` with the expected form otherwise (argparse turns it into a usage error)."""
    parts = text.split(",")
    try:
        first, last = (int(parts[0]), int(parts[-1])) if len(parts) <= 2 else (0, -1)
    except ValueError:
        first, last = 0, -1
    if not 1 <= first <= last:
        raise argparse.ArgumentTypeError(
            f"expected FIRST,LAST step numbers with 1 <= FIRST <= LAST (e.g. 10,15), got {text!r}"
        )
    return first, last


def build_parser(description: str) -> argparse.ArgumentParser:
    """An argparse parser with one option per config field; only options actually given are set."""
    parser = argparse.ArgumentParser(
        description=description,
        argument_default=argparse.SUPPRESS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    hints = typing.get_type_hints(TrainConfig)
    for field in dataclasses.fields(TrainConfig):
        _add_option(parser, field, value_type(hints[field.name]))
    parser.add_argument(
        "--quiet",
        action="store_true",
        help="print only warnings, errors and the final summary "
        "(LOGDIR/train.log still gets everything); not a setting of the run",
    )
    parser.add_argument(
        "--profile-steps",
        type=parse_profile_steps,
        metavar="FIRST,LAST",
        help="write a TensorFlow profiler trace of these training steps (counted from 1; leave out "
        "the first, which builds the graph) to LOGDIR/train, for TensorBoard's Profile tab; not a "
        "setting of the run",
    )
    return parser


def _check_range(cfg: TrainConfig) -> None:
    for name, bounds in BOUNDS.items():
        value = getattr(cfg, name)
        problem = None if value is None else bounds.problem(option_name(name), value)
        if problem:
            raise ConfigError(problem)


def check(cfg: TrainConfig) -> None:
    """Raises ConfigError for a setting that cannot work, naming the option (also for values read from a
    saved ``config.json``, which argparse never saw). How settings go together is checked where ``auto``
    is decided (:mod:`resnet_tf.runs.settle`)."""
    for field in dataclasses.fields(TrainConfig):
        choices = field.metadata["choices"]
        if choices and getattr(cfg, field.name) not in choices and getattr(cfg, field.name) is not None:
            raise ConfigError(
                f"{option_name(field.name)} must be one of {', '.join(choices)}, got {getattr(cfg, field.name)!r}"
            )
    _check_range(cfg)
    if cfg.deterministic and cfg.jit:
        raise ConfigError("--deterministic cannot be combined with --jit: XLA has no deterministic max-pool gradient")


def parse(argv: Sequence[str] | None, description: str) -> tuple[dict[str, Any], argparse.ArgumentParser]:
    """Options given on the command line (only those), and the parser for error messages."""
    parser = build_parser(description)
    return vars(parser.parse_args(argv)), parser


def options_markdown() -> str:
    """The options of ``train.py`` as a Markdown table, made from the configuration's fields (``docs/options.md``
    is this text)."""
    rows = ["| option | default | meaning |", "|---|---|---|"]
    hints = typing.get_type_hints(TrainConfig)
    for field in dataclasses.fields(TrainConfig):
        meta, kind = field.metadata, value_type(hints[field.name])
        flag = meta["flag"] or (
            ("--no-" if field.default else "--") + field.name.replace("_", "-")
            if kind is bool
            else option_name(field.name)
        )
        flags = ", ".join(f"`{f}`" for f in (flag, *meta["aliases"]))
        default = "" if kind is bool or field.default is None else f"`{field.default}`"
        choices = f" One of: {', '.join(meta['choices'])}." if meta["choices"] else ""
        meaning = meta["help"].replace("|", "/").rstrip(".") + "."
        rows.append(f"| {flags} | {default} | {meaning}{choices} |")
    return "\n".join(rows) + "\n"
