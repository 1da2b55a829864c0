"""A validation during training: the validation CSV scored in inference mode, the best checkpoint kept, and
what it found recorded (events for TensorBoard, the console, history.csv)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from data_utils.errors import DataError
from resnet_tf.evaluation.metrics import score
from resnet_tf.evaluation.predictions import check_decoded, predict_table
from resnet_tf.evaluation.val_report import validation_report
from resnet_tf.losses import probabilities
from resnet_tf.runs.builders import pipeline_settings
from resnet_tf.training.events import EventLog
from resnet_tf.training.monitor import Meter
from resnet_tf.training.state import Run

LOG = logging.getLogger(__name__)


def validate(run: Run, predict: Callable, events: EventLog, meter: Meter, step: int) -> dict:
    """Scores the whole validation CSV in inference mode (the weight average, with --ema-decay), keeps the
    best checkpoint and the count of validations without improvement, logs it (events, console,
    history.csv); returns the metrics."""
    run.checkpoints.average_batch_norm()
    settings = pipeline_settings(
        run.cfg, training=False, batch_size=run.placement.per_replica_batch(run.cfg.data.batch_size)
    )
    preds = predict_table(predict, run.tables.val, settings, desc="validation", strategy=run.placement.strategy)
    try:
        mask = check_decoded(run.tables.val, preds, run.cfg.runtime.skip_bad_rows)
    except DataError as err:
        path = run.save("latest")  # the steps before this validation are kept; the rerun makes the validation
        raise DataError(
            err.problems,
            hint=f"cannot decode validation images at step {step}; checkpoint saved ({path}). Fix or remove them, "
            "or rerun with --skip-bad-rows: the validation of this step is made first.",
        ) from None
    metrics = score(preds.logits, run.tables.val.labels, run.cfg.optimization.loss, run.cfg.network.num_classes, mask)
    improved = metrics["top1"] > run.network.best_accuracy
    state = run.network.state
    state.stale_validations.assign(0 if improved else int(state.stale_validations) + 1)
    if improved:
        state.best_accuracy.assign(metrics["top1"])
        run.save("best")
    _write_validation(run, events, meter, step, metrics, preds.logits, mask)
    LOG.info(
        "step %d: val loss %.4f, accuracy %.4f, top-5 %.4f (%d images)%s%s",
        step,
        metrics["loss"],
        metrics["top1"],
        metrics["top5"],
        metrics["num_examples"],
        " (best so far)" if improved else "",
        ", weight average" if run.network.average is not None else "",
    )
    return metrics


def _write_validation(run: Run, events: EventLog, meter: Meter, step: int, metrics: dict, logits, mask) -> None:
    events.scalars(
        "val",
        step,
        {
            "loss": metrics["loss"],
            "accuracy": metrics["top1"],
            "top5_accuracy": metrics["top5"],
            "best_accuracy": run.network.best_accuracy,
        },
    )
    if run.placement.is_chief:  # images for a person to look at: once
        probs = probabilities(logits, run.cfg.optimization.loss).numpy()
        report = validation_report(step, run.tables.val, probs, mask, run.tables.train.mapping.names)
        for tag, image, description in report.images:
            events.image("val", step, tag, image, description)
        for tag, markdown in report.texts:
            events.text("val", step, tag, markdown)
    events.flush()
    run.history.append(
        {
            "step": step,
            "epoch": step / run.steps_per_epoch,
            **meter.take_validation_interval(),
            "val_loss": metrics["loss"],
            "val_top1": metrics["top1"],
            "val_top5": metrics["top5"],
            "learning_rate": float(run.network.optimizer.learning_rate),
        }
    )
