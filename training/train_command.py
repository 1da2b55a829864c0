"""The training run behind ``train.py``: the run's configuration resolved, its data, model, optimizer and
checkpoints built, the loop (step, log, validate, checkpoint, stop on a signal) and its last lines.

``train.py`` parses the command line without TensorFlow and calls :func:`run_training`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import signal
import sys
from typing import Callable, Optional

from training.tf_env import apply_runtime_environment

apply_runtime_environment()  # before TensorFlow is imported

import tensorflow as tf
from tqdm import tqdm

from data_utils import ClassMapping, DataError, ImageTable, RowProblem, steps_per_epoch, train_dataset
from data_utils.demo import make_demo_dataset
from data_utils.console import SUMMARY, add_log_file, progress_bars_on
from data_utils.errors import write_problems
from data_utils.make_csv import make_csvs
from resnet_tf import ResNet, probabilities
from training import config as run_config
from training.averaging import WeightAverage
from training.builders import build_model, pipeline_settings, read_table
from training.checkpoints import (RunLock, has_average, init_model_from, managers, restore_newest, save_checkpoint,
                                  training_state)
from training.config import ConfigError, TrainConfig
from training.distribution import (LOST_WORKER_ERRORS, Interrupted, Placement, check_same_step, lost_worker,
                                   make_placement, output_folder, preemption_handler)
from training.evaluation import check_decoded, predict_table, score, undecodable
from training.events import EventLog
from training.history import History
from training.monitor import Meter, TrainingDiverged
from training.pretrained import pretrained_weights
from training.profiling import StepProfiler
from training.signals import EXIT_SIGNAL, StopSignal
from training.step import (class_weight_vector, make_batch_norm_averager, make_optimizer, make_predict_step,
                           make_train_step)
from training.val_report import write_validation_report

LOG = logging.getLogger("train")
# What --demo changes from the defaults (options given on the command line still win): a narrow
# ResNet-18 on 64 px images of 51 synthetic classes, sized to train in minutes on a 2-core CPU.
DEMO_DEFAULTS = {"arch": "resnet18", "width": 16, "image_size": 64, "batch_size": 32, "epochs": 12,
                 "lr": 2e-3, "warmup_steps": 100, "log_every": 20, "ckpt_every": 300}
DEMO_DATA = {"num_classes": 51, "per_class": 80, "size": 64}
IMAGE_CHECK_CACHE = "image_check.json"
LOG_FILE = "train.log"  # everything the console shows (but progress bars), appended by every start of a run


def resolve_config(given: dict) -> tuple[TrainConfig, Optional[dict]]:
    """Merges defaults, --demo defaults, the saved run's config and the options given now."""
    logdir = given.get("logdir", TrainConfig.logdir)
    saved = run_config.load_saved(logdir)
    if given.get("demo") and saved is None:
        given = {**DEMO_DEFAULTS, **given}
    if saved is None and given.get("pretrained") and "normalization" not in given:
        given = {**given, "normalization": "caffe"}  # what Keras' ImageNet weights were trained with
    if saved is None:
        inherited = run_config.inherited_settings(given.get("init_from"))
        taken = {k: v for k, v in inherited.items() if k not in given}
        if taken:
            LOG.info("as in %s: %s", given["init_from"], ", ".join(f"{k}={v}" for k, v in taken.items()))
        given = {**inherited, **given}
    cfg = run_config.merge(given, saved)
    for choice in run_config.resolve_auto(cfg):
        LOG.info("chose %s", choice)
    if cfg.image_dir and cfg.demo:
        raise ConfigError("--image-dir and --demo both choose the data; give one of them")
    if (cfg.demo or cfg.image_dir) and not cfg.train_csv:
        cfg.train_csv, cfg.val_csv = generated_csvs(cfg.logdir)
    elif cfg.image_dir and not saved:
        raise ConfigError("--image-dir makes the CSVs; do not also give --train-csv or --val-csv")
    run_config.check(cfg)
    if not cfg.train_csv or not cfg.val_csv:
        raise ConfigError("--train-csv and --val-csv are required (or --image-dir for a folder of class folders, "
                          "or --demo for the built-in data set)")
    return cfg, saved


def generated_csvs(folder: str) -> tuple[str, str]:
    """Where the CSVs that a run makes itself (--demo, --image-dir) are kept: ``FOLDER/data``."""
    return os.path.join(folder, "data", "train.csv"), os.path.join(folder, "data", "val.csv")


def make_data(cfg: TrainConfig, outdir: str) -> None:
    """Writes the CSVs of --demo or --image-dir on a run's first start (a resumed run keeps its data). The
    other workers of a multi-worker run make their own identical copy in their private folder."""
    if outdir != cfg.logdir and (cfg.train_csv, cfg.val_csv) == generated_csvs(cfg.logdir):
        cfg.train_csv, cfg.val_csv = generated_csvs(outdir)
    if os.path.isfile(cfg.train_csv):
        return
    if cfg.demo:
        LOG.info("generating the demo data set in %s", os.path.dirname(cfg.train_csv))
        make_demo_dataset(os.path.dirname(cfg.train_csv), DEMO_DATA["num_classes"], DEMO_DATA["per_class"],
                          DEMO_DATA["size"], seed=cfg.seed)
    else:
        make_csvs(cfg.image_dir, os.path.dirname(cfg.train_csv), cfg.val_fraction, cfg.seed)


def load_tables(cfg: TrainConfig, saved: Optional[dict], outdir: str) -> tuple[ImageTable, ImageTable]:
    """Reads and checks both CSVs; the validation labels must be known to the training mapping. Rows
    skipped with --skip-bad-rows are listed in OUTDIR/bad_rows.csv (the run folder, for the chief)."""
    if cfg.demo or cfg.image_dir:
        make_data(cfg, outdir)
    cache = os.path.join(outdir, IMAGE_CHECK_CACHE)  # a resumed run does not reopen unchanged files
    train = read_table(cfg, cfg.train_csv, mapping=ClassMapping.from_json(saved["classes"]) if saved else None,
                       check_cache=cache)
    val = read_table(cfg, cfg.val_csv, mapping=train.mapping, check_cache=cache)
    skipped = train.skipped + val.skipped
    if skipped:
        write_problems(skipped, os.path.join(outdir, "bad_rows.csv"))
        LOG.warning("skipped %d bad rows of %s and %d of %s (all listed in %s)", len(train.skipped), cfg.train_csv,
                    len(val.skipped), cfg.val_csv, os.path.join(outdir, "bad_rows.csv"))
    if cfg.num_classes is not None and cfg.num_classes != train.mapping.num_classes:
        raise ConfigError(f"--num-classes={cfg.num_classes} but {cfg.train_csv} has "
                          f"{train.mapping.num_classes} classes")
    cfg.num_classes = train.mapping.num_classes
    return train, val


def log_class_counts(train: ImageTable, val: ImageTable) -> None:
    """Per-class image counts of both splits, flagging empty classes."""
    counts_train, counts_val = train.class_counts(), val.class_counts()
    cells = [f"{name}: {t}/{v}" + (" (EMPTY)" if t == 0 else "")
             for name, t, v in zip(train.mapping.names, counts_train, counts_val)]
    LOG.info("images per class (train/val), %d classes:", len(cells))
    for i in range(0, len(cells), 4):
        LOG.info("  %s", "   ".join(f"{c:<28}" for c in cells[i:i + 4]).rstrip())
    empty = [n for n, c in zip(train.mapping.names, counts_train) if c == 0]
    if empty:
        LOG.warning("%d classes have no training images: %s", len(empty), ", ".join(empty[:10]))


def setup_runtime(cfg: TrainConfig) -> None:
    """Determinism, when asked for."""
    if cfg.deterministic:
        tf.keras.utils.set_random_seed(cfg.seed)
        tf.config.experimental.enable_op_determinism()


@dataclasses.dataclass
class Run:
    """Everything the loop works with. ``latest`` and ``best`` write to ``outdir`` (the run folder, or a
    private folder on the other workers of a multi-worker run); ``newest`` reads the run folder."""

    cfg: TrainConfig
    train: ImageTable
    val: ImageTable
    model: ResNet
    optimizer: tf.keras.optimizers.Optimizer
    state: tf.train.Checkpoint
    latest: tf.train.CheckpointManager
    best: tf.train.CheckpointManager
    newest: tf.train.CheckpointManager
    outdir: str
    total_steps: int
    steps_per_epoch: int
    placement: Placement
    average_batch_norm: Callable[[], None]
    history: History
    average: Optional[WeightAverage] = None
    stopped_early: bool = False

    @property
    def strategy(self) -> tf.distribute.Strategy:
        """The run's distribution strategy."""
        return self.placement.strategy

    @property
    def validated_model(self) -> ResNet:
        """The network validation scores and the best checkpoint is chosen by: the weight average if
        there is one."""
        return self.average.average if self.average is not None else self.model

    def save(self, manager: tf.train.CheckpointManager) -> str:
        """Saves the state through ``manager``, with the replicas' batch-norm statistics averaged first."""
        self.average_batch_norm()
        return save_checkpoint(manager, self.state)


def build_run(cfg: TrainConfig, train: ImageTable, val: ImageTable, placement: Placement, outdir: str) -> Run:
    """Model, optimizer and checkpoint state, created in the strategy's scope."""
    per_epoch = steps_per_epoch(len(train), cfg.batch_size)
    if per_epoch == 0:
        raise DataError([RowProblem(cfg.train_csv, 0, "", f"{len(train)} usable images, fewer than one batch of "
                                                          f"{cfg.batch_size}")], hint="Lower --batch-size or add images.")
    total_steps = cfg.max_steps or cfg.epochs * per_epoch
    with placement.strategy.scope():
        model = build_model(cfg)
        model.freeze(cfg.freeze_stages)
        optimizer = make_optimizer(cfg, total_steps)
        optimizer.build(model.trained_variables())
        average = WeightAverage(model, lambda: build_model(cfg), cfg.ema_decay) if cfg.ema_decay else None
    # its step, best accuracy and early-stopping count: plain host variables
    state = training_state(model, optimizer, average.average if average else None)
    latest, best = managers(state, outdir, cfg.keep_checkpoints if outdir == cfg.logdir else 1)
    newest = latest if outdir == cfg.logdir else managers(state, cfg.logdir, cfg.keep_checkpoints)[0]
    return Run(cfg, train, val, model, optimizer, state, latest, best, newest, outdir, total_steps, per_epoch,
               placement, make_batch_norm_averager(model, placement.strategy), History(outdir), average)


def restore(run: Run) -> None:
    """Resume order: newest readable checkpoint of this run; else --init-from; else a fresh start."""
    path = restore_newest(run.state, run.newest)
    step = int(run.state.step)
    if path:
        LOG.info("resuming from %s at step %d/%d (epoch %d), best val accuracy so far %.4f", path, step,
                 run.total_steps, step // run.steps_per_epoch + 1, max(float(run.state.best_accuracy), 0))
    elif run.cfg.init_from:
        LOG.info("%s", init_model_from(run.model, run.cfg.init_from))
    elif run.cfg.pretrained:
        LOG.info("%s", init_model_from(run.model, pretrained_weights(run.cfg.pretrained, run.cfg.depth)))
    else:
        LOG.info("starting a new run in %s", run.cfg.logdir)
    if run.average is not None and not (path and has_average(path)):
        run.average.reset()  # a new run, or --ema-decay added to a run that had none: start from the weights
    run.history.resume_at(step)
    check_same_step(run.placement, step)


def validate(run: Run, predict, events: EventLog, step: int, meter: Meter) -> dict:
    """Scores the whole validation CSV in inference mode (the weight average, with --ema-decay), logs it
    (events, console, history.csv), keeps the best checkpoint and decides whether training stops early."""
    run.average_batch_norm()
    settings = pipeline_settings(run.cfg, training=False, batch_size=run.placement.per_replica_batch(run.cfg.batch_size))
    preds = predict_table(predict, run.val, settings, desc="validation", strategy=run.strategy)
    mask = check_decoded(run.val, preds, run.cfg.skip_bad_rows)
    metrics = score(preds.logits, run.val.labels, run.cfg.loss, run.cfg.num_classes, mask)
    improved = metrics["top1"] > float(run.state.best_accuracy)
    run.state.stale_validations.assign(0 if improved else int(run.state.stale_validations) + 1)
    if improved:
        run.state.best_accuracy.assign(metrics["top1"])
        run.save(run.best)
    events.scalars("val", step, {"loss": metrics["loss"], "accuracy": metrics["top1"], "top5_accuracy": metrics["top5"],
                                 "best_accuracy": float(run.state.best_accuracy)})
    if run.placement.is_chief:  # images for a person to look at: once
        probs = probabilities(preds.logits, run.cfg.loss).numpy()
        write_validation_report(events, step, run.val, probs, mask, run.train.mapping.names)
    events.flush()
    run.history.append({"step": step, "epoch": step / run.steps_per_epoch, **meter.take_validation_interval(),
                        "val_loss": metrics["loss"], "val_top1": metrics["top1"], "val_top5": metrics["top5"],
                        "learning_rate": float(run.optimizer.learning_rate)})
    LOG.info("step %d: val loss %.4f, accuracy %.4f, top-5 %.4f (%d images)%s%s", step, metrics["loss"],
             metrics["top1"], metrics["top5"], metrics["num_examples"], " (best so far)" if improved else "",
             ", weight average" if run.average is not None else "")
    run.stopped_early = early_stop_due(run)
    return metrics


def early_stop_due(run: Run) -> bool:
    """Whether --early-stop-patience validations in a row have not improved the best top-1."""
    patience, stale = run.cfg.early_stop_patience, int(run.state.stale_validations)
    return bool(patience) and stale >= patience


def check_steps(run: Run, meter: Meter) -> None:
    """Reads the steps since the last check. A NaN/Inf step stops the run without saving (or, with
    --skip-nonfinite, is counted: its update was not applied); an undecodable training image stops it
    with a checkpoint (or, with --skip-bad-rows, is counted: it had weight 0)."""
    settled = meter.settle(run.cfg.batch_size)
    for number, loss in settled.nonfinite:
        if not run.cfg.skip_nonfinite:
            raise TrainingDiverged(
                f"loss or gradients became NaN/Inf at step {number} (loss {loss}); stopped without saving. "
                f"Last good checkpoint: {run.latest.latest_checkpoint or 'none'}. Lower --lr, or pass "
                "--skip-nonfinite to skip such steps.")
        meter.nonfinite_steps += 1
        LOG.warning("step %d: loss or gradients NaN/Inf, update skipped (%d so far)", number, meter.nonfinite_steps)
    for number, rows in settled.undecodable:
        problems = undecodable(run.train, rows) or [
            RowProblem(run.cfg.train_csv, 0, "", "an image of another worker's share of the batch (named on its console)")]
        if not run.cfg.skip_bad_rows:
            path = run.save(run.latest)
            raise DataError(problems, hint=f"cannot decode training images at step {number}; checkpoint saved "
                                           f"({path}). Fix or remove them, or rerun with --skip-bad-rows.")
        for problem in problems:
            LOG.warning("skipping undecodable image %s", problem.path or problem.reason)
        meter.skipped_images += len(rows)


def first_step_summaries(events: EventLog, batch: dict, strategy: tf.distribute.Strategy, step: int,
                         step_fn) -> tuple:
    """Runs the first step of a process while tracing it, and logs its graph and a few input images."""
    with events.writing("train", step):
        tf.summary.image("input_images", strategy.experimental_local_results(batch["image"])[0][:8], max_outputs=8)
    tf.summary.trace_on(graph=True, profiler=False)
    outputs = step_fn(batch)
    with events.writing("train", step):
        tf.summary.trace_export("train_step", step=step)
    return outputs


def at_boundaries(run: Run, meter: Meter, events: EventLog, predict, step: int, first: bool, bar: tqdm) -> None:
    """After step ``step``: the checks, summary, validation and checkpoint that are due."""
    cfg = run.cfg
    due = {name: step % every == 0 or step == run.total_steps for name, every in
           (("log", cfg.log_every), ("eval", cfg.eval_every or run.steps_per_epoch), ("ckpt", cfg.ckpt_every))}
    if first or any(due.values()):
        check_steps(run, meter)
        if first:
            meter.restart_clock()  # images/s leaves out the step that traced the function
    if due["log"]:
        values = meter.write(events, step, float(run.optimizer.learning_rate), cfg.batch_size, cfg.skip_nonfinite)
        bar.set_postfix(loss=f"{values['loss']:.3f}", acc=f"{values['accuracy']:.3f}",
                        img_s=f"{values['images_per_sec']:.0f}")
        if bar.disable:  # no bar (output piped to a file, --quiet): one line per summary instead
            LOG.info("step %d/%d: loss %.4f, accuracy %.4f, %.0f images/s, lr %.3g", step, run.total_steps,
                     values["loss"], values["accuracy"], values["images_per_sec"], values["learning_rate"])
    with meter.paused():  # images/s measures training alone
        if due["eval"]:
            validate(run, predict, events, step, meter)
        if due["ckpt"]:
            run.save(run.latest)


def train_loop(run: Run, stop: StopSignal, profile: Optional[tuple[int, int]] = None) -> int:
    """The loop: step, check, log, validate, checkpoint; returns the process exit status. A stop signal
    ends it after a checkpoint; on several workers, all of them stop at the same step (TF's preemption
    handler agrees on it), whichever worker received the signal."""
    cfg, strategy = run.cfg, run.strategy
    events = EventLog(run.outdir)
    if run.placement.is_chief:
        events.hparams({k: v for k, v in cfg.to_json().items() if k != "logdir"})
    weights = class_weight_vector(run.train.class_counts(), cfg.class_weights)
    step_fn = make_train_step(run.model, run.optimizer, cfg, weights, strategy, run.average)
    predict = make_predict_step(run.validated_model, cfg.normalization, cfg.precision, cfg.jit)
    pcfg = pipeline_settings(cfg, training=True, batch_size=run.placement.per_replica_batch(cfg.batch_size))
    start = step = int(run.state.step)
    dataset = strategy.distribute_datasets_from_function(lambda ctx: train_dataset(
        run.train, pcfg, start, cfg.batch_size, ctx.num_input_pipelines, ctx.input_pipeline_id))
    local = strategy.experimental_local_results
    meter = Meter()
    saved = []

    def save_on_stop() -> None:
        check_steps(run, meter)
        saved.append(run.save(run.latest))

    handler = preemption_handler(run.placement, lambda: bool(stop.signum), save_on_stop)
    profiler = StepProfiler(profile, os.path.join(run.outdir, "train"))
    try:
        with tqdm(total=run.total_steps, initial=start, desc="train", unit="step", dynamic_ncols=True,
                  disable=not progress_bars_on()) as bar:
            for batch in dataset:
                if step >= run.total_steps or run.stopped_early or (stop.signum and handler is None):
                    break
                first = step == start
                with profiler.step(step + 1):
                    outputs = first_step_summaries(events, batch, strategy, step, step_fn) if first else step_fn(batch)
                run.state.step.assign_add(1)
                step += 1
                meter.add(step, outputs, local(batch["ok"]), local(batch["index"]))
                bar.update(1)
                at_boundaries(run, meter, events, predict, step, first, bar)
                if handler is not None:
                    handler.save_checkpoint_if_preempted()
    except Interrupted:
        events.flush()
        why = f"interrupted by {stop.name}" if stop.signum else "stopped with the worker that received a stop signal"
        LOG.info("%s at step %d: %s; run the same command on every worker to resume", why, step,
                 f"saved {saved[-1]}" if run.placement.is_chief else "the chief saved the checkpoint")
        return stop.exit_status if stop.signum else EXIT_SIGNAL + signal.SIGTERM
    finally:
        profiler.close()
    return finish_loop(run, stop, meter, events, step)


def finish_loop(run: Run, stop: StopSignal, meter: Meter, events: EventLog, step: int) -> int:
    """After the loop: the last steps checked, warnings summed up, a checkpoint if interrupted."""
    check_steps(run, meter)  # the steps of an interrupted interval
    events.flush()
    if meter.skipped_images:
        LOG.warning("skipped %d undecodable training images", meter.skipped_images)
    if meter.nonfinite_steps:
        LOG.warning("skipped %d steps with NaN/Inf loss or gradients", meter.nonfinite_steps)
    if run.stopped_early:
        path = run.save(run.latest)
        LOG.log(SUMMARY, "stopped early at step %d/%d: no better val accuracy in the last %d validations (best %.4f); "
                 "saved %s", step, run.total_steps, run.cfg.early_stop_patience, float(run.state.best_accuracy), path)
        return 0
    if step < run.total_steps:
        path = run.save(run.latest)
        LOG.log(SUMMARY, "interrupted by %s at step %d: saved %s; run the same command to resume", stop.name, step, path)
        return stop.exit_status
    return 0


def evaluate_command(program: str) -> str:
    """How to run evaluate.py the way training was run (``program``: ``sys.argv[0]``): the installed
    ``resnet-tf-evaluate`` after ``resnet-tf-train``, else the script."""
    return "resnet-tf-evaluate" if os.path.basename(program).startswith("resnet-tf-") else "python evaluate.py"


def log_final(run: Run) -> None:
    """Where to look next."""
    cfg = run.cfg
    LOG.log(SUMMARY, "done: %d steps, best val accuracy %.4f (checkpoint in %s)", int(run.state.step),
             float(run.state.best_accuracy), os.path.join(cfg.logdir, "best"))
    LOG.log(SUMMARY, "  tensorboard --logdir %s", os.path.dirname(os.path.abspath(cfg.logdir)))
    LOG.log(SUMMARY, "  %s --logdir %s --csv %s", evaluate_command(sys.argv[0]), cfg.logdir, cfg.val_csv)


def log_start(run: Run) -> None:
    """The run's first lines: network and recipe, where it trains, the data."""
    cfg = run.cfg
    extras = [", XLA" * cfg.jit, ", frozen batch norm" * cfg.freeze_bn, ", synchronized batch norm" * cfg.sync_bn,
              f", weight average {cfg.ema_decay:g}" * bool(cfg.ema_decay),
              f", stem and {cfg.freeze_stages} stages frozen" * bool(cfg.freeze_stages)]
    LOG.info("%s%s%s width %d, %s stem, %d classes, %dpx, %s augmentation, batch %d, %d steps, %s lr %g %s, "
             "%s loss, %s%s; %d train / %d val images; logdir %s", cfg.arch,
             "" if cfg.use_shortcut else " (no shortcut)", "" if cfg.layout == "standard" else f" ({cfg.layout} layout)",
             cfg.width, cfg.stem, cfg.num_classes, cfg.image_size, "no" if cfg.augment == "none" else cfg.augment,
             cfg.batch_size, run.total_steps,
             cfg.optimizer, cfg.lr, cfg.lr_schedule, cfg.loss, cfg.precision, "".join(extras), len(run.train),
             len(run.val), cfg.logdir)
    LOG.info("%s", run.placement.describe(cfg.batch_size))
    log_class_counts(run.train, run.val)


def train_in(cfg: TrainConfig, saved: Optional[dict], placement: Placement, outdir: str,
             profile: Optional[tuple[int, int]] = None) -> int:
    """Trains with this process's share of the work; writes to ``outdir`` (a trace of the ``profile`` steps
    too); returns the exit status."""
    train, val = load_tables(cfg, saved, outdir)
    setup_runtime(cfg)
    run = build_run(cfg, train, val, placement, outdir)
    log_start(run)
    restore(run)
    run_config.save(cfg, train.mapping.to_json(), outdir)
    if early_stop_due(run):
        LOG.log(SUMMARY, "run complete: stopped early at step %d (no better val accuracy in %d validations), best val "
                 "accuracy %.4f; nothing to do (a larger --early-stop-patience continues it)", int(run.state.step),
                 int(run.state.stale_validations), float(run.state.best_accuracy))
        return 0
    if int(run.state.step) >= run.total_steps:
        LOG.log(SUMMARY, "run complete: step %d/%d, best val accuracy %.4f; nothing to do", int(run.state.step),
                 run.total_steps, float(run.state.best_accuracy))
        return 0
    with StopSignal() as stop:
        try:
            status = train_loop(run, stop, profile)
        except LOST_WORKER_ERRORS as err:
            if placement.num_workers == 1:
                raise
            raise lost_worker(err, int(run.state.step), tf.train.latest_checkpoint(run.newest.directory)) from None
    if status == 0 and placement.is_chief:
        log_final(run)
    elif status == 0:
        LOG.log(SUMMARY, "done: worker %d finished with the chief, which wrote the run to %s", placement.worker, cfg.logdir)
    return status


def run_training(given: dict, profile: Optional[tuple[int, int]] = None) -> int:
    """Takes the options given (parsed), trains (``profile``: the first and last step to trace), returns the
    exit status."""
    cfg, saved = resolve_config(given)
    placement = make_placement(cfg.strategy)  # first: a multi-worker strategy must start before other TF work
    placement.per_replica_batch(cfg.batch_size)
    placement.check_jit(cfg.jit)
    with output_folder(cfg.logdir, placement.is_chief) as outdir:
        with RunLock(cfg.logdir) if placement.is_chief else contextlib.nullcontext():
            add_log_file("train", os.path.join(outdir, LOG_FILE))
            return train_in(cfg, saved, placement, outdir, profile)
