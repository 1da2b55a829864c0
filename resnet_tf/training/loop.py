"""The training loop: step, check, log, validate, checkpoint, and the decision to stop.

:class:`Trainer` owns what the loop works with besides the run (:class:`~resnet_tf.training.state.Run`):
the event files, the meter of the steps' outputs, the training and prediction steps, the progress bar, the
profiler and, on several workers, TensorFlow's preemption handler. Validation returns its metrics; the loop
itself decides when training ends, and says why in an :class:`Ending`, which :func:`exit_status` maps to
the process's exit status. A NaN/Inf step, an undecodable image and a lost worker end it with an error
instead (a :class:`~resnet_tf.console.errors.UserError`: status 2).
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterator

import tensorflow as tf
from tqdm import tqdm

from data_utils.errors import DataError, RowProblem
from data_utils.pipeline import train_dataset
from resnet_tf.console.logs import SUMMARY, progress_bars_on
from resnet_tf.evaluation.predictions import make_predict_step, undecodable
from resnet_tf.runs.builders import pipeline_settings
from resnet_tf.runs.config import TrainConfig
from resnet_tf.runs.placement import input_options
from resnet_tf.training.budget import TimeBudget, fix_length, second_window, validation_every
from resnet_tf.training.distribution import Interrupted, preemption_handler
from resnet_tf.training.ending import COMPLETED, EARLY_STOP, PEER_SIGNALLED, SIGNALLED, Ending, early_stop_due
from resnet_tf.training.events import EventLog, compared_settings
from resnet_tf.training.monitor import Meter, TrainingDiverged
from resnet_tf.training.profiling import StepProfiler
from resnet_tf.training.schedule import UNKNOWN_LENGTH
from resnet_tf.training.signals import StopSignal
from resnet_tf.training.state import Run
from resnet_tf.training.step import class_weight_vector, compiled_update, make_train_step, trained_parameters
from resnet_tf.training.validation import validate

LOG = logging.getLogger(__name__)


class Trainer:
    """Trains ``run`` until it ends (see :meth:`train`); ``stop`` is the stop-signal flag, ``profile`` the
    first and last step to trace. A run sized by its time budget (``budget``) fixes its length after its first
    steps and saves its configuration with it (``save_config``)."""

    def __init__(
        self,
        run: Run,
        stop: StopSignal,
        profile: tuple[int, int] | None = None,
        budget: TimeBudget | None = None,
        save_config: Callable[[TrainConfig], None] | None = None,
    ):
        cfg = run.cfg
        self.run, self.stop, self.budget, self.save_config = run, stop, budget, save_config
        self.events = EventLog(run.outdir)
        self.meter = Meter()
        weights = class_weight_vector(run.tables.train.class_counts(), cfg.optimization.class_weights)
        compile_update = compiled_update(
            cfg,
            (run.total_steps or UNKNOWN_LENGTH) - run.network.step,
            run.placement.replicas,
            trained_parameters(run.network.model),
        )
        self.step_fn = make_train_step(
            run.network.model,
            run.network.optimizer,
            cfg,
            weights,
            run.placement.strategy,
            run.network.average,
            compile_update,
            run.distillation,
        )
        self.predict = make_predict_step(
            run.network.validated, cfg.data.normalization, cfg.runtime.jit, test_time=cfg.data.tta
        )
        self.profiler = StepProfiler(profile, os.path.join(run.outdir, "train"))
        self.handler = preemption_handler(run.placement, lambda: bool(stop.signum), self._save_on_stop)
        self.saved_on_stop: list[str] = []
        self.bar: tqdm | None = None

    def train(self) -> Ending:
        """Runs the loop to its end. A stop signal ends it after a checkpoint; on several workers all of them
        stop at the same step (TF's preemption handler agrees on it), whichever worker received it."""
        run = self.run
        if run.placement.is_chief:
            self.events.hparams(compared_settings(run.cfg.options()))
        try:
            with tqdm(
                total=run.total_steps,
                initial=run.network.step,
                desc="train",
                unit="step",
                dynamic_ncols=True,
                disable=not progress_bars_on(),
            ) as self.bar:
                self._owed_validation()
                ending = self._steps()
        except Interrupted:
            return self._interrupted()
        finally:
            self.profiler.close()
        return self._finish(ending)

    def _owed_validation(self) -> None:
        """Validates at the step the run resumes from when a validation was due there and history.csv has no
        row for it: the run stopped in that validation (an undecodable image, a signal). One process only:
        on several workers the others cannot see the chief's history.csv, and all must validate together."""
        run, step = self.run, self.run.network.step
        if step == 0 or run.placement.num_workers > 1 or not self._due(step)["eval"]:
            return
        if not any(int(row["step"]) == step for row in run.history.rows()):
            LOG.info("step %d: validating first, as the interrupted run would have", step)
            with self.meter.paused():
                self.validate(step)

    def _dataset(self) -> tf.distribute.DistributedDataset:
        run, cfg = self.run, self.run.cfg
        settings = pipeline_settings(
            cfg, training=True, batch_size=run.placement.per_replica_batch(cfg.data.batch_size)
        )
        start = run.network.step
        return run.placement.strategy.distribute_datasets_from_function(
            lambda ctx: train_dataset(
                run.tables.train, settings, start, cfg.data.batch_size, ctx.num_input_pipelines, ctx.input_pipeline_id
            ),
            input_options(run.placement.strategy),
        )

    def _steps(self) -> Ending:
        """Steps until the run ends; returns why it ended."""
        run = self.run
        start = step = run.network.step
        local = run.placement.strategy.experimental_local_results
        for batch in self._dataset():
            if self.stop.signum and self.handler is None:
                return Ending(SIGNALLED, step, self.stop.signum)
            first = step == start
            with self.profiler.step(step + 1):
                outputs = self._first_step(batch, step) if first else self.step_fn(batch)
            run.network.state.step.assign_add(1)
            step += 1
            self.meter.add(step, outputs, local(batch["ok"]), local(batch["index"]))
            self.bar.update(1)
            self._at_boundaries(step, first)
            if self.budget is not None and self.budget.timing_starts(step):
                self._check_steps()  # the steps so far have run
                self.budget.start_timing()
            if self.budget is not None and self.budget.measuring(step):
                self._fix_length(step)
            if self.handler is not None:
                self.handler.save_checkpoint_if_preempted()
            if early_stop_due(run):
                return Ending(EARLY_STOP, step)
            if run.total_steps is not None and step >= run.total_steps:
                return Ending(COMPLETED, step)
        raise AssertionError("the training dataset is endless")

    def _first_step(self, batch: dict, step: int) -> tuple:
        """Runs the first step of a process while tracing it, and logs its graph and a few input images."""
        images = self.run.placement.strategy.experimental_local_results(batch["image"])[0][:8]
        with self.events.writing("train", step):
            tf.summary.image("training_inputs", images, max_outputs=8)  # sorted after the validation's images
        tf.summary.trace_on(graph=True, profiler=False)
        outputs = self.step_fn(batch)
        with self.events.writing("train", step):
            tf.summary.trace_export("train_step", step=step)
        return outputs

    def _due(self, step: int) -> dict[str, bool]:
        cfg, run = self.run.cfg, self.run
        every = {
            "log": cfg.run.log_every,
            "eval": validation_every(run),
            "ckpt": cfg.run.ckpt_every,
        }
        return {name: step % n == 0 or step == run.total_steps for name, n in every.items()}

    def _at_boundaries(self, step: int, first: bool) -> None:
        """After step ``step``: the checks, summary, validation and checkpoint that are due."""
        due = self._due(step)
        if first or any(due.values()):
            self._check_steps()
            if first:
                self.meter.restart_clock()  # images/s leaves out the step that traced the function
        if due["log"]:
            self._log_summary(step)
        with self._paused():  # images/s, and a budget's step time, measure training alone
            if due["eval"]:
                with self.budget.validation() if self.budget is not None else contextlib.nullcontext():
                    self.validate(step)
            if due["ckpt"]:
                self.run.save("latest")

    @contextlib.contextmanager
    def _paused(self) -> Iterator[None]:
        with self.meter.paused(), self.budget.paused() if self.budget is not None else contextlib.nullcontext():
            yield

    def _fix_length(self, step: int) -> None:
        """Sets a budgeted run's length after its timed steps (and a validation, timed now if none was made) and
        saves its configuration with it; or, after the first timed steps, sets the window timed next."""
        self._check_steps()  # the timed steps' outputs read: they have run
        if self.budget.validation_seconds is None:
            with self._paused(), self.budget.validation():
                self.validate(step)
        if second_window(self.run, self.budget, step):
            return
        self.bar.total = fix_length(self.run, self.budget, step)
        self.bar.refresh()
        if self.run.placement.is_chief and self.save_config is not None:
            self.save_config(self.run.cfg)

    def _log_summary(self, step: int) -> None:
        cfg = self.run.cfg
        values = self.meter.write(
            self.events,
            step,
            float(self.run.network.optimizer.learning_rate),
            cfg.data.batch_size,
            cfg.runtime.skip_nonfinite,
        )
        self.bar.set_postfix(
            loss=f"{values['loss']:.3f}", acc=f"{values['accuracy']:.3f}", img_s=f"{values['images_per_sec']:.0f}"
        )
        if self.bar.disable:  # no bar (output piped to a file, --quiet): one line per summary instead
            LOG.info(
                "step %d/%s: loss %.4f, accuracy %.4f, %.0f images/s, lr %.3g",
                step,
                self.run.total_steps or "?",
                values["loss"],
                values["accuracy"],
                values["images_per_sec"],
                values["learning_rate"],
            )

    def _check_steps(self) -> None:
        """Reads the steps since the last check. A NaN/Inf step stops the run without saving (or, with
        --skip-nonfinite, is counted: its update was not applied); an undecodable training image stops it
        with a checkpoint (or, with --skip-bad-rows, is counted: it had weight 0)."""
        run, meter = self.run, self.meter
        settled = meter.settle(run.cfg.data.batch_size)
        for number, loss in settled.nonfinite:
            if not run.cfg.runtime.skip_nonfinite:
                raise TrainingDiverged(
                    f"loss or gradients became NaN/Inf at step {number} (loss {loss}); stopped without saving. "
                    f"Last good checkpoint: {run.checkpoints.latest.latest_checkpoint or 'none'}. Lower --lr, or "
                    "pass --skip-nonfinite to skip such steps."
                )
            meter.nonfinite_steps += 1
            LOG.warning("step %d: loss or gradients NaN/Inf, update skipped (%d so far)", number, meter.nonfinite_steps)
        for number, rows in settled.undecodable:
            problems = undecodable(run.tables.train, rows) or [
                RowProblem(
                    run.cfg.data.train_csv,
                    0,
                    "",
                    "an image of another worker's share of the batch (named on its console)",
                )
            ]
            if not run.cfg.runtime.skip_bad_rows:
                path = run.save("latest")
                raise DataError(
                    problems,
                    hint=f"cannot decode training images at step {number}; checkpoint saved "
                    f"({path}). Fix or remove them, or rerun with --skip-bad-rows.",
                )
            for problem in problems:
                LOG.warning("skipping undecodable image %s", problem.path or problem.reason)
            meter.skipped_images += len(rows)

    def validate(self, step: int) -> dict:
        """Scores the validation CSV and records it (:func:`resnet_tf.training.validation.validate`)."""
        return validate(self.run, self.predict, self.events, self.meter, step)

    def _save_on_stop(self) -> None:
        self._check_steps()
        self.saved_on_stop.append(self.run.save("latest"))

    def _interrupted(self) -> Ending:
        """All workers stopped at one step after a stop signal on one of them, each having saved."""
        self.events.flush()
        step, chief = self.run.network.step, self.run.placement.is_chief
        signalled = bool(self.stop.signum)
        why = f"interrupted by {self.stop.name}" if signalled else "stopped with the worker that received a stop signal"
        LOG.info(
            "%s at step %d: %s; run the same command on every worker to resume",
            why,
            step,
            f"saved {self.saved_on_stop[-1]}" if chief else "the chief saved the checkpoint",
        )
        return Ending(SIGNALLED, step, self.stop.signum) if signalled else Ending(PEER_SIGNALLED, step)

    def _finish(self, ending: Ending) -> Ending:
        """After the loop: the last steps checked, warnings summed up, a checkpoint unless the last step saved."""
        self._check_steps()  # the steps of an interrupted interval
        self.events.flush()
        if self.meter.skipped_images:
            LOG.warning("skipped %d undecodable training images", self.meter.skipped_images)
        if self.meter.nonfinite_steps:
            LOG.warning("skipped %d steps with NaN/Inf loss or gradients", self.meter.nonfinite_steps)
        run = self.run
        if ending.reason == EARLY_STOP:
            path = run.save("latest")
            LOG.log(
                SUMMARY,
                "stopped early at step %d/%s: no better val accuracy in the last %d validations (best %.4f); saved %s",
                ending.step,
                run.total_steps or "?",
                run.cfg.optimization.early_stop_patience,
                run.network.best_accuracy,
                path,
            )
        elif ending.reason == SIGNALLED:
            path = run.save("latest")
            LOG.log(
                SUMMARY,
                "interrupted by %s at step %d: saved %s; run the same command to resume",
                self.stop.name,
                ending.step,
                path,
            )
        return ending
