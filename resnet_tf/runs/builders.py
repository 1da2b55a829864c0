"""From a run's configuration to its objects: the one way every script builds them.

``train.py``, ``evaluate.py``, ``export.py``, ``predict.py``, ``import_tf1.py``, the benchmarks and the tests
turn a :class:`TrainConfig` (or a run folder, read by :func:`resnet_tf.runs.config_file.load_run`) into a
model, input-pipeline settings, checked CSV tables and a restored checkpoint through these functions only,
so a run means the same network and the same preprocessing wherever it is opened.
"""

from __future__ import annotations

import tensorflow as tf

from data_utils.csv_table import ClassMapping, CsvColumns, ImageTable, RowChecks, read_image_csv
from data_utils.pipeline import PipelineConfig
from resnet_tf.model import ResNet
from resnet_tf.runs.checkpoints import find_checkpoint, restore_weights
from resnet_tf.runs.choices import compute_dtype
from resnet_tf.runs.config import TrainConfig
from resnet_tf.runs.config_file import SavedRun


def build_model(cfg: TrainConfig, precision: str | None = None) -> ResNet:
    """The run's network, computing in ``precision`` (default: the run's own)."""
    return ResNet(
        cfg.network.arch,
        cfg.network.num_classes,
        use_shortcut=cfg.network.use_shortcut,
        width=cfg.network.width,
        seed=cfg.run.seed,
        compute_dtype=compute_dtype(precision or cfg.runtime.precision),
        layout=cfg.network.layout,
        image_size=cfg.data.image_size,
        sync_bn=cfg.runtime.sync_bn,
        stem=cfg.network.stem,
        zero_init_residual=cfg.network.zero_init_residual,
    )


def load_model(
    run: SavedRun, which: str = "best", precision: str | None = None, strategy: tf.distribute.Strategy | None = None
) -> tuple[ResNet, int, str]:
    """The run's network with the weights of checkpoint ``which`` (best, latest or a path; see
    :func:`resnet_tf.runs.checkpoints.find_checkpoint`): ``(model, step, checkpoint prefix)``; its variables are
    created in ``strategy``'s scope when given."""
    prefix = find_checkpoint(which, run.config.run.logdir)
    with (strategy or tf.distribute.get_strategy()).scope():
        model = build_model(run.config, precision)
    return model, restore_weights(model, prefix), prefix


def pipeline_settings(
    cfg: TrainConfig, *, training: bool, batch_size: int | None = None, threads: int | None = None
) -> PipelineConfig:
    """Input-pipeline settings of the run: its image size, seed and decode threads; augmentation only for
    ``training``, the centre crop (``--eval-crop``) only otherwise. ``batch_size`` is per input pipeline
    (default: the run's)."""
    return PipelineConfig(
        image_size=cfg.data.image_size,
        batch_size=batch_size or cfg.data.batch_size,
        augment=cfg.data.augment if training else "none",
        crop=1.0 if training else cfg.data.eval_crop,
        resize=cfg.data.resize,
        seed=cfg.run.seed,
        threads=threads or cfg.runtime.threads,
    )


def read_table(
    cfg: TrainConfig,
    csv_path: str,
    *,
    mapping: ClassMapping | None = None,
    require_labels: bool = True,
    checks: RowChecks | None = None,
) -> ImageTable:
    """Reads and checks a CSV with the run's column names and image root. Without ``mapping`` the CSV
    defines the classes (a training CSV); ``checks`` default to skipping bad rows as the run does."""
    return read_image_csv(
        csv_path,
        mapping=mapping,
        num_classes=cfg.network.num_classes if mapping is None else None,
        columns=CsvColumns(cfg.data.path_column, cfg.data.label_column, cfg.data.image_root),
        require_labels=require_labels,
        checks=checks or RowChecks(cfg.runtime.skip_bad_rows),
    )
