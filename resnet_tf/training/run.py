"""The work behind ``train.py``, top to bottom: the configuration requested, the strategy started, the run
folder locked, the data read, the configuration settled, the network built and restored, the loop, the
last lines.

``train.py`` parses the command line without TensorFlow and calls :func:`run_training`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time

import tensorflow as tf

from data_utils.csv_table import ClassMapping
from resnet_tf.console import files
from resnet_tf.console.invocation import quoted, script_command, tool_command
from resnet_tf.console.logs import SUMMARY, add_log_file
from resnet_tf.console.options import duration_text, parse_duration
from resnet_tf.runs import config_file, settle
from resnet_tf.runs.checkpoints import BEST_FOLDER
from resnet_tf.runs.config import RunConfig, TrainConfig
from resnet_tf.runs.lock import run_lock
from resnet_tf.runs.placement import Placement, make_placement
from resnet_tf.runs.resume import has_checkpoints
from resnet_tf.training.budget import MEASURED_AFTER, SETTLING_SHARE, TimeBudget
from resnet_tf.training.data import load_tables, log_class_counts
from resnet_tf.training.distribution import LOST_WORKER_ERRORS, lost_peer, lost_worker, output_folder
from resnet_tf.training.ending import early_stop_due, exit_status
from resnet_tf.training.loop import Trainer
from resnet_tf.training.sequence import sequence_started, train_sequence
from resnet_tf.training.signals import StopSignal
from resnet_tf.training.state import Run, build_run, restore

LOG = logging.getLogger(__name__)
LOG_FILE = "train.log"  # everything the console shows (but progress bars), appended by every start of a run


def run_training(given: dict, profile: tuple[int, int] | None = None) -> int:
    """Takes the options given (parsed), trains (``profile``: the first and last step to trace), returns the
    exit status."""
    logdir = given.get("logdir", RunConfig.logdir)
    saved = config_file.load_saved(logdir)
    resuming = has_checkpoints(logdir) or sequence_started(logdir)
    request = settle.requested(given, saved, resuming)
    # first: a multi-worker strategy must start before other TF work
    placement = make_placement(request.runtime.strategy)
    placement.per_replica_batch(request.data.batch_size)
    placement.check_jit(request.runtime.jit)
    with output_folder(logdir, placement.is_chief) as outdir:
        with run_lock(logdir) if placement.is_chief else contextlib.nullcontext():
            add_log_file("train", os.path.join(outdir, LOG_FILE))
            requested = settle.requested_options(given, saved)
            if request.lifelong.tasks:
                return train_sequence(request, requested, saved if resuming else None, placement, profile)
            return train_in(request, requested, saved if resuming else None, placement, outdir, profile)


def train_in(
    request: TrainConfig,
    requested: dict,
    resumed: config_file.SavedConfig | None,
    placement: Placement,
    outdir: str,
    profile: tuple[int, int] | None = None,
) -> int:
    """Trains with this process's share of the work; writes to ``outdir`` (a trace of the ``profile`` steps
    too); returns the exit status. ``resumed``: the saved configuration of the run continued, or None."""
    started = time.monotonic()  # a --time-budget counts from here
    resumed_mapping = ClassMapping.from_json(resumed.classes) if resumed else None
    tables = load_tables(request, resumed_mapping, outdir)
    cfg = settle.settle(request, tables.train.mapping.num_classes)
    if cfg.runtime.deterministic:
        tf.keras.utils.set_random_seed(cfg.run.seed)
        tf.config.experimental.enable_op_determinism()
    run = build_run(cfg, tables, placement, outdir)
    log_start(run)
    restore(run)

    def save_config(settled: TrainConfig) -> None:
        config_file.save(settled.to_json(), tables.train.mapping.to_json(), requested, outdir)

    if placement.is_chief:
        save_config(cfg)
    if already_done(run):
        return 0
    budget = None
    if run.total_steps is None:
        budget = TimeBudget(parse_duration(cfg.optimization.time_budget), run.network.step, started)
    with StopSignal() as stop:
        try:
            ending = Trainer(run, stop, profile, budget, save_config).train()
        except LOST_WORKER_ERRORS as err:
            if placement.num_workers == 1 or not lost_peer(err):
                raise
            raise lost_worker(
                err, run.network.step, tf.train.latest_checkpoint(run.checkpoints.run_folder[0].directory)
            ) from None
    status = exit_status(ending)
    if status == 0 and placement.is_chief:
        log_final(run, time.monotonic() - started)
    elif status == 0:
        LOG.log(
            SUMMARY,
            "done: worker %d finished with the chief, which wrote the run to %s",
            placement.worker,
            cfg.run.logdir,
        )
    return status


def already_done(run: Run) -> bool:
    """Whether the run has nothing left to do: it stopped early, or it reached its last step (said so)."""
    network = run.network
    if early_stop_due(run):
        LOG.log(
            SUMMARY,
            "run complete: stopped early at step %d (no better val accuracy in %d validations), best val "
            "accuracy %.4f; nothing to do (a larger --early-stop-patience continues it)",
            network.step,
            int(network.state.stale_validations),
            network.best_accuracy,
        )
        return True
    if run.total_steps is not None and network.step >= run.total_steps:
        LOG.log(
            SUMMARY,
            "run complete: step %d/%d, best val accuracy %.4f; nothing to do",
            network.step,
            run.total_steps,
            network.best_accuracy,
        )
        return True
    return False


def log_final(run: Run, seconds: float) -> None:
    """The run's result, and where to look next: commands to paste, spelled as this process was started.
    ``seconds``: how long this start trained (said for a run sized by its time budget)."""
    cfg = run.cfg
    budget = cfg.optimization.time_budget
    LOG.log(
        SUMMARY,
        "done: %d steps%s, best val accuracy %.4f (checkpoint in %s)",
        run.network.step,
        f" in {duration_text(seconds)} (time budget {budget})" if budget else "",
        run.network.best_accuracy,
        os.path.join(cfg.run.logdir, BEST_FOLDER),
    )
    if files.in_process_memory(cfg.run.logdir):
        return  # nothing to open once this process has ended
    runs_folder = os.path.dirname(files.normalize(cfg.run.logdir)) or "."
    LOG.log(SUMMARY, "  %s", quoted(tool_command("tensorboard") + ["--logdir", runs_folder]))
    LOG.log(
        SUMMARY, "  %s", quoted(script_command("evaluate") + ["--logdir", cfg.run.logdir, "--csv", cfg.data.val_csv])
    )


def length_text(run: Run) -> str:
    """The run's length for its first line: its steps, and the time budget that set them."""
    budget = run.cfg.optimization.time_budget
    if run.total_steps is None:
        return f"{budget} time budget"
    return f"{run.total_steps} steps" + (f" (time budget {budget})" if budget else "")


def log_start(run: Run) -> None:
    """The run's first lines: network and recipe, where it trains, the data."""
    cfg = run.cfg
    extras = [
        ", XLA" * cfg.runtime.jit,
        ", zero-init residual" * cfg.network.zero_init_residual,
        ", frozen batch norm" * cfg.optimization.freeze_bn,
        ", synchronized batch norm" * cfg.runtime.sync_bn,
        f", weight average {cfg.optimization.ema_decay:g}" * bool(cfg.optimization.ema_decay),
        f", stem and {cfg.optimization.freeze_stages} stages frozen" * bool(cfg.optimization.freeze_stages),
        f", {cfg.optimization.batch_augment}" * (cfg.optimization.batch_augment != "none"),
        f", {cfg.data.tta} test-time augmentation" * (cfg.data.tta != "none"),
    ]
    LOG.info(
        "%s%s%s width %d, %s stem, %d classes, %dpx, %s augmentation, batch %d, %s, %s lr %g %s, "
        "%s loss, %s%s; %d train / %d val images; logdir %s",
        cfg.network.arch,
        "" if cfg.network.use_shortcut else " (no shortcut)",
        "" if cfg.network.layout == "standard" else f" ({cfg.network.layout} layout)",
        cfg.network.width,
        cfg.network.stem,
        cfg.network.num_classes,
        cfg.data.image_size,
        "no" if cfg.data.augment == "none" else cfg.data.augment,
        cfg.data.batch_size,
        length_text(run),
        cfg.optimization.optimizer,
        cfg.optimization.lr,
        cfg.optimization.lr_schedule,
        cfg.optimization.loss,
        cfg.runtime.precision,
        "".join(extras),
        len(run.tables.train),
        len(run.tables.val),
        cfg.run.logdir,
    )
    if files.in_process_memory(cfg.run.logdir):
        LOG.warning(
            "--logdir %s is in this process's memory (ram://): the run folder, its checkpoints and events are "
            "gone when the process ends; give a local folder or gs:// to keep them",
            cfg.run.logdir,
        )
    LOG.info("%s", run.placement.describe(cfg.data.batch_size))
    LOG.info("%s", run.network.model.kernel_policy.describe())
    log_class_counts(run.tables)
    log_length(run)


def log_length(run: Run) -> None:
    """What the first lines say of the run's length: a time budget's, or a warmup as long as the run."""
    cfg = run.cfg
    if run.total_steps is None:
        LOG.info(
            "time budget %s: the run's number of steps is set from the speed of its first steps (timed up to step "
            "%d, then over a later window within the budget's first %d%%); until then the learning rate stays at "
            "its peak",
            cfg.optimization.time_budget,
            MEASURED_AFTER,
            round(200 * SETTLING_SHARE),
        )
    elif cfg.optimization.warmup_steps >= run.total_steps:
        LOG.warning(
            "--warmup-steps %d is as long as the run's %d steps or longer: the learning rate never reaches --lr %g",
            cfg.optimization.warmup_steps,
            run.total_steps,
            cfg.optimization.lr,
        )
