"""The training and inference steps: one ``tf.function`` each, written for ``tf.distribute``.

The training step does forward pass, loss, gradients, optimizer update and (inside the model) the batch
norm updates. The loss of each replica is divided by the *global* batch size, so summing the replicas'
gradients gives the mean over the global batch, as ``tf.distribute`` expects.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import tensorflow as tf

from data_utils.images.normalization import normalize
from resnet_tf.losses import target_loss
from resnet_tf.mixing import mix_batch
from resnet_tf.model import ResNet
from resnet_tf.runs.choices import CLASS_WEIGHTS, OPTIMIZERS
from resnet_tf.runs.config import TrainConfig
from resnet_tf.training.averaging import WeightAverage
from resnet_tf.training.schedule import WarmupSchedule

# Steps from which the optimizer's update is compiled by XLA: its compilation is paid once and won back a
# little at every step, where the update's ~20 small ops per variable otherwise each cost a kernel launch;
# bench/RESULTS.md has the measured figures and the break-even they give.
COMPILED_UPDATE_FROM_STEPS = 500
# Parameters up to which the update is compiled: the compiled update writes the weights and the optimizer's
# slots into new buffers (XLA does not update them in place), a second copy of the optimizer state at the
# peak; above this size that copy costs more memory than the launches it saves are worth (bench/RESULTS.md).
COMPILED_UPDATE_MAX_PARAMETERS = 5_000_000


def compiled_update(cfg: TrainConfig, steps_left: int, replicas: int, parameters: int) -> bool:
    """Whether the step applies its update as one XLA computation: on one replica, without float16 loss
    scaling (which decides on the update itself), for runs long enough to win the compilation back and
    networks of up to ``COMPILED_UPDATE_MAX_PARAMETERS`` trained ``parameters``."""
    return (
        replicas == 1
        and cfg.runtime.precision != "mixed_float16"
        and steps_left >= COMPILED_UPDATE_FROM_STEPS
        and parameters <= COMPILED_UPDATE_MAX_PARAMETERS
    )


def trained_parameters(model: ResNet) -> int:
    """How many numbers the optimizer updates: the sizes of the network's trained variables."""
    return sum(int(np.prod(v.shape)) for v in model.trained_variables())


def class_weight_vector(counts: np.ndarray, mode: str) -> np.ndarray:
    """Per-class loss weights: all ones, or ``balanced`` (N / (C * count), 0 for absent classes)."""
    if mode == "none":
        return np.ones(len(counts), np.float32)
    if mode != "balanced":
        raise ValueError(f"class weights must be one of {CLASS_WEIGHTS}, got {mode!r}")
    present = counts > 0
    weights = np.zeros(len(counts), np.float32)
    weights[present] = counts.sum() / (present.sum() * counts[present])
    return weights


@dataclasses.dataclass(frozen=True)
class Distillation:
    """Learning without Forgetting's second loss (Li and Hoiem, 2016): the network is held to the outputs the
    ``teacher`` (the network as it was before the task, fixed) gives the same images, softened by
    ``temperature``, with ``weight`` beside the task's loss. A grown head is held on the teacher's classes.

    As in LwF, where a new task has outputs of its own, the task's loss is over ``task_classes`` (the classes
    of its images) when the head has others: in a class-incremental sequence the earlier classes' outputs are
    left to the distillation, not pushed down by every new image. None: over the whole head."""

    teacher: ResNet
    weight: float
    temperature: float
    task_classes: tuple[int, ...] | None = None

    def task_outputs(self, targets: tf.Tensor, logits: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """The targets and logits the task's own loss is computed on: their ``task_classes`` columns, or all of
        them when the task has every class of the head."""
        if self.task_classes is None or len(self.task_classes) == logits.shape[-1]:
            return targets, logits
        columns = tf.constant(self.task_classes)
        return tf.gather(targets, columns, axis=-1), tf.gather(logits, columns, axis=-1)

    def losses(self, images: tf.Tensor, logits: tf.Tensor) -> tf.Tensor:
        """Per example: ``T**2`` times the KL divergence from the teacher's softened outputs to the network's,
        over the teacher's classes (the ``T**2`` keeps the gradients' scale as ``T`` changes, as Hinton et al.)."""
        old = tf.stop_gradient(self.teacher(images, training=False)) / self.temperature
        new = logits[:, : self.teacher.num_classes] / self.temperature
        kl = tf.reduce_sum(tf.nn.softmax(old) * (tf.nn.log_softmax(old) - tf.nn.log_softmax(new)), -1)
        return self.temperature**2 * kl


def make_schedule(cfg: TrainConfig, total_steps: int | None) -> WarmupSchedule:
    """The run's learning-rate schedule over ``total_steps`` (None: a length not measured yet)."""
    return WarmupSchedule(cfg.optimization.lr, total_steps, cfg.optimization.lr_schedule, cfg.optimization.warmup_steps)


def make_optimizer(cfg: TrainConfig, schedule: WarmupSchedule | int | None) -> tf.keras.optimizers.Optimizer:
    """The optimizer following ``schedule`` (or :func:`make_schedule`'s over that many steps), wrapped for
    loss scaling under float16."""
    if not isinstance(schedule, WarmupSchedule):
        schedule = make_schedule(cfg, schedule)
    if cfg.optimization.optimizer == "adam":
        optimizer = tf.keras.optimizers.Adam(learning_rate=schedule)
    elif cfg.optimization.optimizer == "sgd":
        optimizer = tf.keras.optimizers.SGD(learning_rate=schedule, momentum=0.9, nesterov=True)
    else:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {cfg.optimization.optimizer!r}")
    if cfg.runtime.precision == "mixed_float16":
        optimizer = tf.keras.mixed_precision.LossScaleOptimizer(optimizer)
    return optimizer


def all_finite(grads: list, total: tf.Tensor) -> tf.Tensor:
    """Whether the loss ``total`` and every gradient are finite."""
    return tf.reduce_all([tf.reduce_all(tf.math.is_finite(g)) for g in grads] + [tf.math.is_finite(total)])


def apply_if_finite(optimizer: tf.keras.optimizers.Optimizer, grads: list, variables: list, finite: tf.Tensor) -> None:
    """Applies the update only if every replica's loss and gradients are finite.

    Called in a replica context. With several replicas the decision has to be taken in the cross-replica
    context, because an update synchronizes the replicas (the pattern of Keras' LossScaleOptimizer).
    """
    ctx = tf.distribute.get_replica_context()
    if ctx.num_replicas_in_sync == 1:

        def update() -> None:
            optimizer.apply_gradients(zip(grads, variables))

        tf.cond(finite, update, lambda: None)
        return
    everywhere = ctx.all_reduce(tf.distribute.ReduceOp.SUM, 1 - tf.cast(finite, tf.int32)) == 0

    def cross_replica(distribution, grads, everywhere):
        def update():
            distribution.extended.call_for_each_replica(
                lambda g: optimizer.apply_gradients(zip(g, variables)), args=(grads,)
            )

        tf.cond(distribution.experimental_local_results(everywhere)[0], update, lambda: None)

    ctx.merge_call(cross_replica, args=(grads, everywhere))


class TrainStep:
    """The training step of ``model`` (see :func:`make_train_step`), its parts as methods."""

    def __init__(
        self,
        model: ResNet,
        optimizer: tf.keras.optimizers.Optimizer,
        cfg: TrainConfig,
        class_weights: np.ndarray,
        strategy: tf.distribute.Strategy,
        average: WeightAverage | None,
        compile_update: bool = False,
        distillation: Distillation | None = None,
    ):
        self.model, self.optimizer, self.cfg, self.strategy, self.average = model, optimizer, cfg, strategy, average
        self.distillation = distillation
        self.weights_table = tf.constant(class_weights)
        self.kernels = model.kernels(trained_only=True)
        self.variables = model.trained_variables()
        self.update = (
            tf.function(self.update_if_finite, jit_compile=True, autograph=False)
            if compile_update
            else self.update_if_finite
        )
        if not optimizer.built:  # its slots made now, not while tracing (which would trace the step twice)
            optimizer.build(self.variables)

    def losses(self, batch: dict) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor, list]:
        """``(logits, data loss, loss with weight decay, gradients)`` of one replica's batch."""
        cfg = self.cfg
        images = normalize(batch["image"], cfg.data.normalization)  # the model casts after its stem
        images, targets = mix_batch(
            cfg.optimization.batch_augment,
            images,
            batch["label"],
            self.model.num_classes,
            cfg.optimization.mix_alpha,
            self.mix_seed(),
        )
        # a mixed example weighs as its labels do
        weights = tf.reduce_sum(targets * self.weights_table, -1) * tf.cast(batch["ok"], tf.float32)
        with tf.GradientTape() as tape:
            # --freeze-bn: batch norm as at inference (fixed statistics); everything else still trains
            logits = self.model(images, training=True, batch_statistics=not cfg.optimization.freeze_bn)
            task = (targets, logits) if self.distillation is None else self.distillation.task_outputs(targets, logits)
            losses = target_loss(*task, cfg.optimization.loss, cfg.optimization.label_smoothing)
            if self.distillation is not None:
                losses += self.distillation.weight * self.distillation.losses(images, logits)
            loss = tf.nn.compute_average_loss(losses, sample_weight=weights, global_batch_size=cfg.data.batch_size)
            total = loss
            if cfg.optimization.weight_decay:
                l2 = tf.add_n([tf.nn.l2_loss(k) for k in self.kernels])
                total += cfg.optimization.weight_decay * l2 / self.strategy.num_replicas_in_sync
            scaled = self.optimizer.scale_loss(total)
        # Biases in front of batch norm cancel in training: their gradient is exactly zero.
        grads = tape.gradient(scaled, self.variables, unconnected_gradients=tf.UnconnectedGradients.ZERO)
        return logits, loss, total, grads

    def mix_seed(self) -> tf.Tensor:
        """The seed of this step's batch mixing: the run's seed, the step, the replica."""
        replica = tf.distribute.get_replica_context()
        index = replica.replica_id_in_sync_group if replica is not None else 0
        step = tf.cast(self.optimizer.iterations, tf.int64)
        return tf.stack([tf.constant(self.cfg.run.seed, tf.int64), step * 1024 + tf.cast(index, tf.int64)])

    def update_if_finite(self, grads: list, total: tf.Tensor) -> tf.Tensor:
        """Applies the update if the loss and every gradient are finite (on every replica); returns whether.
        Under float16 loss scaling the optimizer unscales and skips non-finite steps itself."""
        if self.cfg.runtime.precision == "mixed_float16":
            self.optimizer.apply_gradients(zip(grads, self.variables))
            return tf.math.is_finite(total)
        finite = all_finite(grads, total)
        apply_if_finite(self.optimizer, grads, self.variables, finite)
        return finite

    def replica_step(self, batch: dict) -> tuple:
        """One replica's step: ``(loss, correct, counted, non-finite)``, the update applied if finite."""
        logits, loss, total, grads = self.losses(batch)
        finite = self.update(grads, total)
        if self.average is not None:
            self.average.update(self.optimizer.iterations)
        ok = tf.cast(batch["ok"], tf.float32)
        predicted = tf.argmax(logits, -1, output_type=tf.int32)
        correct = tf.reduce_sum(tf.cast(tf.equal(predicted, batch["label"]), tf.float32) * ok)
        return loss, correct, tf.reduce_sum(ok), 1 - tf.cast(finite, tf.int32)

    def function(self) -> Callable:
        """The step as one ``tf.function`` over all replicas."""
        # XLA compiles the per-replica computation; the cross-replica reduction stays outside it.
        compiled = tf.function(self.replica_step, jit_compile=True) if self.cfg.runtime.jit else self.replica_step
        strategy = self.strategy

        # autograph would rewrite every function the step calls, the network's included, and has nothing to
        # do in them (no Python control flow on tensors): without it the step traces in a fraction of the time.
        @tf.function(autograph=False)
        def step(batch):
            loss, correct, counted, nonfinite = strategy.run(compiled, args=(batch,))

            def total(v):
                return strategy.reduce(tf.distribute.ReduceOp.SUM, v, axis=None)

            return total(loss), total(correct), total(counted), total(nonfinite) == 0

        return step


def make_train_step(
    model: ResNet,
    optimizer: tf.keras.optimizers.Optimizer,
    cfg: TrainConfig,
    class_weights: np.ndarray,
    strategy: tf.distribute.Strategy,
    average: WeightAverage | None = None,
    compile_update: bool = False,
    distillation: Distillation | None = None,
) -> Callable:
    """Returns ``step(batch) -> (loss, correct, counted, finite)`` summed over replicas; ``loss`` is the
    data loss (label smoothing included, weight decay not), comparable with the validation loss.

    ``batch`` is a (distributed) element of :func:`data_utils.pipeline.train_dataset`. Examples whose image
    failed to decode (``ok`` False) get weight 0. ``finite`` is False when the loss or a gradient is NaN/Inf;
    the update is then not applied. The weight ``average``, if given, is updated after the optimizer. Frozen
    stages (``model.frozen_stages``) are neither updated nor decayed. ``compile_update`` (see
    :func:`compiled_update`) applies the update as one XLA computation. ``distillation`` adds Learning without
    Forgetting's loss (a task of a ``lwf`` sequence).
    """
    return TrainStep(model, optimizer, cfg, class_weights, strategy, average, compile_update, distillation).function()


def make_batch_norm_averager(model: ResNet, strategy: tf.distribute.Strategy) -> Callable[[], None]:
    """Returns ``average()``, which sets every replica's batch-norm moving statistics to their mean over all
    replicas (a no-op on one replica). Without --sync-bn each replica's statistics follow its own slice of
    the batch; averaged before each validation and checkpoint (as timm does), every replica then
    validates, and every checkpoint holds, the same network as one device would load."""
    moving = [v for v in model.variables if not v.trainable]
    if strategy.num_replicas_in_sync == 1:
        return lambda: None

    def replica_average():
        ctx = tf.distribute.get_replica_context()
        means = ctx.all_reduce(tf.distribute.ReduceOp.MEAN, [tf.identity(v) for v in moving])
        for variable, mean in zip(moving, means):
            variable.assign(mean)

    @tf.function(autograph=False)
    def average():
        strategy.run(replica_average)

    return average
