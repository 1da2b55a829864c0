"""Tests of the training step: losses, class weights, precision and XLA options."""

import numpy as np
import pytest
import tensorflow as tf

from resnet_tf.convolutions import gpu_visible
from resnet_tf.evaluation.predictions import make_predict_step
from resnet_tf.model import ResNet
from resnet_tf.ops import ConvOp
from resnet_tf.runs.choices import compute_dtype
from resnet_tf.runs.config import TrainConfig
from resnet_tf.training.step import (
    COMPILED_UPDATE_FROM_STEPS,
    COMPILED_UPDATE_MAX_PARAMETERS,
    Distillation,
    class_weight_vector,
    compiled_update,
    make_optimizer,
    make_train_step,
    trained_parameters,
)


def test_balanced_class_weights():
    weights = class_weight_vector(np.array([30, 10, 0, 20]), "balanced")
    np.testing.assert_allclose(weights, [60 / 90, 60 / 30, 0, 60 / 60])
    np.testing.assert_array_equal(class_weight_vector(np.array([1, 2]), "none"), [1, 1])


def fixed_batch():
    rng = np.random.default_rng(0)
    return {
        "image": tf.constant(rng.integers(0, 256, (8, 32, 32, 3), dtype=np.uint8)),
        "label": tf.constant(np.arange(8) % 4, tf.int32),
        "index": tf.range(8),
        "ok": tf.ones([8], tf.bool),
    }


def losses_over_steps(precision: str, jit: bool, steps: int = 6) -> list:
    cfg = TrainConfig.from_options(
        arch="resnet10", width=8, batch_size=8, precision=precision, jit=jit, lr=3e-3, lr_schedule="constant"
    )
    model = ResNet("resnet10", 4, width=8, seed=0, compute_dtype=compute_dtype(precision))
    optimizer = make_optimizer(cfg, 100)
    step = make_train_step(model, optimizer, cfg, np.ones(4, np.float32), tf.distribute.get_strategy())
    batch = fixed_batch()
    return [float(step(batch)[0]) for _ in range(steps)]


@pytest.mark.parametrize("freeze_bn", [False, True])
def test_freeze_bn_keeps_the_statistics_and_trains_the_rest(freeze_bn):
    cfg = TrainConfig.from_options(
        arch="resnet10", width=4, batch_size=8, lr=1e-2, lr_schedule="constant", freeze_bn=freeze_bn
    )
    model = ResNet("resnet10", 4, width=4, seed=0)
    statistics = [v for v in model.variables if "moving_" in v.name]
    before = [v.numpy() for v in statistics]
    gamma = model.stem.conv.bn.gamma.numpy()
    step = make_train_step(model, make_optimizer(cfg, 100), cfg, np.ones(4, np.float32), tf.distribute.get_strategy())
    for _ in range(2):
        step(fixed_batch())
    unchanged = [np.array_equal(b, v.numpy()) for b, v in zip(before, statistics)]
    assert all(unchanged) if freeze_bn else not any(unchanged)
    assert not np.array_equal(gamma, model.stem.conv.bn.gamma.numpy())
    # frozen statistics or not, the convolutions are a training step's: padded strided ones (whose gradient
    # oneDNN computes), 1x1 ones as matrix products; never the inference form with explicit padding
    ops = step.get_concrete_function(fixed_batch()).graph.get_operations()
    paddings = {op.get_attr("padding") for op in ops if op.type == "Conv2D"}
    # the head: 1 MatMul forward, 2 backward; each 1x1 convolution's two gradients, where the device policy
    # computes them as matrix products (no GPU visible)
    pointwise = sum(1 for m in model.submodules if isinstance(m, ConvOp) and m.kernel_size == 1)
    matmuls = sum(1 for op in ops if op.type == "MatMul")
    assert b"EXPLICIT" not in paddings and matmuls == 3 + (0 if gpu_visible() else 2 * pointwise) and pointwise == 3


@pytest.mark.parametrize(
    "precision,jit",
    [
        ("float32", False),
        pytest.param("float32", True, marks=pytest.mark.slow),
        ("mixed_bfloat16", False),
        ("mixed_float16", False),
    ],
)
def test_loss_goes_down_in_every_precision_and_with_xla(precision, jit):
    losses = losses_over_steps(precision, jit)
    assert all(np.isfinite(losses)) and losses[-1] < 0.7 * losses[0], losses


@pytest.mark.parametrize("precision,tolerance", [("mixed_bfloat16", 0.1), ("mixed_float16", 0.02)])
def test_reduced_precision_outputs_close_to_float32(precision, tolerance):
    reference = ResNet("resnet10", 5, width=8, seed=1)
    reduced = ResNet("resnet10", 5, width=8, seed=1, compute_dtype=compute_dtype(precision))
    images = fixed_batch()["image"]
    expected = make_predict_step(reference, "imagenet")(images).numpy()
    actual = make_predict_step(reduced, "imagenet")(images).numpy()
    assert actual.dtype == np.float32
    np.testing.assert_allclose(actual, expected, atol=tolerance * np.abs(expected).max())
    xla = make_predict_step(reference, "imagenet", jit=True)(images).numpy()
    np.testing.assert_allclose(xla, expected, atol=1e-4)


def test_undecodable_examples_do_not_count():
    cfg = TrainConfig.from_options(arch="resnet10", width=4, batch_size=8)
    model = ResNet("resnet10", 4, width=4)
    step = make_train_step(model, make_optimizer(cfg, 10), cfg, np.ones(4, np.float32), tf.distribute.get_strategy())
    batch = dict(fixed_batch(), ok=tf.constant([True] * 5 + [False] * 3))
    _, _, counted, finite = step(batch)
    assert float(counted) == 5 and bool(finite)


def test_the_update_is_compiled_only_for_long_single_replica_runs_of_small_networks_without_loss_scaling():
    cfg = TrainConfig.from_options(arch="resnet18", width=4)
    small = trained_parameters(ResNet("resnet18", 10, width=4))
    assert small < COMPILED_UPDATE_MAX_PARAMETERS < trained_parameters(ResNet("resnet50", 1000))
    assert compiled_update(cfg, COMPILED_UPDATE_FROM_STEPS, 1, small)
    assert not compiled_update(cfg, COMPILED_UPDATE_FROM_STEPS - 1, 1, small)
    assert not compiled_update(cfg, 10**6, 2, small)
    assert not compiled_update(TrainConfig.from_options(precision="mixed_float16"), 10**6, 1, small)
    assert not compiled_update(cfg, 10**6, 1, COMPILED_UPDATE_MAX_PARAMETERS + 1)  # its second copy: bench/RESULTS.md


@pytest.mark.slow  # XLA's compilation
@pytest.mark.parametrize("optimizer,precision", [("adam", "float32"), ("sgd", "mixed_bfloat16")])
def test_the_compiled_update_is_the_same_update_and_skips_non_finite_steps(optimizer, precision):
    cfg = TrainConfig.from_options(
        arch="resnet10",
        width=4,
        batch_size=8,
        optimizer=optimizer,
        precision=precision,
        lr=1e-3,
        lr_schedule="constant",
    )
    runs = {}
    for compiled in (False, True):
        model = ResNet("resnet10", 4, width=4, seed=0, compute_dtype=compute_dtype(precision))
        opt = make_optimizer(cfg, 100)
        step = make_train_step(
            model, opt, cfg, np.ones(4, np.float32), tf.distribute.get_strategy(), compile_update=compiled
        )
        losses = [float(step(fixed_batch())[0]) for _ in range(3)]
        runs[compiled] = model, opt, step, losses
    (plain, _, _, plain_losses), (ours, opt, step, losses) = runs[False], runs[True]
    np.testing.assert_allclose(losses, plain_losses, rtol=1e-3)
    # Three updates of about lr each: the same update in another order of float32 operations differs by a
    # few ulps of the weights; a missing or doubled update would differ by ~lr.
    for a, b in zip(plain.trainable_variables, ours.trainable_variables):
        np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=0, atol=1e-5)
    assert int(opt.iterations) == 3

    ours.logits.b.assign(tf.fill(ours.logits.b.shape, np.nan))  # every logit NaN: a non-finite loss and gradients
    before = [v.numpy() for v in ours.trainable_variables]
    assert not bool(step(fixed_batch())[3])
    assert int(opt.iterations) == 3
    for b, v in zip(before, ours.trainable_variables):
        np.testing.assert_array_equal(v.numpy(), b)  # nothing written: the same bits


def test_a_mixed_batch_trains_and_its_loss_is_that_of_soft_labels():
    # one kind here (the mixing itself is tested kind by kind in test_mixing.py): the step's part is the same
    cfg = TrainConfig.from_options(
        arch="resnet10", width=4, batch_size=8, lr=1e-2, lr_schedule="constant", batch_augment="cutmix"
    )
    plain = TrainConfig.from_options(arch="resnet10", width=4, batch_size=8, lr=1e-2, lr_schedule="constant")
    losses = {}
    for name, config in (("mixed", cfg), ("plain", plain)):
        model = ResNet("resnet10", 4, width=4, seed=0)
        step = make_train_step(
            model, make_optimizer(config, 100), config, np.ones(4, np.float32), tf.distribute.get_strategy()
        )
        losses[name] = [float(step(fixed_batch())[0]) for _ in range(3)]
    assert all(np.isfinite(losses["mixed"])) and losses["mixed"][0] != losses["plain"][0]  # other targets, same net


def test_distillation_is_zero_on_the_teachers_own_outputs_and_the_kl_divergence_otherwise():
    teacher = ResNet("resnet10", 3, width=4, seed=1, stem="standard")
    distillation = Distillation(teacher, weight=1.0, temperature=2.0)
    images = tf.random.stateless_uniform([4, 32, 32, 3], [0, 2])
    own = teacher(images, training=False)
    grown = tf.concat([own, tf.fill([4, 2], 5.0)], -1)  # the teacher's classes, and two new ones
    np.testing.assert_allclose(distillation.losses(images, grown), np.zeros(4), atol=1e-5)
    student = tf.constant(np.random.default_rng(0).normal(size=(4, 5)), tf.float32)
    p = tf.nn.softmax(own / 2.0).numpy()
    log_q = tf.nn.log_softmax(student[:, :3] / 2.0).numpy()
    expected = 4.0 * np.sum(p * (np.log(p) - log_q), -1)
    np.testing.assert_allclose(distillation.losses(images, student), expected, rtol=1e-4)


def test_a_step_with_distillation_adds_its_loss_to_the_tasks_and_trains():
    model = ResNet("resnet10", 4, width=4, seed=0, stem="standard")
    teacher = ResNet("resnet10", 2, width=4, seed=3, stem="standard")
    cfg = TrainConfig.from_options(batch_size=8, image_size=32, num_classes=4, label_smoothing=0.0)
    optimizer = make_optimizer(cfg, 10)
    strategy = tf.distribute.get_strategy()
    plain = make_train_step(model, optimizer, cfg, np.ones(4, np.float32), strategy)
    distilled = make_train_step(
        model, optimizer, cfg, np.ones(4, np.float32), strategy, distillation=Distillation(teacher, 10.0, 2.0)
    )
    batch = fixed_batch()
    weights = [v.numpy() for v in model.variables]
    loss_plain = float(plain(batch)[0])
    for variable, value in zip(model.variables, weights):  # the same network, the same batch
        variable.assign(value)
    optimizer.iterations.assign(0)
    loss_distilled = float(distilled(batch)[0])
    assert loss_distilled > loss_plain + 0.01  # the second loss counts, ten times over


@pytest.mark.parametrize("task_classes", [(2, 3), None])
def test_a_class_incremental_tasks_loss_leaves_the_earlier_classes_outputs_to_distillation(task_classes):
    model = ResNet("resnet10", 4, width=4, seed=0, stem="standard")
    teacher = ResNet("resnet10", 2, width=4, seed=3, stem="standard")
    cfg = TrainConfig.from_options(batch_size=8, image_size=32, num_classes=4, label_smoothing=0.0, weight_decay=0.0)
    distillation = Distillation(teacher, 0.0, 2.0, task_classes)  # weight 0: the task's loss alone
    step = make_train_step(
        model,
        make_optimizer(cfg, 10),
        cfg,
        np.ones(4, np.float32),
        tf.distribute.get_strategy(),
        distillation=distillation,
    )
    head = [model.logits.w.numpy(), model.logits.b.numpy()]
    step({**fixed_batch(), "label": tf.constant(2 + np.arange(8) % 2, tf.int32)})  # the task's classes: 2 and 3
    earlier_kept = [
        np.array_equal(before[..., :2], after.numpy()[..., :2])
        for before, after in zip(head, (model.logits.w, model.logits.b))
    ]
    assert not np.array_equal(head[0][:, 2:], model.logits.w.numpy()[:, 2:])  # the task's own outputs learn
    # over the task's classes, the earlier ones are untouched; over the whole head, each image pushes them down
    assert earlier_kept == ([True, True] if task_classes else [False, False])


def test_a_task_with_every_class_of_the_head_has_its_loss_over_them_all():
    teacher = ResNet("resnet10", 3, width=4, seed=1, stem="standard")
    targets, logits = tf.eye(3)[:2], tf.constant([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert Distillation(teacher, 1.0, 2.0, (0, 1, 2)).task_outputs(targets, logits) == (targets, logits)
    own = Distillation(teacher, 1.0, 2.0, (2,)).task_outputs(targets, logits)
    assert [t.numpy().tolist() for t in own] == [[[0.0], [0.0]], [[3.0], [6.0]]]
