"""The work behind ``predict.py``: images, folders or CSVs scored by a run's checkpoint or an exported SavedModel.

``predict.py`` parses the command line without TensorFlow and calls :func:`predict`.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging

import numpy as np
import pandas as pd
import tensorflow as tf
from tqdm import tqdm

from data_utils.csv_table import ImageTable
from data_utils.errors import RowProblem
from data_utils.image_files import find_images
from resnet_tf.console import files
from resnet_tf.console.errors import ConfigError, writing
from resnet_tf.console.logs import printable, progress_bars_on
from resnet_tf.evaluation.predictions import make_predict_step, predict_table
from resnet_tf.evaluation.sequence_results import final_network
from resnet_tf.losses import probabilities
from resnet_tf.runs.builders import load_model, pipeline_settings
from resnet_tf.runs.config_file import SavedRun
from resnet_tf.serving.export_folder import read_class_names

LOG = logging.getLogger(__name__)


@dataclasses.dataclass
class Scored:
    """Probabilities of every image (rows of failed images are NaN) and why images failed."""

    class_names: list[str]
    probabilities: np.ndarray
    failed: dict[str, str]


def score_with_run(args: argparse.Namespace, run: SavedRun, paths: list[str]) -> Scored:
    """The checkpoint of ``run`` over ``paths``, decoded by the training pipeline (OpenCV); for a sequence of
    tasks, the network at the end of its last task learnt."""
    args, run = final_network(args, run)
    model, _, _ = load_model(run, args.checkpoint or "best")
    table = ImageTable("(command line)", paths, [0] * len(paths), None, None)
    settings = pipeline_settings(run.config, training=False, batch_size=args.batch_size, threads=args.threads)
    predict = make_predict_step(model, run.config.data.normalization, test_time=run.config.data.tta)
    preds = predict_table(predict, table, settings, desc="predict")
    probs = probabilities(preds.logits, run.config.optimization.loss).numpy()
    probs[~preds.ok] = np.nan
    failed = {p: "OpenCV cannot decode the image" for p, ok in zip(paths, preds.ok) if not ok}
    return Scored(list(run.mapping.names), probs, failed)


def op_error_reason(message: str) -> str:
    """The sentence of a TensorFlow op error that says what went wrong, without the graph location lines."""
    noise = ("Graph execution error", "Detected at node", "<stack traces", "[[{{node")
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    reason = next((line for line in lines if not line.startswith(noise)), lines[0] if lines else message)
    return reason.split(" [Op:")[0][:200]


def _serve_one_by_one(serve, paths: list[str], data: list[bytes], out: np.ndarray, failed: dict) -> None:
    """Scores a batch image by image, to tell which images the SavedModel cannot decode."""
    for i, (path, blob) in enumerate(zip(paths, data)):
        if path in failed:
            continue
        try:
            out[i] = serve(image_bytes=tf.constant([blob]))["probabilities"].numpy()[0]
        except tf.errors.InvalidArgumentError as err:
            failed[path] = f"the SavedModel cannot decode it: {op_error_reason(err.message)}"


def score_with_saved_model(args: argparse.Namespace, paths: list[str]) -> Scored:
    """The exported model's ``serving_default`` over the encoded bytes of ``paths``."""
    names = read_class_names(args.saved_model)
    serve = tf.saved_model.load(args.saved_model).signatures["serving_default"]
    probs, failed = np.full((len(paths), len(names)), np.nan, np.float32), {}
    for start in tqdm(
        range(0, len(paths), args.batch_size), desc="predict", unit="batch", leave=False, disable=not progress_bars_on()
    ):
        batch, data = paths[start : start + args.batch_size], []
        for path in batch:
            try:
                data.append(files.read_bytes(path))
            except OSError as err:
                failed[path] = f"cannot read the file: {err.strerror or err}"
                data.append(b"")
        rows = probs[start : start + len(batch)]
        try:
            rows[:] = serve(image_bytes=tf.constant(data))["probabilities"].numpy()
        except tf.errors.InvalidArgumentError:
            _serve_one_by_one(serve, batch, data, rows, failed)  # rows of failed images stay NaN
    return Scored(names, probs, failed)


def top_k_table(paths: list[str], scored: Scored, k: int) -> pd.DataFrame:
    """One row per image: path, best class and probability, the top-k names and probabilities (JSON lists,
    so that any class name reads back as it is), error."""
    names = np.array(scored.class_names, dtype=object)
    k = min(k, len(names))
    order = np.argsort(-np.nan_to_num(scored.probabilities, nan=-1.0), axis=1)[:, :k]
    rows = []
    for path, top, probs in zip(paths, order, scored.probabilities):
        error = scored.failed.get(path, "")
        rows.append(
            {
                "path": path,
                "predicted": "" if error else names[top[0]],
                "probability": np.nan if error else float(probs[top[0]]),
                "top_k": "" if error else json.dumps(list(names[top]), ensure_ascii=False),
                "top_k_probabilities": "" if error else json.dumps([round(float(probs[j]), 4) for j in top]),
                "error": error,
            }
        )
    return pd.DataFrame(rows)


def log_table(table: pd.DataFrame, problems: list[RowProblem]) -> None:
    """The predictions as a table, then the files that could not be used."""
    good = table[table["error"] == ""]
    width = min(max([len(p) for p in good["path"]] + [5]), 60)
    LOG.info("%-*s  %s", width, "image", "top classes (probability)")
    for row in good.itertuples(index=False):
        cells = "  ".join(
            f"{printable(name)} {p:.3f}" for name, p in zip(json.loads(row.top_k), json.loads(row.top_k_probabilities))
        )
        LOG.info("%-*s  %s", width, row.path if len(row.path) <= width else "..." + row.path[-width + 3 :], cells)
    unusable = [f"{p}: {r}" for p, r in zip(table["path"], table["error"]) if r] + [str(p) for p in problems]
    if unusable:
        LOG.warning("%d files could not be used:\n  %s", len(unusable), "\n  ".join(unusable))


def predict(args: argparse.Namespace, run: SavedRun | None) -> int:
    """Finds the images, scores them with ``run`` (the run folder ``args.logdir``, read) or else the export
    ``args.saved_model``, prints and writes the predictions."""
    if args.top_k < 1:
        raise ConfigError(f"--top-k must be at least 1, got {args.top_k}")
    if args.out and files.exists(args.out):
        raise ConfigError(f"--out {args.out} exists; choose a new file (predictions are never written over a file)")
    paths, problems = find_images(args.inputs)
    if not paths:
        raise ConfigError("no image files found in " + ", ".join(args.inputs) + "".join(f"\n  {p}" for p in problems))
    scored = score_with_run(args, run, paths) if run else score_with_saved_model(args, paths)
    table = top_k_table(paths, scored, args.top_k)
    log_table(table, problems)
    if args.out:
        extra = pd.DataFrame([{"path": p.csv_path, "error": p.reason} for p in problems], columns=table.columns)
        with writing(args.out, "choose another --out"):
            files.write_atomic(args.out, pd.concat([table, extra], ignore_index=True).to_csv(index=False))
        LOG.info("wrote %d predictions to %s", len(table) - len(scored.failed), args.out)
    return 0
