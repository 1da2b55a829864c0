"""The run configuration: one frozen tree of six sections (network, data, optimization, run, runtime, lifelong) whose
leaves are the options of ``train.py``, and the checks of each value.

Every list of allowed values comes from the TensorFlow-free table its implementation also reads
(``--help`` imports no TensorFlow); the option types come from the field annotations. The command lines
made from the tree are :mod:`resnet_tf.runs.command_line`; how a run's configuration is decided (defaults
by image size, a saved run, the data), :mod:`resnet_tf.runs.settle`; how it is saved,
:mod:`resnet_tf.runs.config_file`.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Mapping
from typing import Any

from data_utils.augment import AUGMENTATIONS
from data_utils.choices import DEMO_KINDS, RESIZES, VAL_FRACTION
from data_utils.images.normalization import normalization_names
from resnet_tf.console.errors import ConfigError
from resnet_tf.console.options import SHARED, Number, option, parse_duration
from resnet_tf.lifelong.config import BOUNDS as LIFELONG_BOUNDS
from resnet_tf.lifelong.config import LifelongConfig
from resnet_tf.losses import LOSSES
from resnet_tf.mixing import BATCH_AUGMENTS
from resnet_tf.networks import network_names
from resnet_tf.runs.choices import CLASS_WEIGHTS, OPTIMIZERS, PRECISION_CHOICES, PRETRAINED, STRATEGIES
from resnet_tf.schedules import SCHEDULES
from resnet_tf.specs import LAYOUTS, MIN_IMAGE_SIZE, STEMS
from resnet_tf.tta import TTAS

ARCHS = network_names()
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
    **LIFELONG_BOUNDS,
}


@dataclasses.dataclass(frozen=True)
class NetworkConfig:
    """The network: its family member, shape and head, and where its weights start."""

    arch: str = option(
        "resnet50", "network: a registered name (resnet_tf/networks.py; docs/extending.md adds one)", choices=ARCHS
    )
    width: int = option(64, "base channels (64 = standard; 16 trains fast on a CPU)")
    use_shortcut: bool = option(True, "plain network without residual connections (ablation)", flag="--no-shortcut")
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
    pretrained: str | None = option(
        None,
        "start ResNet-50/101/152 from Keras' ImageNet weights (downloaded "
        "once into Keras' cache; sets --normalization caffe, new head)",
        choices=PRETRAINED,
    )
    init_from: str | None = option(None, "start from this checkpoint (run folder or prefix) or Keras .h5 weights")
    zero_init_residual: bool = option(
        False,
        "start each residual block's last batch-norm scale at 0, so every block starts as its shortcut "
        "(Goyal et al. 2017; torchvision's zero_init_residual)",
    )


@dataclasses.dataclass(frozen=True)
class DataConfig:
    """The images: where they are listed, how they are read, sized, batched and augmented."""

    train_csv: str | None = option(None, "training CSV (path,label rows)")
    val_csv: str | None = option(None, "validation CSV, same format")
    image_dir: str | None = option(
        None,
        "a folder of class folders (ROOT/<class>/*.jpg, or ROOT/train/<class> and "
        "ROOT/val/<class>) instead of the CSVs: split once into LOGDIR/data/"
        "train.csv and val.csv, as python -m data_utils.make_csv does",
    )
    val_fraction: float = option(VAL_FRACTION, "with --image-dir: the fraction of each class kept for validation")
    demo: str | None = option(
        None,
        "generate a built-in synthetic data set and train a small network on it: objects (51 classes; --demo "
        "alone) or lifelong (the same objects as 12 tasks by illumination, occlusion, size and clutter, learnt "
        "one after the other: docs/lifelong.md)",
        choices=DEMO_KINDS,
        const="objects",
    )
    path_column: str = option("path", "CSV column with image paths")
    label_column: str = option("label", "CSV column with labels")
    image_root: str | None = option(None, "relative image paths resolve here (default: the CSV's folder)")
    image_size: int = option(224, f"images are resized to this square size (>= {MIN_IMAGE_SIZE})")
    batch_size: int = option(
        64, "global batch size (split between the replicas); 64 trains more images a second than 32 on a CPU"
    )
    augment: str = option(
        "auto",
        f"training augmentation; {AUGMENTATIONS.describe()}; auto: flip below 64 px, light below 128 px, else standard",
        choices=("auto",) + AUGMENTATIONS.names(),
        aliases={"--no-augment": "none"},
    )
    normalization: str = option(
        "imagenet",
        "input scaling; caffe matches Keras' ImageNet weights; "
        "rgb_minus_bgr_means is what the TF1 original fed its network",
        choices=normalization_names(),
    )
    resize: str = option(
        "auto", "auto: area when shrinking, cubic when enlarging; cubic: always (the original)", choices=RESIZES
    )
    eval_crop: float = option(
        1.0,
        "validation, evaluation and export score the centre of each image, this "
        "fraction of each side, resized (1 = the whole image; 0.875 is torchvision's "
        "crop of 224 from 256)",
    )
    tta: str = option(
        "auto",
        f"test-time augmentation of validation, evaluate.py, predict.py and export.py; {TTAS.describe()}; "
        "auto: flip when the training augmentation mirrors images, else none",
        choices=("auto",) + TTAS.names(),
    )


@dataclasses.dataclass(frozen=True)
class OptimizationConfig:
    """How the weights are trained: length, optimizer, schedule, loss and regularisation."""

    epochs: int = option(30, "training length in epochs (ignored with --max-steps)")
    max_steps: int | None = option(None, "training length in steps")
    time_budget: str | None = option(
        None,
        "training length in time (90s, 10m, 1.5h), instead of --epochs or --max-steps: the run measures its "
        "first steps, sets its number of steps to fit, and saves it in config.json (a resumed run ends at the "
        "same step)",
    )
    optimizer: str = option("adam", "adam (as the original) or sgd (momentum 0.9, Nesterov)", choices=OPTIMIZERS)
    lr: float = option(2e-3, "peak learning rate (2e-3: Adam's 1e-3 for a batch of 32, doubled with the batch)")
    lr_schedule: str = option(
        "cosine",
        f"the learning rate after warmup; {SCHEDULES.describe()}",
        choices=SCHEDULES.names(),
    )
    warmup_steps: int = option(0, "linear warmup from 0 to --lr")
    weight_decay: float | None = option(
        None,
        "L2 penalty on convolution and dense kernels (default: 5e-4 below "
        "128 px, as ResNets on CIFAR-size images; 1e-4 from 128 px, the "
        "ImageNet value)",
    )
    loss: str = option("softmax", f"the output and its loss; {LOSSES.describe()}", choices=LOSSES.names())
    label_smoothing: float = option(0.1, "label smoothing in [0, 1) (0.1 is timm's default)")
    batch_augment: str = option(
        "none",
        f"mix the images of each training batch, and their labels; {BATCH_AUGMENTS.describe()}",
        choices=BATCH_AUGMENTS.names(),
    )
    mix_alpha: float | None = option(
        None, "the Beta(alpha, alpha) the mixing share is drawn from (default: the kind's own, 0.2 / 1.0)"
    )
    class_weights: str = option("none", "balanced: weight classes by inverse frequency", choices=CLASS_WEIGHTS)
    ema_decay: float = option(
        0.0,
        "keep an exponential moving average of the weights with this decay (e.g. "
        "0.999; 0 = off): validation, the best checkpoint and evaluation use it",
    )
    early_stop_patience: int = option(0, "stop after this many validations without a better top-1 (0 = never)")
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


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """The run folder and its rhythm: where it is written, how often it logs, validates and saves; its seed."""

    logdir: str = option("runs/default", "run folder: events, checkpoints, config")
    seed: int = option(0, "seed of weights, data order and augmentation")
    log_every: int = option(50, "steps between training summaries")
    eval_every: int | None = option(None, "steps between validations, and at the end (default: every epoch)")
    ckpt_every: int = option(1000, "steps between checkpoints (and at the end, and on Ctrl-C/SIGTERM)")
    keep_checkpoints: int = option(10, "newest checkpoints kept")


@dataclasses.dataclass(frozen=True)
class RuntimeConfig:
    """How this machine computes it: precision, XLA, devices, threads, determinism, and what to do with bad input."""

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
    deterministic: bool = option(False, "deterministic TF ops: identical runs, somewhat slower")
    skip_bad_rows: bool = option(
        False,
        "skip bad CSV rows and undecodable images instead of stopping (listed in bad_rows.csv in the run "
        "folder, or in evaluate.py's output folder)",
    )
    skip_nonfinite: bool = option(
        False, "skip steps whose loss or gradients are NaN/Inf (counted and logged) instead of stopping"
    )


SECTIONS = ("network", "data", "optimization", "run", "runtime", "lifelong")


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Everything a run depends on, as a tree of six sections; each leaf is one command-line option
    (``--max-steps`` for ``optimization.max_steps``), named once across the tree. Frozen:
    :func:`resnet_tf.runs.settle.settle` makes the one a run uses, with every ``auto`` decided."""

    network: NetworkConfig = dataclasses.field(default_factory=NetworkConfig)
    data: DataConfig = dataclasses.field(default_factory=DataConfig)
    optimization: OptimizationConfig = dataclasses.field(default_factory=OptimizationConfig)
    run: RunConfig = dataclasses.field(default_factory=RunConfig)
    runtime: RuntimeConfig = dataclasses.field(default_factory=RuntimeConfig)
    lifelong: LifelongConfig = dataclasses.field(default_factory=LifelongConfig)

    @classmethod
    def from_options(cls, options: Mapping[str, Any] | None = None, **more: Any) -> TrainConfig:
        """The configuration with these options (flat names, as the command line and ``requested`` spell
        them: ``arch``, ``lr``) and the defaults for the rest. A TypeError names an unknown option."""
        values, owner = {**(options or {}), **more}, section_of_options()
        unknown = set(values) - set(owner)
        if unknown:
            raise TypeError(f"unknown options: {', '.join(sorted(unknown))}")
        return cls(
            **{
                name: section(**{k: v for k, v in values.items() if owner[k] == name})
                for name, section in section_classes().items()
            }
        )

    def options(self) -> dict[str, Any]:
        """Every option's value by its flat name (``{"arch": "resnet50", "lr": 0.001, ...}``)."""
        return {k: v for name in SECTIONS for k, v in dataclasses.asdict(getattr(self, name)).items()}

    def replace(self, **options: Any) -> TrainConfig:
        """A copy with these options (flat names) changed."""
        return TrainConfig.from_options({**self.options(), **options})

    def to_json(self) -> dict[str, Any]:
        """The configuration as a JSON-able tree (``{"network": {"arch": ...}, "data": {...}, ...}``)."""
        return dataclasses.asdict(self)


def section_classes() -> dict[str, type]:
    """The dataclass of each section, by section name."""
    hints = typing.get_type_hints(TrainConfig)
    return {name: hints[name] for name in SECTIONS}


def option_fields() -> list[tuple[str, dataclasses.Field]]:
    """Every option as (its section's name, its dataclass field), in the order ``--help`` shows them."""
    return [(name, field) for name, kind in section_classes().items() for field in dataclasses.fields(kind)]


def option_types() -> dict[str, type]:
    """The Python type each option's text converts to, by flat name."""
    hints = {k: v for kind in section_classes().values() for k, v in typing.get_type_hints(kind).items()}
    return {name: value_type(kind) for name, kind in hints.items()}


def section_of_options() -> dict[str, str]:
    """The section each option (flat name) lives in."""
    return {field.name: section for section, field in option_fields()}


def flattened(tree: Mapping[str, Any]) -> dict[str, Any]:
    """A saved configuration's options by flat name: a tree of sections (this version) flattened; a flat
    dict (earlier versions) as it is."""
    if not any(isinstance(tree.get(name), dict) for name in SECTIONS):
        return dict(tree)
    outside = {k: v for k, v in tree.items() if k not in SECTIONS}  # a later version's: named by the caller
    return {**outside, **{k: v for name in SECTIONS for k, v in tree.get(name, {}).items()}}


def option_name(field_name: str) -> str:
    """The command-line spelling of a field (``max_steps`` -> ``--max-steps``)."""
    return "--" + field_name.replace("_", "-")


def value_type(annotation: Any) -> type:
    """The Python type an option's text converts to: ``Optional[int]`` -> int, ``str`` -> str."""
    kinds = [k for k in typing.get_args(annotation) if k is not type(None)] or [annotation]
    return kinds[0]


def check(cfg: TrainConfig) -> None:
    """Raises ConfigError for a setting that cannot work, naming the option (also for values read from a
    saved ``config.json``, which argparse never saw). How settings go together is checked where ``auto``
    is decided (:mod:`resnet_tf.runs.settle`)."""
    values = cfg.options()
    for _, field in option_fields():
        choices, value = field.metadata["choices"], values[field.name]
        if choices and value not in choices and value is not None:
            raise ConfigError(f"{option_name(field.name)} must be one of {', '.join(choices)}, got {value!r}")
    for name, bounds in BOUNDS.items():
        problem = None if values[name] is None else bounds.problem(option_name(name), values[name])
        if problem:
            raise ConfigError(problem)
    if cfg.optimization.time_budget is not None:
        try:
            parse_duration(cfg.optimization.time_budget)
        except ValueError as err:
            raise ConfigError(f"--time-budget {err}") from None
    if cfg.runtime.deterministic and cfg.runtime.jit:
        raise ConfigError("--deterministic cannot be combined with --jit: XLA has no deterministic max-pool gradient")
