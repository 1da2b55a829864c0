"""Inference over a whole table of images: the prediction step, the logits of every row (on one device or
all replicas of a strategy), and the rows whose image did not decode. Shared by validation, evaluate.py
and predict.py."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import tensorflow as tf
from tqdm import tqdm

from data_utils.csv_table import ImageTable
from data_utils.errors import DataError, RowProblem
from data_utils.images.normalization import normalize
from data_utils.pipeline import PipelineConfig, eval_dataset
from resnet_tf.console.logs import progress_bars_on
from resnet_tf.model import ResNet
from resnet_tf.runs.placement import input_options
from resnet_tf.tta import tta


@dataclasses.dataclass
class Predictions:
    """Logits of every row of a table; ``ok`` is False where the image could not be decoded."""

    logits: np.ndarray
    ok: np.ndarray


def predict_table(
    predict: Callable,
    table: ImageTable,
    cfg: PipelineConfig,
    desc: str = "eval",
    show_progress: bool = True,
    strategy: tf.distribute.Strategy | None = None,
) -> Predictions:
    """Runs ``predict`` over every row of ``table`` in inference mode, with a progress bar. Under a strategy
    of several replicas ``cfg.batch_size`` is per replica: see :func:`predict_distributed`."""
    if strategy is not None and strategy.num_replicas_in_sync > 1:
        return predict_distributed(predict, table, cfg, strategy, desc, show_progress)
    logits, ok = [], []
    total = -(-len(table) // cfg.batch_size)
    for batch in tqdm(
        eval_dataset(table, cfg),
        total=total,
        desc=desc,
        unit="batch",
        leave=False,
        disable=not (show_progress and progress_bars_on()),
    ):
        logits.append(predict(batch["image"]).numpy())
        ok.append(batch["ok"].numpy())
    return Predictions(np.concatenate(logits), np.concatenate(ok))


def predict_distributed(
    predict: Callable,
    table: ImageTable,
    cfg: PipelineConfig,
    strategy: tf.distribute.Strategy,
    desc: str = "eval",
    show_progress: bool = True,
) -> Predictions:
    """Each replica (of every worker) scores its slice of each global batch; the logits are all-gathered,
    so every process holds all of them and computes the same metrics as one device would."""
    global_batch = cfg.batch_size * strategy.num_replicas_in_sync
    dataset = strategy.distribute_datasets_from_function(
        lambda ctx: eval_dataset(table, cfg, global_batch, ctx.num_input_pipelines, ctx.input_pipeline_id),
        input_options(strategy),
    )

    @tf.function(autograph=False)
    def gathered(batch):
        outputs = strategy.run(lambda b: (predict(b["image"]), b["index"], tf.cast(b["ok"], tf.int32)), args=(batch,))
        return [strategy.gather(v, axis=0) for v in outputs]

    logits, ok = None, np.zeros(len(table), bool)
    for batch in tqdm(
        dataset,
        total=-(-len(table) // global_batch),
        desc=desc,
        unit="batch",
        leave=False,
        disable=not (show_progress and progress_bars_on()),
    ):
        values, index, decoded = (v.numpy() for v in gathered(batch))
        logits = np.zeros((len(table), values.shape[1]), np.float32) if logits is None else logits
        rows = index >= 0  # padding of the last global batch
        logits[index[rows]], ok[index[rows]] = values[rows], decoded[rows].astype(bool)
    return Predictions(logits, ok)


def undecodable(table: ImageTable, rows: np.ndarray) -> list[RowProblem]:
    """The problem report of table ``rows`` whose image failed to decode: CSV file, line and path."""
    return [RowProblem(table.csv_path, table.lines[i], table.paths[i], "OpenCV cannot decode the image") for i in rows]


def check_decoded(table: ImageTable, preds: Predictions, skip: bool) -> np.ndarray:
    """Mask of usable rows; raises DataError naming the undecodable files unless ``skip``."""
    problems = undecodable(table, np.flatnonzero(~preds.ok))
    if problems and not skip:
        raise DataError(
            problems,
            hint="These files passed the quick check but do not decode; fix or remove them "
            "(or pass --skip-bad-rows to skip them).",
        )
    return preds.ok


def make_predict_step(model: ResNet, normalization: str, jit: bool = False, test_time: str = "none") -> Callable:
    """Returns ``predict(images uint8) -> logits float32`` in inference mode (any batch size), computing in
    the model's own precision: the mean of the logits of the views ``test_time`` (a registered test-time
    augmentation) makes of the images."""
    views = tta(test_time)

    @tf.function(jit_compile=jit or None, reduce_retracing=True, autograph=False)  # no tensor control flow
    def predict(images):
        return views.scored(lambda view: model(normalize(view, normalization), training=False), images)

    return predict
