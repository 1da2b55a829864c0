"""The ``tf.data`` input pipeline: epoch order from a seed, parallel OpenCV decode, batch, prefetch.

Every element is a dict of ``image`` (uint8 RGB ``[B, S, S, 3]``), ``label`` (int32, -1 when the CSV
has none), ``index`` (row in the :class:`ImageTable`) and ``ok`` (False where the file could not be
decoded: the image is then zeros and the caller reports ``table.paths[index]``).

Order is a pure function of ``(seed, epoch)``: a resumed run that starts at global step ``k`` sees exactly
the batches an uninterrupted run would have seen from step ``k`` on. Workers of a ``tf.distribute``
strategy each take a disjoint shard of every epoch (``shard_index::num_shards``).
"""

from __future__ import annotations

import dataclasses
import os
from typing import Optional

import cv2
import numpy as np
import tensorflow as tf

from data_utils.augment import augment, example_rng
from data_utils.csv_table import ImageTable
from data_utils.errors import DataError, RowProblem
from data_utils.images import decode_image, resize


@dataclasses.dataclass(frozen=True)
class PipelineConfig:
    """Settings of the input pipeline."""

    image_size: int = 224
    batch_size: int = 32          # per input pipeline (per worker under tf.distribute)
    augment: bool = True          # training only; evaluation never augments
    resize: str = "auto"          # one of data_utils.images.RESIZES
    seed: int = 0
    threads: Optional[int] = None  # decode threads; None lets tf.data tune it to the machine's cores
    prefetch: int = 2              # batches decoded ahead of the training step


def steps_per_epoch(num_examples: int, batch_size: int, num_shards: int = 1) -> int:
    """Full training batches per epoch for one shard (the last partial batch is dropped)."""
    return (num_examples // num_shards) // batch_size


def epoch_order(num_examples: int, seed: int, epoch: int, batch_size: int, num_shards: int = 1,
                shard_index: int = 0) -> np.ndarray:
    """Example indices of one training epoch for one shard, cut to whole batches."""
    order = np.random.default_rng([seed, epoch]).permutation(num_examples)
    # Equal-length shards keep the workers in step; the few examples beyond them wait for another epoch.
    per_shard = num_examples // num_shards
    shard = order[shard_index * per_shard:(shard_index + 1) * per_shard]
    return shard[:(per_shard // batch_size) * batch_size]


def load_example(table: ImageTable, index: int, epoch: int, cfg: PipelineConfig, training: bool
                 ) -> tuple[np.ndarray, bool]:
    """Decodes and preprocesses one example; returns ``(image, ok)`` and never raises on a bad file."""
    try:
        image = decode_image(table.paths[index])
    except ValueError:
        return np.zeros((cfg.image_size, cfg.image_size, 3), np.uint8), False
    if training and cfg.augment:
        return augment(image, cfg.image_size, example_rng(cfg.seed, epoch, index), cfg.resize), True
    return np.ascontiguousarray(resize(image, cfg.image_size, cfg.resize)), True


def _decode_fn(table: ImageTable, cfg: PipelineConfig, training: bool):
    labels = table.labels if table.labels is not None else np.full(len(table), -1, np.int32)

    def load(index, epoch):
        image, ok = tf.numpy_function(
            lambda i, e: load_example(table, int(i), int(e), cfg, training), [index, epoch], [tf.uint8, tf.bool],
            stateful=False)
        image.set_shape([cfg.image_size, cfg.image_size, 3])
        ok.set_shape([])
        label = tf.gather(tf.constant(labels), index)
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


def train_dataset(table: ImageTable, cfg: PipelineConfig, start_step: int = 0, num_shards: int = 1,
                  shard_index: int = 0) -> tf.data.Dataset:
    """Endless training batches starting at global step ``start_step`` (epoch and offset derived from it)."""
    per_epoch = steps_per_epoch(len(table), cfg.batch_size, num_shards)
    if per_epoch == 0:
        raise DataError([RowProblem(table.csv_path, 0, "", f"{len(table)} usable images cannot fill one batch of "
                                    f"{cfg.batch_size}" + (f" for each of {num_shards} workers" if num_shards > 1 else ""))],
                        hint="Lower --batch-size or add images.")
    start_epoch, start_batch = divmod(start_step, per_epoch)

    def one_epoch(epoch):
        order = tf.numpy_function(
            lambda e: epoch_order(len(table), cfg.seed, int(e), cfg.batch_size, num_shards, shard_index),
            [epoch], tf.int64, stateful=False)
        order.set_shape([per_epoch * cfg.batch_size])
        return tf.data.Dataset.from_tensor_slices(order).map(lambda i: (i, epoch))

    ds = tf.data.Dataset.range(start_epoch, np.iinfo(np.int64).max).flat_map(one_epoch)
    return _finish(ds.skip(start_batch * cfg.batch_size), table, cfg, training=True)


def eval_dataset(table: ImageTable, cfg: PipelineConfig, num_shards: int = 1, shard_index: int = 0
                 ) -> tf.data.Dataset:
    """Every example once, in CSV order, the last batch possibly partial; no augmentation."""
    indices = np.arange(len(table), dtype=np.int64)[shard_index::num_shards]
    ds = tf.data.Dataset.from_tensor_slices(indices).map(lambda i: (i, tf.constant(0, tf.int64)))
    return _finish(ds, table, cfg, training=False)
