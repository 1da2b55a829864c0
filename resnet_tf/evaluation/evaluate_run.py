"""The work behind ``evaluate.py``: a run's checkpoint scored on a CSV, the results written and logged.

``evaluate.py`` parses the command line without TensorFlow and calls :func:`evaluate_run`.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import os

import numpy as np
import pandas as pd

from data_utils.csv_table import ClassMapping, ImageTable, RowChecks
from resnet_tf.console import files
from resnet_tf.console.errors import ConfigError, writing
from resnet_tf.console.logs import printable
from resnet_tf.evaluation.metrics import (
    confused_pairs,
    confusion_matrix,
    per_class_frame,
    score,
)
from resnet_tf.evaluation.plots import plot_confusion_matrix
from resnet_tf.evaluation.predictions import (
    check_decoded,
    make_predict_step,
    predict_table,
)
from resnet_tf.evaluation.sequence_results import final_network, report_sequence
from resnet_tf.losses import probabilities
from resnet_tf.runs.builders import load_model, pipeline_settings, read_table
from resnet_tf.runs.config_file import SavedRun, load_run
from resnet_tf.runs.defaults import precision_for
from resnet_tf.runs.placement import local_placement
from resnet_tf.runs.staging import check_new_folder

LOG = logging.getLogger(__name__)
TOP_K_COLUMN = 5  # classes listed per image in predictions.csv
RESULT_FILES = ("metrics.json", "predictions.csv", "per_class.csv", "confusion_matrix.csv", "confusion_matrix.png")


def write_predictions(path: str, table: ImageTable, mapping: ClassMapping, probs: np.ndarray, mask: np.ndarray) -> None:
    """predictions.csv: path, label, predicted, probability, and the top-5 class names as a JSON list (so
    that any class name, commas and quotes included, reads back as it is)."""
    top = np.argsort(-probs, axis=1)[:, :TOP_K_COLUMN]
    names = np.array(mapping.names, dtype=object)
    frame = pd.DataFrame({"path": table.paths})
    if table.labels is not None:
        frame["label"] = names[table.labels]
    frame["predicted"] = np.where(mask, names[top[:, 0]], "")
    frame["probability"] = np.where(mask, probs[np.arange(len(probs)), top[:, 0]], np.nan)
    frame["top5"] = [json.dumps(list(names[row]), ensure_ascii=False) if ok else "" for row, ok in zip(top, mask)]
    frame["decoded"] = mask
    write_result(path, frame.to_csv(index=False))


def write_result(path: str, text: str) -> None:
    """One result file written whole; an OutputError naming ``--out`` when it cannot be."""
    with writing(path, "choose another --out"):
        files.write_atomic(path, text)


def report(metrics: dict, per_class: pd.DataFrame, pairs: list) -> None:
    """Logs the results."""
    LOG.info(
        "%d images: loss %.4f, top-1 %.4f, top-5 %.4f  (step %d, %s%s)",
        metrics["num_examples"],
        metrics["loss"],
        metrics["top1"],
        metrics["top5"],
        metrics["step"],
        metrics["checkpoint"],
        "" if metrics["tta"] == "none" else f"; {metrics['tta']} test-time augmentation",
    )
    LOG.info("per-class accuracy, worst first:")
    for name, support, accuracy in per_class.head(10).itertuples(index=False, name=None):
        LOG.info("  %-30s %.3f  (%d images)", printable(name), accuracy, support)
    if pairs:
        LOG.info("most confused (true -> predicted: count):")
        for true, pred, count in pairs:
            LOG.info("  %s -> %s: %d", printable(true), printable(pred), count)


def write_scores(out: str, metrics: dict, matrix: np.ndarray, names: list[str], title: str) -> pd.DataFrame:
    """metrics.json, per_class.csv, confusion_matrix.csv and .png in ``out``; returns the per-class table."""
    paths = {name: os.path.join(out, name) for name in RESULT_FILES}
    per_class = per_class_frame(matrix, names)
    write_result(paths["metrics.json"], json.dumps(metrics, indent=2))
    write_result(paths["per_class.csv"], per_class.to_csv(index=False))
    write_result(paths["confusion_matrix.csv"], pd.DataFrame(matrix, index=names, columns=names).to_csv())
    with writing(paths["confusion_matrix.png"], "choose another --out"):
        plot_confusion_matrix(matrix, names, paths["confusion_matrix.png"], title=title)
    return per_class


def _taken(path: str) -> bool:
    return files.exists(path) and (not files.isdir(path) or bool(files.listdir(path)))


def output_folder(out: str | None, logdir: str, step: int) -> str:
    """The folder for the results, created: ``out`` when given, which must be new or empty (a ConfigError
    naming ``--out`` otherwise); else ``LOGDIR/eval/<step>``, or ``<step>-2``, ``<step>-3``, ... when earlier
    evaluations of that checkpoint are there: results are never written over. An OutputError when it cannot
    be created."""
    if out:
        check_new_folder(out, "--out")
    else:
        base = files.join(logdir, "eval", str(step))
        out = next(p for p in (base if n == 1 else f"{base}-{n}" for n in itertools.count(1)) if not _taken(p))
    with writing(out, "choose another --out"):
        files.makedirs(out)
    return out


def evaluate_run(args: argparse.Namespace, run: SavedRun) -> int:
    """Scores the checkpoint of ``run`` (the run folder ``args.logdir``, read) on the CSV and writes the
    results; returns the exit status. A sequence of tasks prints its accuracy matrix, and scores the CSV (if
    given) with its last task's network."""
    if run.config.lifelong.tasks:
        return evaluate_sequence(args)
    if args.csv is None:
        raise ConfigError("--csv is required: the CSV of images to score (path,label) or to predict (path)")
    cfg, mapping = run.config, run.mapping
    placement = local_placement()  # all GPUs of the machine when it has several
    placement.check_jit(args.jit)
    precision, sentence = precision_for(args.precision)
    if args.precision == "auto":
        LOG.info("chose %s", sentence)
    model, step, prefix = load_model(run, args.checkpoint or "best", precision, placement.strategy)
    out = output_folder(args.out, args.logdir, step)
    table = read_table(
        cfg,
        args.csv,
        mapping=mapping,
        require_labels=False,
        checks=RowChecks(args.skip_bad_rows, bad_rows_file=os.path.join(out, "bad_rows.csv")),
    )
    per_replica = placement.per_replica_batch(args.batch_size)
    if placement.replicas > 1:
        LOG.info("%s", placement.describe(per_replica * placement.replicas))
    test_time = args.tta or cfg.data.tta
    preds = predict_table(
        make_predict_step(model, cfg.data.normalization, args.jit, test_time),
        table,
        pipeline_settings(cfg, training=False, batch_size=per_replica, threads=args.threads),
        strategy=placement.strategy,
    )
    mask = check_decoded(table, preds, args.skip_bad_rows)
    write_predictions(
        os.path.join(out, "predictions.csv"),
        table,
        mapping,
        probabilities(preds.logits, cfg.optimization.loss).numpy(),
        mask,
    )
    if table.labels is None:
        LOG.info(
            "no label column in %s: wrote predictions for %d images to %s",
            args.csv,
            int(mask.sum()),
            os.path.join(out, "predictions.csv"),
        )
        return 0
    metrics = score(preds.logits, table.labels, cfg.optimization.loss, cfg.network.num_classes, mask)
    metrics.update(step=step, checkpoint=prefix, csv=files.absolute(args.csv), tta=test_time)
    write_results(out, metrics, table.labels[mask], preds.logits[mask], run)
    return 0


def evaluate_sequence(args: argparse.Namespace) -> int:
    """A sequence of tasks: its accuracy matrix printed, and the CSV (if given) scored by its last task's network."""
    report_sequence(args.logdir)
    if args.csv is None:
        return 0
    return evaluate_run(*final_network(args, load_run(args.logdir)))


def write_results(out: str, metrics: dict, labels: np.ndarray, logits: np.ndarray, run: SavedRun) -> None:
    """The scores of the images that were scored (``labels``, ``logits``) written to ``out`` and reported."""
    matrix = confusion_matrix(labels, logits.argmax(1), run.config.network.num_classes)
    per_class = write_scores(
        out,
        metrics,
        matrix,
        run.mapping.names,
        title=f"{run.config.network.arch}, step {metrics['step']}: top-1 {metrics['top1']:.3f} on "
        f"{metrics['num_examples']} images",
    )
    report(metrics, per_class, confused_pairs(matrix, run.mapping.names))
    LOG.info("wrote %s/: %s", out, " ".join(RESULT_FILES))
