"""Inference over a whole CSV and the metrics computed from it (shared by train.py and evaluate.py)."""

from __future__ import annotations

import dataclasses
from typing import Callable, Optional

import numpy as np
import tensorflow as tf
from tqdm import tqdm

from data_utils import DataError, ImageTable, PipelineConfig, RowProblem, eval_dataset
from data_utils.console import progress_bars_on
from training.step import per_example_loss


@dataclasses.dataclass
class Predictions:
    """Logits of every row of a table; ``ok`` is False where the image could not be decoded."""

    logits: np.ndarray
    ok: np.ndarray


def predict_table(predict: Callable, table: ImageTable, cfg: PipelineConfig, desc: str = "eval",
                  show_progress: bool = True, strategy: Optional[tf.distribute.Strategy] = None) -> Predictions:
    """Runs ``predict`` over every row of ``table`` in inference mode, with a progress bar. Under a strategy
    of several replicas ``cfg.batch_size`` is per replica: see :func:`predict_distributed`."""
    if strategy is not None and strategy.num_replicas_in_sync > 1:
        return predict_distributed(predict, table, cfg, strategy, desc, show_progress)
    logits, ok = [], []
    total = -(-len(table) // cfg.batch_size)
    for batch in tqdm(eval_dataset(table, cfg), total=total, desc=desc, unit="batch", leave=False,
                      disable=not (show_progress and progress_bars_on())):
        logits.append(predict(batch["image"]).numpy())
        ok.append(batch["ok"].numpy())
    return Predictions(np.concatenate(logits), np.concatenate(ok))


def predict_distributed(predict: Callable, table: ImageTable, cfg: PipelineConfig, strategy: tf.distribute.Strategy,
                        desc: str = "eval", show_progress: bool = True) -> Predictions:
    """Each replica (of every worker) scores its slice of each global batch; the logits are all-gathered,
    so every process holds all of them and computes the same metrics as one device would."""
    global_batch = cfg.batch_size * strategy.num_replicas_in_sync
    dataset = strategy.distribute_datasets_from_function(
        lambda ctx: eval_dataset(table, cfg, global_batch, ctx.num_input_pipelines, ctx.input_pipeline_id))

    @tf.function
    def gathered(batch):
        outputs = strategy.run(lambda b: (predict(b["image"]), b["index"], tf.cast(b["ok"], tf.int32)), args=(batch,))
        return [strategy.gather(v, axis=0) for v in outputs]

    logits, ok = None, np.zeros(len(table), bool)
    for batch in tqdm(dataset, total=-(-len(table) // global_batch), desc=desc, unit="batch", leave=False,
                      disable=not (show_progress and progress_bars_on())):
        values, index, decoded = (v.numpy() for v in gathered(batch))
        logits = np.zeros((len(table), values.shape[1]), np.float32) if logits is None else logits
        rows = index >= 0  # padding of the last global batch
        logits[index[rows]], ok[index[rows]] = values[rows], decoded[rows].astype(bool)
    return Predictions(logits, ok)


def undecodable(table: ImageTable, rows: np.ndarray) -> list[RowProblem]:
    """The problem report of table ``rows`` whose image failed to decode: CSV file, line and path."""
    return [RowProblem(table.csv_path, table.lines[i], table.paths[i], "OpenCV cannot decode the image")
            for i in rows]


def check_decoded(table: ImageTable, preds: Predictions, skip: bool) -> np.ndarray:
    """Mask of usable rows; raises DataError naming the undecodable files unless ``skip``."""
    problems = undecodable(table, np.flatnonzero(~preds.ok))
    if problems and not skip:
        raise DataError(problems, hint="These files passed the quick check but do not decode; fix or remove them "
                                       "(or pass --skip-bad-rows to skip them).")
    return preds.ok


def topk_correct(logits: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Whether each label is among the ``k`` highest logits."""
    k = min(k, logits.shape[1])
    top = np.argpartition(-logits, k - 1, axis=1)[:, :k]
    return (top == labels[:, None]).any(axis=1)


def score(logits: np.ndarray, labels: np.ndarray, loss: str, num_classes: int,
          mask: Optional[np.ndarray] = None) -> dict:
    """Mean loss, top-1 and top-5 accuracy over the rows in ``mask`` (all by default)."""
    if mask is not None:
        logits, labels = logits[mask], labels[mask]
    losses = per_example_loss(labels, logits, num_classes, loss).numpy()
    return {"loss": float(losses.mean()), "top1": float(topk_correct(logits, labels, 1).mean()),
            "top5": float(topk_correct(logits, labels, 5).mean()), "num_examples": int(len(labels))}


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray, num_classes: int) -> np.ndarray:
    """``[true, predicted]`` counts."""
    matrix = np.zeros((num_classes, num_classes), np.int64)
    np.add.at(matrix, (labels, predicted), 1)
    return matrix
