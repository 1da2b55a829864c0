"""Train a ResNet on images listed in CSV files, with TensorBoard logs, checkpoints and resume.

    python train.py --train-csv TRAIN.csv --val-csv VAL.csv --logdir runs/NAME [options]
    python train.py --demo --logdir runs/demo        # built-in synthetic data set, small network

Run the same command again to resume from the newest checkpoint in LOGDIR/checkpoints
(`python train.py --logdir runs/NAME` is enough: the rest comes from LOGDIR/config.json).
"""

from __future__ import annotations

import dataclasses
import os
import signal
import sys
import time
from typing import Optional, Sequence

from training.tf_env import apply_runtime_environment

apply_runtime_environment()  # before TensorFlow is imported

import numpy as np
import tensorflow as tf
from tqdm import tqdm

from data_utils import ClassMapping, DataError, PipelineConfig, read_image_csv, steps_per_epoch, train_dataset
from data_utils.demo import make_demo_dataset
from resnet_tf import ResNet
from training import config as run_config
from training.checkpoints import (CheckpointError, RunLock, RunLocked, init_model_from, managers, restore_newest,
                                  save_checkpoint, training_state)
from training.runtime import configure_threads
from training.config import TrainConfig
from training.evaluation import check_decoded, predict_table, score
from training.step import class_weight_vector, compute_dtype, make_optimizer, make_predict_step, make_train_step

# What --demo changes from the defaults (options given on the command line still win): a narrow
# ResNet-18 on 64 px images of 51 synthetic classes, sized to train in minutes on a 2-core CPU.
DEMO_DEFAULTS = {"arch": "resnet18", "width": 16, "image_size": 64, "batch_size": 32, "epochs": 20,
                 "lr": 2e-3, "warmup_steps": 100, "log_every": 20, "eval_every": 300, "ckpt_every": 300}
DEMO_DATA = {"num_classes": 51, "per_class": 80, "size": 64}
EXIT_SIGNAL = 128  # exit status on SIGINT/SIGTERM is 128 + signal number, as shells report it


def log(message: str) -> None:
    """Prints a line without breaking the progress bar."""
    tqdm.write(message)


def resolve_config(given: dict) -> tuple[TrainConfig, Optional[dict]]:
    """Merges defaults, --demo defaults, the saved run's config and the options given now."""
    logdir = given.get("logdir", TrainConfig.logdir)
    saved = run_config.load_saved(logdir)
    if given.get("demo") and saved is None:
        given = {**DEMO_DEFAULTS, **given}
    cfg = run_config.merge(given, saved)
    if cfg.demo and not cfg.train_csv:
        data = os.path.join(cfg.logdir, "data")
        cfg.train_csv, cfg.val_csv = os.path.join(data, "train.csv"), os.path.join(data, "val.csv")
    run_config.check(cfg)
    return cfg, saved


def load_tables(cfg: TrainConfig, saved: Optional[dict]):
    """Reads and checks both CSVs; the validation labels must be known to the training mapping."""
    if cfg.demo and not os.path.isfile(cfg.train_csv):
        log(f"generating the demo data set in {os.path.dirname(cfg.train_csv)}")
        make_demo_dataset(os.path.dirname(cfg.train_csv), DEMO_DATA["num_classes"], DEMO_DATA["per_class"],
                          DEMO_DATA["size"], seed=cfg.seed)
    mapping = ClassMapping.from_json(saved["classes"]) if saved else None
    common = dict(path_column=cfg.path_column, label_column=cfg.label_column, image_root=cfg.image_root,
                  skip_bad_rows=cfg.skip_bad_rows, bad_rows_file=os.path.join(cfg.logdir, "bad_rows.csv"))
    train = read_image_csv(cfg.train_csv, mapping=mapping, num_classes=cfg.num_classes, **common)
    val = read_image_csv(cfg.val_csv, mapping=train.mapping, **common)
    for table in (train, val):
        if table.skipped:
            log(f"skipped {len(table.skipped)} bad rows of {table.csv_path} (all listed in {common['bad_rows_file']})")
    if cfg.num_classes is not None and cfg.num_classes != train.mapping.num_classes:
        raise ValueError(f"--num-classes={cfg.num_classes} but {cfg.train_csv} has {train.mapping.num_classes} classes")
    cfg.num_classes = train.mapping.num_classes
    return train, val


def print_class_counts(train, val) -> None:
    """Per-class image counts of both splits, flagging empty classes."""
    counts_train, counts_val = train.class_counts(), val.class_counts()
    cells = [f"{name}: {t}/{v}" + (" (EMPTY)" if t == 0 else "")
             for name, t, v in zip(train.mapping.names, counts_train, counts_val)]
    log(f"images per class (train/val), {len(cells)} classes:")
    for i in range(0, len(cells), 4):
        log("  " + "   ".join(f"{c:<28}" for c in cells[i:i + 4]).rstrip())
    empty = [n for n, c in zip(train.mapping.names, counts_train) if c == 0]
    if empty:
        log(f"WARNING: {len(empty)} classes have no training images: {', '.join(empty[:10])}")


def setup_runtime(cfg: TrainConfig) -> tf.distribute.Strategy:
    """Determinism and the distribution strategy (the default one on a single device)."""
    if cfg.deterministic:
        tf.keras.utils.set_random_seed(cfg.seed)
        tf.config.experimental.enable_op_determinism()
    return tf.distribute.get_strategy()


class StopSignal:
    """Turns SIGINT/SIGTERM into a flag the training loop checks after each step."""

    def __init__(self):
        self.signum = 0
        self._previous = {}

    def __enter__(self) -> "StopSignal":
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum, _frame) -> None:
        self.signum = signum

    def __exit__(self, *exc) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


@dataclasses.dataclass
class Run:
    """Everything the loop works with."""

    cfg: TrainConfig
    train: object
    val: object
    model: ResNet
    optimizer: tf.keras.optimizers.Optimizer
    state: tf.train.Checkpoint
    latest: tf.train.CheckpointManager
    best: tf.train.CheckpointManager
    total_steps: int
    strategy: tf.distribute.Strategy


def build_run(cfg: TrainConfig, train, val, strategy) -> Run:
    """Model, optimizer and checkpoint state, created in the strategy's scope."""
    per_epoch = steps_per_epoch(len(train), cfg.batch_size)
    if per_epoch == 0:
        raise ValueError(f"{cfg.train_csv} has {len(train)} usable images, fewer than one batch of {cfg.batch_size}")
    total_steps = cfg.max_steps or cfg.epochs * per_epoch
    with strategy.scope():
        model = ResNet(cfg.depth, cfg.num_classes, use_shortcut=cfg.use_shortcut, width=cfg.width, seed=cfg.seed,
                       compute_dtype=compute_dtype(cfg.precision))
        optimizer = make_optimizer(cfg, total_steps)
        optimizer.build(model.trainable_variables)
        state = training_state(model, optimizer)
    latest, best = managers(state, cfg.logdir, cfg.keep_checkpoints)
    return Run(cfg, train, val, model, optimizer, state, latest, best, total_steps, strategy)


def restore(run: Run) -> None:
    """Resume order: newest readable checkpoint of this run; else --init-from; else a fresh start."""
    path = restore_newest(run.state, run.latest, warn=log)
    step = int(run.state.step)
    if path:
        epoch = step // steps_per_epoch(len(run.train), run.cfg.batch_size)
        log(f"resuming from {path} at step {step}/{run.total_steps} (epoch {epoch + 1}), "
            f"best val accuracy so far {max(float(run.state.best_accuracy), 0):.4f}")
    elif run.cfg.init_from:
        log(init_model_from(run.model, run.cfg.init_from))
    else:
        log(f"starting a new run in {run.cfg.logdir}")


def evaluate(run: Run, predict, writer) -> dict:
    """Scores the whole validation CSV in inference mode, logs it, and keeps the best checkpoint."""
    pcfg = PipelineConfig(run.cfg.image_size, run.cfg.batch_size, False, run.cfg.seed, run.cfg.threads)
    preds = predict_table(predict, run.val, pcfg, desc="validation")
    mask = check_decoded(run.val, preds, run.cfg.skip_bad_rows)
    metrics = score(preds.logits, run.val.labels, run.cfg.loss, run.cfg.num_classes, mask)
    step = int(run.state.step)
    with writer.as_default(step=step):
        tf.summary.scalar("loss", metrics["loss"])
        tf.summary.scalar("accuracy", metrics["top1"])
        tf.summary.scalar("top5_accuracy", metrics["top5"])
    writer.flush()
    improved = metrics["top1"] > float(run.state.best_accuracy)
    if improved:
        run.state.best_accuracy.assign(metrics["top1"])
        save_checkpoint(run.best, run.state)
    log(f"step {step}: val loss {metrics['loss']:.4f}, accuracy {metrics['top1']:.4f}, top-5 {metrics['top5']:.4f} "
        f"({metrics['num_examples']} images){' (best so far)' if improved else ''}")
    return metrics


def report_bad_images(run: Run, batch) -> int:
    """Checks the batch's decode flags; stops (with a checkpoint) or counts, per --skip-bad-rows."""
    ok = np.concatenate([t.numpy() for t in run.strategy.experimental_local_results(batch["ok"])])
    if ok.all():
        return 0
    index = np.concatenate([t.numpy() for t in run.strategy.experimental_local_results(batch["index"])])
    paths = [run.train.paths[i] for i in index[~ok]]
    if not run.cfg.skip_bad_rows:
        save_checkpoint(run.latest, run.state)
        raise DataError([], hint=f"cannot decode training images at step {int(run.state.step)}: {', '.join(paths)}; "
                                 "checkpoint saved. Fix or remove them, or rerun with --skip-bad-rows.")
    for path in paths:
        log(f"skipping undecodable image {path}")
    return len(paths)


class Meter:
    """Training statistics between two summaries; images/s leaves out the first step of a process,
    which includes tracing the step function."""

    def __init__(self):
        self.skipped_images = 0
        self.nonfinite_steps = 0
        self.reset(time.perf_counter())

    def reset(self, now: float) -> None:
        """Starts a new summary interval at time ``now``."""
        self.sums, self.steps, self.timed_steps, self.tick = np.zeros(3), 0, 0, now

    def add(self, loss, correct, counted, finite: bool, first: bool) -> None:
        """Counts one step (its loss only if finite)."""
        if finite:
            self.sums += [float(loss), float(correct), float(counted)]
        self.steps += 1
        if first:
            self.tick, self.timed_steps = time.perf_counter(), 0
        else:
            self.timed_steps += 1

    def write(self, writer, step: int, lr: float, batch_size: int, log_nonfinite: bool) -> dict:
        """Writes the interval's averages to LOGDIR/train and starts a new interval."""
        now = time.perf_counter()
        loss, correct, counted = self.sums
        values = {"loss": loss / max(self.steps, 1), "accuracy": correct / max(counted, 1),
                  "images_per_sec": self.timed_steps * batch_size / max(now - self.tick, 1e-9), "learning_rate": lr}
        if log_nonfinite:
            values["skipped_nonfinite_steps"] = self.nonfinite_steps
        with writer.as_default(step=step):
            for name, value in values.items():
                tf.summary.scalar(name, value)
        self.reset(now)
        return values


def handle_nonfinite(run: Run, step: int, loss, meter: Meter) -> None:
    """Stops the run on a NaN/Inf step (nothing saved), or counts it with --skip-nonfinite."""
    if not run.cfg.skip_nonfinite:
        last = run.latest.latest_checkpoint or "none"
        raise FloatingPointError(f"loss or gradients became NaN/Inf at step {step + 1} (loss {float(loss)}); "
                                 f"stopped without saving. Last good checkpoint: {last}. Lower --lr, or "
                                 "pass --skip-nonfinite to skip such steps.")
    meter.nonfinite_steps += 1
    log(f"step {step + 1}: loss or gradients NaN/Inf, update skipped ({meter.nonfinite_steps} so far)")


def first_step_summaries(writer, batch, strategy, step: int, step_fn):
    """Runs the first step of a process while tracing it, and logs its graph and a few input images."""
    with writer.as_default(step=step):
        tf.summary.image("input_images", strategy.experimental_local_results(batch["image"])[0][:8], max_outputs=8)
    tf.summary.trace_on(graph=True, profiler=False)
    outputs = step_fn(batch)
    with writer.as_default(step=step):
        tf.summary.trace_export("train_step", step=step)
    return outputs


def train_loop(run: Run, stop: StopSignal) -> int:
    """The loop: step, log, validate, checkpoint; returns the process exit status."""
    cfg, strategy = run.cfg, run.strategy
    writers = {s: tf.summary.create_file_writer(os.path.join(cfg.logdir, s)) for s in ("train", "val")}
    weights = class_weight_vector(run.train.class_counts(), cfg.class_weights)
    step_fn = make_train_step(run.model, run.optimizer, cfg, weights, strategy)
    predict = make_predict_step(run.model, cfg.normalization, cfg.precision, cfg.jit)
    pcfg = PipelineConfig(cfg.image_size, cfg.batch_size // strategy.num_replicas_in_sync, cfg.augment, cfg.seed,
                          cfg.threads)
    start = int(run.state.step)
    dataset = strategy.distribute_datasets_from_function(
        lambda ctx: train_dataset(run.train, pcfg, start, ctx.num_input_pipelines, ctx.input_pipeline_id))
    meter = Meter()
    with tqdm(total=run.total_steps, initial=start, desc="train", unit="step", dynamic_ncols=True) as bar:
        for batch in dataset:
            step = int(run.state.step)
            if step >= run.total_steps or stop.signum:
                break
            if step == start:
                loss, correct, counted, finite = first_step_summaries(writers["train"], batch, strategy, step, step_fn)
            else:
                loss, correct, counted, finite = step_fn(batch)
            finite = bool(finite)
            if not finite:
                handle_nonfinite(run, step, loss, meter)
            meter.skipped_images += report_bad_images(run, batch)
            run.state.step.assign_add(1)
            step += 1
            meter.add(loss, correct, counted, finite, first=step == start + 1)
            bar.update(1)
            if step % cfg.log_every == 0 or step == run.total_steps:
                values = meter.write(writers["train"], step, float(run.optimizer.learning_rate), cfg.batch_size,
                                     cfg.skip_nonfinite)
                bar.set_postfix(loss=f"{values['loss']:.3f}", acc=f"{values['accuracy']:.3f}",
                                img_s=f"{values['images_per_sec']:.0f}")
            if step % cfg.eval_every == 0 or step == run.total_steps:
                evaluate(run, predict, writers["val"])
            if step % cfg.ckpt_every == 0 or step == run.total_steps:
                save_checkpoint(run.latest, run.state)
    for writer in writers.values():
        writer.flush()
    if meter.skipped_images:
        log(f"skipped {meter.skipped_images} undecodable training images")
    if meter.nonfinite_steps:
        log(f"skipped {meter.nonfinite_steps} steps with NaN/Inf loss or gradients")
    step = int(run.state.step)
    if step < run.total_steps:
        path = save_checkpoint(run.latest, run.state)
        log(f"interrupted by {signal.Signals(stop.signum).name} at step {step}: saved {path}; "
            "run the same command to resume")
        return EXIT_SIGNAL + stop.signum
    return 0


def print_final(run: Run) -> None:
    """Where to look next."""
    cfg = run.cfg
    log(f"done: {run.total_steps} steps, best val accuracy {float(run.state.best_accuracy):.4f} "
        f"(checkpoint in {os.path.join(cfg.logdir, 'best')})")
    log(f"  tensorboard --logdir {os.path.dirname(os.path.abspath(cfg.logdir))}")
    log(f"  python evaluate.py --logdir {cfg.logdir} --csv {cfg.val_csv}")


def run_training(given: dict) -> int:
    """Parses nothing: takes the options given, trains, returns the exit status."""
    cfg, saved = resolve_config(given)
    with RunLock(cfg.logdir):
        train, val = load_tables(cfg, saved)
        strategy = setup_runtime(cfg)
        run = build_run(cfg, train, val, strategy)
        log(f"{cfg.arch}{'' if cfg.use_shortcut else ' (no shortcut)'} width {cfg.width}, {cfg.num_classes} classes, "
            f"{cfg.image_size}px, batch {cfg.batch_size}, {run.total_steps} steps, {cfg.optimizer} lr {cfg.lr} "
            f"{cfg.lr_schedule}, {cfg.loss} loss, {cfg.precision}{', XLA' if cfg.jit else ''}; "
            f"{len(train)} train / {len(val)} val images; logdir {cfg.logdir}")
        print_class_counts(train, val)
        restore(run)
        run_config.save(cfg, train.mapping.to_json(), cfg.logdir)
        if int(run.state.step) >= run.total_steps:
            log(f"run complete: step {int(run.state.step)}/{run.total_steps}, best val accuracy "
                f"{float(run.state.best_accuracy):.4f}; nothing to do")
            return 0
        with StopSignal() as stop:
            status = train_loop(run, stop)
        if status == 0:
            print_final(run)
        return status


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command-line entry point; returns the exit status."""
    given, parser = run_config.parse(argv, __doc__)
    configure_threads()
    try:
        return run_training(given)
    except (DataError, ValueError, RunLocked, FileNotFoundError, FloatingPointError, CheckpointError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except (tf.errors.OpError, OSError) as err:  # a failed write of events or config: disk full, permissions
        detail = (getattr(err, "message", None) or str(err)).splitlines()[0][:300]
        print(f"error: input/output failure while training ({type(err).__name__}: {detail}); disk full or not "
              "writable? Earlier checkpoints are intact: fix it and rerun the same command to resume.", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
