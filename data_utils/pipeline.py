"""The ``tf.data`` input pipeline: epoch order from a seed, parallel OpenCV decode, batch, prefetch.

Every element is a dict of ``image`` (uint8 RGB ``[B, S, S, 3]``), ``label`` (int32, -1 when the CSV
has none), ``index`` (row in the :class:`ImageTable`) and ``ok`` (False where the file could not be
decoded: the image is then zeros and the caller reports ``table.paths[index]``).

Order is a pure function of ``(seed, epoch)`` and the *global* batch size: a resumed run that starts at
global step ``k`` sees exactly the batches an uninterrupted run would have seen from step ``k`` on. Under
``tf.distribute`` the global batch of step ``k`` is the same whatever the number of workers and replicas:
input pipeline ``p`` of ``P`` (one per worker) takes the ``p``-th contiguous slice of it and cuts it into
per-replica batches, which ``tf.distribute`` hands to the worker's replicas in turn. So replica ``r`` of
``R`` always gets slice ``r`` of the global batch, and a run can resume on another number of devices.
"""

from __future__ import annotations

import dataclasses
import os

import cv2
import numpy as np
import tensorflow as tf

from data_utils.augment import augment, example_rng
from data_utils.csv_table import ImageTable
from data_utils.errors import DataError, RowProblem
from data_utils.images.opencv import center_crop, decode_image, resize


@dataclasses.dataclass(frozen=True)
class PipelineConfig:
    """Settings of the input pipeline."""

    image_size: int = 224
    batch_size: int = 32  # per replica under tf.distribute (the global batch on one device)
    augment: str = (
        "standard"  # a registered augmentation (data_utils.augment); training only, evaluation never augments
    )
    crop: float = 1.0  # evaluation: centre crop (fraction of each side) before the resize
    resize: str = "auto"  # one of data_utils.images.RESIZES
    seed: int = 0
    threads: int | None = None  # decode threads; None lets tf.data tune it to the machine's cores
    prefetch: int = 2  # batches decoded ahead of the training step


def steps_per_epoch(num_examples: int, global_batch: int) -> int:
    """Full training batches per epoch (the last partial batch is dropped)."""
    return num_examples // global_batch


def epoch_order(num_examples: int, seed: int, epoch: int, global_batch: int) -> np.ndarray:
    """Example indices of one training epoch, cut to whole global batches."""
    order = np.random.default_rng([seed, epoch]).permutation(num_examples)
    return order[: steps_per_epoch(num_examples, global_batch) * global_batch]


def pipeline_share(global_batch: int, num_pipelines: int) -> int:
    """Examples of each global batch that one of ``num_pipelines`` input pipelines reads."""
    if global_batch % num_pipelines:
        raise ValueError(f"a global batch of {global_batch} cannot be split between {num_pipelines} workers")
    return global_batch // num_pipelines


def pipeline_slice(indices: np.ndarray, global_batch: int, num_pipelines: int, pipeline_id: int) -> np.ndarray:
    """The examples input pipeline ``pipeline_id`` reads: its contiguous share of every global batch
    (``indices`` holds whole global batches)."""
    share = pipeline_share(global_batch, num_pipelines)
    return indices.reshape(-1, num_pipelines, share)[:, pipeline_id].ravel()


def load_example(
    table: ImageTable, index: int, epoch: int, cfg: PipelineConfig, training: bool
) -> tuple[np.ndarray, bool]:
    """Decodes and preprocesses one example; returns ``(image, ok)`` and never raises on a bad file. Index
    -1 (padding of the last evaluation batch) gives a blank image, not ok."""
    if index < 0:
        return np.zeros((cfg.image_size, cfg.image_size, 3), np.uint8), False
    try:
        image = decode_image(table.paths[index])
    except ValueError:
        return np.zeros((cfg.image_size, cfg.image_size, 3), np.uint8), False
    if training and cfg.augment != "none":
        return augment(image, cfg.image_size, example_rng(cfg.seed, epoch, index), cfg.resize, cfg.augment), True
    return np.ascontiguousarray(resize(center_crop(image, cfg.crop), cfg.image_size, cfg.resize)), True


def _decode_fn(table: ImageTable, cfg: PipelineConfig, training: bool):
    labels = table.labels if table.labels is not None else np.full(len(table), -1, np.int32)

    def load(index, epoch):
        image, ok = tf.numpy_function(
            lambda i, e: load_example(table, int(i), int(e), cfg, training),
            [index, epoch],
            [tf.uint8, tf.bool],
            stateful=False,
        )
        image.set_shape([cfg.image_size, cfg.image_size, 3])
        ok.set_shape([])
        label = tf.gather(tf.constant(labels), tf.maximum(index, 0))
        return {"image": image, "label": label, "index": tf.cast(index, tf.int32), "ok": ok}

    return load


def _finish(ds: tf.data.Dataset, table: ImageTable, cfg: PipelineConfig, training: bool) -> tf.data.Dataset:
    # OpenCV's own thread pool would compete with tf.data's decode threads; one thread per decode is best.
    cv2.setNumThreads(1)
    parallel = cfg.threads or tf.data.AUTOTUNE
    ds = ds.map(_decode_fn(table, cfg, training), num_parallel_calls=parallel, deterministic=True)
    ds = ds.batch(cfg.batch_size, drop_remainder=training)
    ds = ds.prefetch(cfg.prefetch)
    options = tf.data.Options()
    options.deterministic = True
    # A pool of its own: decoding must not depend on (or starve) the ops' inter-op thread pool.
    options.threading.private_threadpool_size = cfg.threads or os.cpu_count() or 1
    return ds.with_options(options)


def train_dataset(
    table: ImageTable,
    cfg: PipelineConfig,
    start_step: int = 0,
    global_batch: int | None = None,
    num_pipelines: int = 1,
    pipeline_id: int = 0,
) -> tf.data.Dataset:
    """Endless training batches of ``cfg.batch_size`` (per replica) starting at global step ``start_step``
    (epoch and offset derived from it); ``global_batch`` defaults to ``cfg.batch_size`` (one device)."""
    global_batch = global_batch or cfg.batch_size
    per_epoch = steps_per_epoch(len(table), global_batch)
    if per_epoch == 0:
        raise DataError(
            [RowProblem(table.csv_path, 0, "", f"{len(table)} usable images cannot fill one batch of {global_batch}")],
            hint="Lower --batch-size or add images.",
        )
    start_epoch, start_batch = divmod(start_step, per_epoch)
    share = pipeline_share(global_batch, num_pipelines)

    def one_epoch(epoch):
        order = tf.numpy_function(
            lambda e: pipeline_slice(
                epoch_order(len(table), cfg.seed, int(e), global_batch), global_batch, num_pipelines, pipeline_id
            ),
            [epoch],
            tf.int64,
            stateful=False,
        )
        order.set_shape([per_epoch * share])
        return tf.data.Dataset.from_tensor_slices(order).map(lambda i: (i, epoch))

    ds = tf.data.Dataset.range(start_epoch, np.iinfo(np.int64).max).flat_map(one_epoch)
    return _finish(ds.skip(start_batch * share), table, cfg, training=True)


def eval_dataset(
    table: ImageTable,
    cfg: PipelineConfig,
    global_batch: int | None = None,
    num_pipelines: int = 1,
    pipeline_id: int = 0,
) -> tf.data.Dataset:
    """Every example once, in CSV order, no augmentation. On one device the last batch may be partial; with
    ``global_batch`` (under tf.distribute) the rows are padded with index -1 to whole global batches, so that
    every replica runs every step, and split as the training batches are."""
    indices = np.arange(len(table), dtype=np.int64)
    if global_batch:
        padded = -(-len(table) // global_batch) * global_batch
        indices = pipeline_slice(
            np.pad(indices, (0, padded - len(table)), constant_values=-1), global_batch, num_pipelines, pipeline_id
        )
    ds = tf.data.Dataset.from_tensor_slices(indices).map(lambda i: (i, tf.constant(0, tf.int64)))
    return _finish(ds, table, cfg, training=False)
