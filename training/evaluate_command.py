"""The work behind ``evaluate.py``: a run's checkpoint scored on a CSV, the results written and logged.

``evaluate.py`` parses the command line without TensorFlow and calls :func:`evaluate_run`.
"""

from __future__ import annotations

import argparse
import json
import logging
import os

from training.tf_env import apply_runtime_environment

apply_runtime_environment()  # before TensorFlow is imported

import numpy as np
import pandas as pd

from data_utils import ClassMapping, ImageTable
from resnet_tf import probabilities
from training.builders import load_model, load_run, pipeline_settings, read_table
from training.config import ConfigError
from training.distribution import local_placement
from training.evaluation import check_decoded, confusion_matrix, predict_table, score
from training.plots import plot_confusion_matrix
from training.val_report import per_class_frame
from training.step import make_predict_step

LOG = logging.getLogger("evaluate")
TOP_CONFUSIONS = 10


def write_predictions(path: str, table: ImageTable, mapping: ClassMapping, probs: np.ndarray,
                      mask: np.ndarray) -> None:
    """predictions.csv: path, label, predicted, probability, top-5 (names separated by '|')."""
    top5 = np.argsort(-probs, axis=1)[:, :5]
    names = np.array(mapping.names)
    frame = pd.DataFrame({"path": table.paths})
    if table.labels is not None:
        frame["label"] = names[table.labels]
    frame["predicted"] = np.where(mask, names[top5[:, 0]], "")
    frame["probability"] = np.where(mask, probs[np.arange(len(probs)), top5[:, 0]], np.nan)
    frame["top5"] = ["|".join(names[row]) if ok else "" for row, ok in zip(top5, mask)]
    frame["decoded"] = mask
    frame.to_csv(path, index=False)


def confused_pairs(matrix: np.ndarray, names: list[str], n: int = TOP_CONFUSIONS) -> list[tuple[str, str, int]]:
    """The most frequent (true, predicted) mistakes."""
    off = matrix.copy()
    np.fill_diagonal(off, 0)
    flat = np.argsort(-off, axis=None)[:n]
    return [(names[i], names[j], int(off[i, j])) for i, j in zip(*np.unravel_index(flat, off.shape)) if off[i, j] > 0]


def report(metrics: dict, per_class: pd.DataFrame, pairs: list) -> None:
    """Logs the results."""
    LOG.info("%d images: loss %.4f, top-1 %.4f, top-5 %.4f  (step %d, %s)", metrics["num_examples"], metrics["loss"],
             metrics["top1"], metrics["top5"], metrics["step"], metrics["checkpoint"])
    LOG.info("per-class accuracy, worst first:")
    for name, support, accuracy in per_class.head(10).itertuples(index=False, name=None):
        LOG.info("  %-30s %.3f  (%d images)", name, accuracy, support)
    if pairs:
        LOG.info("most confused (true -> predicted: count):")
        for true, pred, count in pairs:
            LOG.info("  %s -> %s: %d", true, pred, count)


def write_scores(out: str, metrics: dict, matrix: np.ndarray, names: list[str], title: str) -> pd.DataFrame:
    """metrics.json, per_class.csv, confusion_matrix.csv and .png in ``out``; returns the per-class table."""
    with open(os.path.join(out, "metrics.json"), "w", encoding="utf-8") as f:
        json.dump(metrics, f, indent=2)
    per_class = per_class_frame(matrix, names)
    per_class.to_csv(os.path.join(out, "per_class.csv"), index=False)
    pd.DataFrame(matrix, index=names, columns=names).to_csv(os.path.join(out, "confusion_matrix.csv"))
    plot_confusion_matrix(matrix, names, os.path.join(out, "confusion_matrix.png"), title=title)
    return per_class


def evaluate_run(args: argparse.Namespace) -> int:
    """Scores the run's checkpoint on the CSV and writes the results; returns the exit status."""
    run = load_run(args.logdir)
    cfg, mapping = run.config, run.mapping
    placement = local_placement()  # all GPUs of the machine when it has several
    placement.check_jit(args.jit)
    model, step, prefix = load_model(run, args.checkpoint, args.precision, placement.strategy)
    out = args.out or os.path.join(args.logdir, "eval", str(step))
    table = read_table(cfg, args.csv, mapping=mapping, require_labels=False, skip_bad_rows=args.skip_bad_rows,
                       bad_rows_file=os.path.join(out, "bad_rows.csv"))
    predict = make_predict_step(model, cfg.normalization, args.precision, args.jit)
    per_replica = max(1, args.batch_size // placement.replicas)
    if placement.replicas > 1:
        LOG.info("%s", placement.describe(per_replica * placement.replicas))
    preds = predict_table(predict, table, pipeline_settings(cfg, training=False, batch_size=per_replica,
                                                            threads=args.threads), strategy=placement.strategy)
    mask = check_decoded(table, preds, args.skip_bad_rows)
    try:
        os.makedirs(out, exist_ok=True)
        write_predictions(os.path.join(out, "predictions.csv"), table, mapping,
                          probabilities(preds.logits, cfg.loss).numpy(), mask)
        if table.labels is None:
            LOG.info("no label column in %s: wrote predictions for %d images to %s", args.csv, int(mask.sum()),
                     os.path.join(out, "predictions.csv"))
            return 0
        metrics = score(preds.logits, table.labels, cfg.loss, cfg.num_classes, mask)
        metrics.update(step=step, checkpoint=prefix, csv=os.path.abspath(args.csv))
        matrix = confusion_matrix(table.labels[mask], preds.logits[mask].argmax(1), cfg.num_classes)
        per_class = write_scores(out, metrics, matrix, mapping.names, title=f"{cfg.arch}, step {step}: top-1 "
                                 f"{metrics['top1']:.3f} on {metrics['num_examples']} images")
    except OSError as err:
        raise ConfigError(f"cannot write the results to {out} ({err.strerror or err}); choose another --out") from None
    report(metrics, per_class, confused_pairs(matrix, mapping.names))
    LOG.info("wrote %s/: metrics.json predictions.csv per_class.csv confusion_matrix.csv confusion_matrix.png", out)
    return 0
