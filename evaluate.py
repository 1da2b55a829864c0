"""Score a trained run's checkpoint on a CSV: loss, top-1/top-5, per-class accuracy, confusion matrix.

    python evaluate.py --logdir runs/NAME --csv VAL.csv [--checkpoint best|latest|PATH] [--out DIR]

Writes metrics.json, predictions.csv, per_class.csv, confusion_matrix.csv and confusion_matrix.png to
--out (default LOGDIR/eval/<step>/). A CSV without a label column gets predictions.csv only.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Optional, Sequence

from training.tf_env import apply_runtime_environment

apply_runtime_environment()  # before TensorFlow is imported

import numpy as np
import pandas as pd
import tensorflow as tf

from data_utils import ClassMapping, DataError, PipelineConfig, read_image_csv
from resnet_tf import ResNet, probabilities
from training.runtime import configure_threads
from training.config import PRECISIONS, TrainConfig, load_saved
from training.evaluation import Predictions, check_decoded, confusion_matrix, predict_table, score
from training.plots import plot_confusion_matrix
from training.step import compute_dtype, make_predict_step

TOP_CONFUSIONS = 10


def parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--logdir", required=True, help="the training run's folder (holds config.json)")
    parser.add_argument("--csv", required=True, help="CSV of images to score (path,label) or predict (path)")
    parser.add_argument("--checkpoint", default="best", help="best, latest, or a checkpoint path prefix")
    parser.add_argument("--out", default=None, help="output folder (default: LOGDIR/eval/<step>)")
    parser.add_argument("--batch-size", type=int, default=64, help="images per inference batch")
    parser.add_argument("--skip-bad-rows", action="store_true", help="skip bad rows and undecodable images")
    parser.add_argument("--precision", choices=PRECISIONS, default="float32", help="inference precision")
    parser.add_argument("--jit", action="store_true", help="compile inference with XLA")
    parser.add_argument("--threads", type=int, default=None, help="image decode threads (default: all cores)")
    return parser.parse_args(argv)


def find_checkpoint(logdir: str, which: str) -> str:
    """Checkpoint prefix for best / latest / an explicit path; best falls back to latest."""
    if which not in ("best", "latest"):
        if not tf.io.gfile.exists(which + ".index"):
            raise FileNotFoundError(f"checkpoint not found: {which}")
        return which
    order = ("best", "checkpoints") if which == "best" else ("checkpoints",)
    for folder in order:
        path = tf.train.latest_checkpoint(os.path.join(logdir, folder))
        if path:
            return path
    raise FileNotFoundError(f"no checkpoint in {logdir}/best or {logdir}/checkpoints")


def restore_model(cfg: TrainConfig, prefix: str, precision: str) -> tuple[ResNet, int]:
    """The run's network with the checkpoint's weights, and the checkpoint's step."""
    model = ResNet(cfg.depth, cfg.num_classes, use_shortcut=cfg.use_shortcut, width=cfg.width,
                   compute_dtype=compute_dtype(precision))
    step = tf.Variable(0, dtype=tf.int64)
    tf.train.Checkpoint(model=model, step=step).restore(prefix).expect_partial().assert_existing_objects_matched()
    return model, int(step)


def write_predictions(path: str, table, mapping: ClassMapping, probs: np.ndarray, mask: np.ndarray) -> None:
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


def per_class_frame(matrix: np.ndarray, names: list[str]) -> pd.DataFrame:
    """Per-class support and accuracy, worst first."""
    support = matrix.sum(axis=1)
    correct = np.diag(matrix)
    frame = pd.DataFrame({"class": names, "support": support,
                          "accuracy": np.where(support > 0, correct / np.maximum(support, 1), np.nan)})
    return frame.sort_values(["accuracy", "class"], na_position="last").reset_index(drop=True)


def confused_pairs(matrix: np.ndarray, names: list[str], n: int = TOP_CONFUSIONS) -> list[tuple[str, str, int]]:
    """The most frequent (true, predicted) mistakes."""
    off = matrix.copy()
    np.fill_diagonal(off, 0)
    flat = np.argsort(-off, axis=None)[:n]
    return [(names[i], names[j], int(off[i, j])) for i, j in zip(*np.unravel_index(flat, off.shape)) if off[i, j] > 0]


def report(metrics: dict, per_class: pd.DataFrame, pairs: list) -> None:
    """Prints the results."""
    print(f"{metrics['num_examples']} images: loss {metrics['loss']:.4f}, top-1 {metrics['top1']:.4f}, "
          f"top-5 {metrics['top5']:.4f}  (step {metrics['step']}, {metrics['checkpoint']})")
    print("per-class accuracy, worst first:")
    for row in per_class.head(10).itertuples():
        print(f"  {row._1 if hasattr(row, '_1') else row[1]:<30} {row.accuracy:.3f}  ({row.support} images)")
    if pairs:
        print("most confused (true -> predicted: count):")
        for true, pred, count in pairs:
            print(f"  {true} -> {pred}: {count}")


def evaluate(args: argparse.Namespace) -> int:
    """Runs the evaluation; returns the exit status."""
    saved = load_saved(args.logdir)
    if saved is None:
        raise FileNotFoundError(f"{args.logdir} is not a training run (no config.json)")
    cfg, mapping = TrainConfig(**saved["config"]), ClassMapping.from_json(saved["classes"])
    prefix = find_checkpoint(args.logdir, args.checkpoint)
    model, step = restore_model(cfg, prefix, args.precision)
    out = args.out or os.path.join(args.logdir, "eval", str(step))
    table = read_image_csv(args.csv, mapping=mapping, path_column=cfg.path_column, label_column=cfg.label_column,
                           image_root=cfg.image_root, require_labels=False, skip_bad_rows=args.skip_bad_rows,
                           bad_rows_file=os.path.join(out, "bad_rows.csv"))
    predict = make_predict_step(model, cfg.normalization, args.precision, args.jit)
    preds: Predictions = predict_table(predict, table, PipelineConfig(cfg.image_size, args.batch_size, False,
                                                                      threads=args.threads))
    mask = check_decoded(table, preds, args.skip_bad_rows)
    os.makedirs(out, exist_ok=True)
    probs = probabilities(preds.logits, cfg.loss).numpy()
    write_predictions(os.path.join(out, "predictions.csv"), table, mapping, probs, mask)
    if table.labels is None:
        print(f"no label column in {args.csv}: wrote predictions for {int(mask.sum())} images to {out}/predictions.csv")
        return 0
    metrics = score(preds.logits, table.labels, cfg.loss, cfg.num_classes, mask)
    metrics.update(step=step, checkpoint=prefix, csv=os.path.abspath(args.csv))
    with open(os.path.join(out, "metrics.json"), "w", encoding="utf-8") as f:
        json.dump(metrics, f, indent=2)
    matrix = confusion_matrix(table.labels[mask], preds.logits[mask].argmax(1), cfg.num_classes)
    per_class = per_class_frame(matrix, mapping.names)
    per_class.to_csv(os.path.join(out, "per_class.csv"), index=False)
    pd.DataFrame(matrix, index=mapping.names, columns=mapping.names).to_csv(os.path.join(out, "confusion_matrix.csv"))
    plot_confusion_matrix(matrix, mapping.names, os.path.join(out, "confusion_matrix.png"),
                          title=f"{cfg.arch}, step {step}: top-1 {metrics['top1']:.3f} on {metrics['num_examples']} images")
    report(metrics, per_class, confused_pairs(matrix, mapping.names))
    print(f"wrote {out}/: metrics.json predictions.csv per_class.csv confusion_matrix.csv confusion_matrix.png")
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command-line entry point; returns the exit status."""
    args = parse_args(argv)
    configure_threads()
    try:
        return evaluate(args)
    except (DataError, ValueError, FileNotFoundError, tf.errors.OpError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
